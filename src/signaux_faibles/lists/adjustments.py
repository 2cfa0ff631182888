"""Expert adjustments ("redressements", ``real_system.md`` §4): rules that move a company's alert level by one step.

Each rule is switchable (``signaux-faibles score --adjustments urssaf_2021,tailoring_2022``; none by default, as
the real system since 2024), traced on the row (``alert_pre_adjustment`` and the list of signals triggered, in
``adjustments``) and counted in the list's summary, so the pure model stays evaluable.

- ``urssaf_2021`` (PSF ``redressements.py``): ``delta_dette = (dette_now − dette_ref) / cotisation_moy12m`` with
  the reference 12 months earlier (the real rule used July 2020, before the COVID debts); above 0.2 the level goes
  up one step.
- ``tailoring_2022`` (SFDL-2022): a counter bounded to [−1, +1] moves the level: −1 when a significant URSSAF debt
  of the past year (12–24 months ago, > 10 % of a year of cotisations) has been paid off (latest 3 months below
  10 % of its peak); +1 when the debt rose over the last 3 months by more than 10 % of a year of cotisations and
  URSSAF is not the dominant theme of the explanation; +1 for long activité partielle (authorised in at least 8 of
  the last 12 months, about 240 days, covering more than half of the staff in one month); financial conditions
  (DIANE: endettement / CAF ≥ 4, EBE < 0, negative equity ratio): two give +1, three +2, before the bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from signaux_faibles.contract import ALERT_HIGH, ALERT_MODERATE, ALERT_NONE

__all__ = ["ADJUSTMENTS", "apply_adjustments", "count_moves", "debt_by_month"]

ADJUSTMENTS = {
    "urssaf_2021": "règle URSSAF 2021 : hausse de la dette depuis la référence > 20 % des cotisations annuelles",
    "tailoring_2022": "règles 2022 : dette remboursée, hausse récente de la dette, activité partielle longue, "
    "conditions financières",
}
_LEVELS = (ALERT_NONE, ALERT_MODERATE, ALERT_HIGH)


def debt_by_month(panel: pd.DataFrame, sirens: pd.Series, month: pd.Period, months: int) -> pd.DataFrame:
    """URSSAF debt (both parts) per SIREN (rows, in ``sirens`` order) and month offset 0..months-1 before
    ``month`` (columns); missing months are NaN. Shared by the list's flags and the adjustments."""
    cols = ["siren", "periode", "montant_part_ouvriere", "montant_part_patronale"]
    win = panel.loc[
        (panel.periode > month - months) & (panel.periode <= month) & panel.siren.isin(set(sirens)), cols
    ]
    d = win.assign(
        k=month.ordinal - win.periode.array.asi8,
        dette=win.montant_part_ouvriere.fillna(0) + win.montant_part_patronale.fillna(0),
    )
    wide = d.pivot_table(index="siren", columns="k", values="dette", aggfunc="sum")
    return wide.reindex(index=sirens.to_numpy(), columns=range(months))


def _col(rows: pd.DataFrame, name: str) -> pd.Series:
    return rows[name].astype(float) if name in rows.columns else pd.Series(np.nan, index=rows.index)


def _urssaf_2021(rows: pd.DataFrame, debt: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    coti = _col(rows, "cotisation_moy12m").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (debt[0].to_numpy() - np.nan_to_num(debt[12].to_numpy())) / coti
    up = np.nan_to_num(delta) > 0.2
    return up.astype(int), ["hausse de la dette URSSAF depuis 12 mois > 20 % des cotisations (+1)"] * len(
        rows
    )


def _tailoring_2022(
    rows: pd.DataFrame,
    debt: pd.DataFrame,
    dominant: Callable[[np.ndarray], np.ndarray],
    ap_months: np.ndarray,
) -> tuple[np.ndarray, list[list[str]]]:
    year = 12 * _col(rows, "cotisation_moy12m").fillna(0).to_numpy()
    old = debt[list(range(12, 24))].max(axis=1).fillna(0).to_numpy()
    recent = debt[[0, 1, 2]].min(axis=1).fillna(0).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        paid_off = (year > 0) & (old > 0.1 * year) & (recent / np.where(old > 0, old, np.nan) < 0.1)
    rise = np.nan_to_num(debt[0].to_numpy() - debt[3].to_numpy())
    rising = (year > 0) & (rise > 0.1 * year)
    candidates = np.flatnonzero(rising)
    rising[candidates] = dominant(candidates) != "dette URSSAF"
    long_ap = ap_months >= 8
    endet = _col(rows, "diane_endettement").to_numpy()
    caf = _col(rows, "diane_capacite_autofinancement").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        c1 = np.nan_to_num(np.where(caf > 0, endet / caf, np.nan)) >= 4
    c2 = np.nan_to_num(_col(rows, "diane_excedent_brut_d_exploitation").to_numpy(), nan=1.0) < 0
    c3 = np.nan_to_num(_col(rows, "diane_autonomie_financiere").to_numpy(), nan=1.0) < 0
    n_fin = c1.astype(int) + c2.astype(int) + c3.astype(int)
    fin = np.where(n_fin >= 3, 2, np.where(n_fin == 2, 1, 0))
    counter = np.clip(-paid_off.astype(int) + rising.astype(int) + long_ap.astype(int) + fin, -1, 1)
    reasons: list[list[str]] = []
    for i in range(len(rows)):
        r = []
        if paid_off[i]:
            r.append("dette URSSAF significative remboursée (−1)")
        if rising[i]:
            r.append("hausse récente de la dette URSSAF (+1)")
        if long_ap[i]:
            r.append("activité partielle longue (+1)")
        if fin[i]:
            r.append(f"conditions financières dégradées ({n_fin[i]} sur 3, +{fin[i]})")
        reasons.append(r)
    return counter, reasons


def apply_adjustments(
    out: pd.DataFrame,
    rows: pd.DataFrame,
    panel: pd.DataFrame,
    month: pd.Period,
    names: Sequence[str],
    debt: pd.DataFrame,
    dominant: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, list[list[str]], dict[str, np.ndarray]]:
    """Apply the rules ``names`` in order to ``out.alert_pre_adjustment``; return the adjusted levels, the
    signals triggered per row, and per rule its move per row (−1, 0 or +1: :func:`count_moves` counts the
    companies raised and lowered; rows are scored by chunks, counted once all are done). ``debt`` is
    :func:`debt_by_month` over the last 24 months for the rows' SIRENs; ``dominant(idx)`` gives
    the theme pushing the risk up most for rows ``idx`` (explanations are computed only where a rule needs them)."""
    level = out.alert_pre_adjustment.map({a: i for i, a in enumerate(_LEVELS)}).to_numpy().astype(int)
    triggered: list[list[str]] = [[] for _ in range(len(out))]
    moves: dict[str, np.ndarray] = {}
    if not names:
        return out.alert_pre_adjustment.to_numpy(), triggered, moves
    sirens = rows.siren.astype(str)
    ap_win = panel.loc[
        (panel.periode > month - 12) & (panel.periode <= month),
        ["siren", "apart_heures_autorisees", "ratio_apart"],
    ]
    ap_counts = ap_win[ap_win.apart_heures_autorisees.fillna(0) > 0].groupby("siren").size()
    half_staff = ap_win[ap_win.ratio_apart.fillna(0) > 0.5].siren.unique()
    ap_months = np.where(sirens.isin(half_staff), sirens.map(ap_counts).fillna(0).to_numpy(), 0)
    for name in names:
        if name == "urssaf_2021":
            step, why = _urssaf_2021(rows, debt)
            reasons = [[w] if s else [] for s, w in zip(step, why, strict=True)]
        elif name == "tailoring_2022":
            step, reasons = _tailoring_2022(rows, debt, dominant, ap_months)
        else:  # pragma: no cover - checked by the caller
            raise ValueError(name)
        new = np.clip(level + step, 0, 2)
        moves[name] = np.sign(new - level).astype(np.int8)
        for i in np.flatnonzero(new != level):
            triggered[i].extend(f"{name}: {r}" for r in reasons[i])
        level = new
    return np.asarray([_LEVELS[i] for i in level], dtype=object), triggered, moves


def count_moves(moves: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per rule, the number of companies it raised and lowered, from the ``_adj_<rule>`` columns of the list."""
    return {
        str(c)[len("_adj_") :]: {"raised": int((moves[c] > 0).sum()), "lowered": int((moves[c] < 0).sum())}
        for c in moves.columns
        if str(c).startswith("_adj_")
    }
