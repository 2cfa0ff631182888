"""Suggested support: from a company's explanation and flags, the measures most likely to help.

Each suggestion names the signal that suggests it and, where a what-if lever applies, how much the probability
would move (``what_if[theme] - probability``, negative = lower risk). The rules follow the partners' practice:

- URSSAF debt (theme "dette URSSAF" pushing the risk up, or a debt, rising) → délai de paiement URSSAF, plan CCSF;
- long activité partielle (theme "activité partielle", or AP in the last 12 months) → FNE-Formation;
- financial strain (themes "santé financière", "retards de paiement") → médiation du crédit, CODEFI, conciliation;
- on the DGFiP/CODEFI list → orientation CODEFI.

Suggestions derive from confidential data (score, URSSAF, DGEFP): the caller shows them only to actors allowed to
see the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import MEASURES

__all__ = ["Suggestion", "suggest"]

#: Contribution (probability points) above which a theme counts as pushing the risk up.
MIN_CONTRIBUTION = 0.005


@dataclass(frozen=True)
class Suggestion:
    measure: str
    label: str
    signal: str
    delta: float | None  # what-if change of the probability (negative: lower risk), when a lever applies

    def as_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "label": self.label, "signal": self.signal, "delta": self.delta}


def _pts(x: float) -> str:
    return f"{x * 100:+.1f} pts".replace(".", ",")


def suggest(score: dict[str, Any] | None, flags: dict[str, Any] | None = None) -> list[Suggestion]:
    """Suggestions for a company from its latest score row (``macro_expl``, ``what_if``, ``probability``) and flags
    (``dette_urssaf``, ``hausse_urssaf``, ``ap_12m``, ``codefi``); the strongest signal first."""
    if not score:
        return []
    flags = flags or {}
    macro = score.get("macro_expl") or {}
    what_if = score.get("what_if") or {}
    p = float(score.get("probability") or 0.0)
    out: list[tuple[float, Suggestion]] = []

    def lever(theme: str) -> float | None:
        v = what_if.get(theme)
        return None if v is None else float(v) - p

    def add(measures: tuple[str, ...], weight: float, signal: str, delta: float | None) -> None:
        for m in measures:
            out.append((weight, Suggestion(m, MEASURES[m], signal, delta)))

    debt_theme = float(macro.get("dette URSSAF") or 0.0)
    debt = flags.get("dette_urssaf")
    if debt_theme > MIN_CONTRIBUTION or (debt is not None and debt > 0) or flags.get("hausse_urssaf"):
        parts = []
        if debt_theme > MIN_CONTRIBUTION:
            parts.append(f"la dette URSSAF pèse {_pts(debt_theme)} sur le risque")
        if debt:
            parts.append(
                f"dette de {debt:,.0f} €".replace(",", " ")
                + (" en hausse" if flags.get("hausse_urssaf") else "")
            )
        elif flags.get("hausse_urssaf"):
            parts.append("dette URSSAF en hausse")
        add(("delai_urssaf", "ccsf"), max(debt_theme, 0.001), " ; ".join(parts), lever("dette URSSAF"))
    ap_theme = float(macro.get("activité partielle") or 0.0)
    if ap_theme > MIN_CONTRIBUTION or flags.get("ap_12m"):
        signal = (
            f"l'activité partielle pèse {_pts(ap_theme)} sur le risque"
            if ap_theme > MIN_CONTRIBUTION
            else "activité partielle au cours des 12 derniers mois"
        )
        add(("fne_formation",), max(ap_theme, 0.0005), signal, lever("activité partielle"))
    fin = float(macro.get("santé financière") or 0.0)
    late = float(macro.get("retards de paiement") or 0.0)
    if fin > MIN_CONTRIBUTION or late > MIN_CONTRIBUTION:
        parts = []
        if fin > MIN_CONTRIBUTION:
            parts.append(f"santé financière {_pts(fin)}")
        if late > MIN_CONTRIBUTION:
            parts.append(f"retards de paiement {_pts(late)}")
        signal = "tensions financières : " + ", ".join(parts)
        add(("mediation_credit",), fin + late, signal, lever("retards de paiement"))
        add(("codefi", "conciliation"), (fin + late) * 0.9, signal, None)
    if flags.get("codefi") and not any(s.measure == "codefi" for _, s in out):
        add(("codefi",), 0.0004, "entreprise signalée par la DGFiP (liste CODEFI)", None)
    out.sort(key=lambda t: -t[0])
    seen: set[str] = set()
    result = []
    for _, s in out:
        if s.measure not in seen:
            seen.add(s.measure)
            result.append(s)
    return result
