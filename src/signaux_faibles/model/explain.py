"""Explanations an agent can act on: micro and macro contributions, the waterfall, and what-if levers.

- **contributions**: log-odds contributions per feature (TreeSHAP ``pred_contrib`` for LightGBM, the exact linear
  decomposition for the logistic model), rows summing to the model's margin (``FailureModel.contributions``);
- **micro**: lagged and windowed variants summed back to their base feature (``effectif_past_12`` → ``effectif``);
- **macro**: features summed by theme (santé financière, dette URSSAF, activité partielle, retards de paiement,
  emploi, autres);
- **waterfall**: the contributions rescaled so that, starting from the probability of the average company (the
  calibrated probability at the bias), the themes add up exactly to the displayed probability; each theme's micro
  contributions are rescaled the same way, so they add up to their theme;
- **what-if levers**: the displayed probability recomputed with one actionable theme neutralised (URSSAF debt
  settled, activité partielle ended, supplier payment delays caught up). A lever only changes the values that
  show the problem (a company without URSSAF debt is left as it is, so its probability does not move).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from signaux_faibles.contract import THEMES

from .artefact import FailureModel, sigmoid
from .dataset import base_feature

__all__ = [
    "LEVERS",
    "Lever",
    "macro",
    "micro",
    "micro_themes",
    "top_reasons",
    "waterfall",
    "what_if",
]



def micro(model: FailureModel, contrib: pd.DataFrame) -> pd.DataFrame:
    """Contributions summed per base feature (the ``bias`` column is dropped)."""
    feats = contrib.drop(columns="bias")
    return feats.T.groupby([base_feature(c) for c in feats.columns], sort=False).sum().T


def micro_themes(model: FailureModel) -> dict[str, str]:
    """Base feature → theme (the theme of its variants, which share one)."""
    return {base_feature(f): model.groups.get(f, "autres") for f in reversed(model.features)}


def macro(model: FailureModel, contrib: pd.DataFrame) -> pd.DataFrame:
    """Contributions summed per theme, in ``THEMES`` order (themes without features are 0)."""
    feats = contrib.drop(columns="bias")
    themes = [model.groups.get(c, "autres") for c in feats.columns]
    out = feats.T.groupby(themes, sort=False).sum().T
    return out.reindex(columns=list(THEMES), fill_value=0.0)


def _scale(model: FailureModel, contrib: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per row: the base probability, the displayed probability, and the factor turning log-odds into the
    probability scale so that contributions add up to ``p - p0``."""
    margin = contrib.sum(axis=1)
    bias = contrib["bias"]
    p = pd.Series(model.calibrator.transform(sigmoid(margin.to_numpy())), index=contrib.index)
    p0 = pd.Series(model.calibrator.transform(sigmoid(bias.to_numpy())), index=contrib.index)
    total = margin - bias
    factor = ((p - p0) / total.where(total.abs() > 1e-12)).fillna(0.0)
    return p0, p, factor


def waterfall(
    model: FailureModel, contrib: pd.DataFrame, signal_fort: np.ndarray | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Macro and micro contributions on the probability scale.

    Returns ``(macro, micro)``: ``macro`` has a column ``base`` (probability of the average company), one column
    per theme and ``probability`` (displayed), with ``base + Σ themes == probability``; ``micro`` has one column
    per base feature, summing per theme to the macro value. For a "signal fort" (``signal_fort`` true: already in
    collective proceedings, probability 1), the whole difference is the proceedings (``etat_proc_collective``).
    """
    p0, p, factor = _scale(model, contrib)
    mac = macro(model, contrib).mul(factor, axis=0)
    mic = micro(model, contrib).mul(factor, axis=0)
    if signal_fort is not None and np.any(signal_fort):
        sf = np.asarray(signal_fort, dtype=bool)
        p = p.where(~sf, 1.0)
        mac.loc[sf, :] = 0.0
        mic.loc[sf, :] = 0.0
        theme = model.groups.get("etat_proc_collective", "autres")
        mac.loc[sf, theme] = 1.0 - p0[sf]
        mic.loc[sf, "etat_proc_collective"] = 1.0 - p0[sf]
    mac.insert(0, "base", p0)
    mac["probability"] = p
    return mac, mic


def top_reasons(mic: pd.DataFrame, groups: dict[str, str], n: int = 3) -> list[list[tuple[str, str, float]]]:
    """Per row, the ``n`` base features pushing the probability up most: ``(feature, theme, contribution)``."""
    out: list[list[tuple[str, str, float]]] = []
    values = mic.to_numpy()
    cols = list(mic.columns)
    for row in values:
        order = np.argsort(-row, kind="stable")[:n]
        out.append([(cols[i], groups.get(cols[i], "autres"), float(row[i])) for i in order if row[i] > 0])
    return out


@dataclass(frozen=True)
class Lever:
    """An actionable support and how it changes a company's panel row."""

    name: str  # French, shown to agents
    theme: str
    apply: Callable[[pd.DataFrame], pd.DataFrame]


def _zero_where_positive(df: pd.DataFrame, cols: list[str], when: pd.Series) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        if c in out.columns:
            out[c] = out[c].where(~when | out[c].isna(), 0.0 if out[c].dtype != object else False)
    return out


def _settle_urssaf_debt(df: pd.DataFrame) -> pd.DataFrame:
    zero = pd.Series(0.0, index=df.index)
    parts = [
        df[c].fillna(0) if c in df.columns else zero
        for c in ("montant_part_ouvriere", "montant_part_patronale")
    ]
    ratio = df["ratio_dette"].fillna(0) if "ratio_dette" in df.columns else zero
    debt = ((parts[0] + parts[1]) > 0) | (ratio > 0)
    cols = ["montant_part_ouvriere", "montant_part_patronale", "ratio_dette", "dette_par_effectif",
            "dette_par_effectif_diff_3m", "tag_debit", "tag_default", "delai_deviation_remboursement"]  # fmt: skip
    return _zero_where_positive(df, cols, debt)


def _end_activite_partielle(df: pd.DataFrame) -> pd.DataFrame:
    cols = [
        "apart_heures_autorisees",
        "apart_heures_consommees",
        "apart_heures_consommees_cumulees",
        "ratio_apart",
    ]
    on = pd.Series(False, index=df.index)
    for c in cols:
        if c in df.columns:
            on = on | (df[c].fillna(0) > 0)
    return _zero_where_positive(df, cols, on)


def _pay_suppliers_on_time(df: pd.DataFrame) -> pd.DataFrame:
    if "paydex_nb_jours" not in df.columns:
        return df
    late = df["paydex_nb_jours"].fillna(0) > 0
    cols = ["paydex_nb_jours", "paydex_diff_12m", *(c for c in df.columns if c.startswith("paydex_nb_jours_moy"))]
    out = _zero_where_positive(df, cols, late)
    if "paydex_bin" in out.columns:
        out["paydex_bin"] = out["paydex_bin"].where(~late, "<=0")
    return out


#: The actionable themes, each with the support that addresses it.
LEVERS: tuple[Lever, ...] = (
    Lever("dette URSSAF réglée (délai de paiement, CCSF)", "dette URSSAF", _settle_urssaf_debt),
    Lever(
        "activité partielle terminée (reprise d'activité, FNE-Formation)",
        "activité partielle",
        _end_activite_partielle,
    ),
    Lever(
        "retards de paiement fournisseurs résorbés (médiation du crédit)",
        "retards de paiement",
        _pay_suppliers_on_time,
    ),
)


def what_if(model: FailureModel, df: pd.DataFrame, p: np.ndarray | None = None) -> pd.DataFrame:
    """The displayed probability with each lever applied: one column per lever (its ``theme``), plus
    ``probability`` (as is). ``delta = lever − probability`` tells which support would move the risk most."""
    base = model.predict_proba(df) if p is None else p
    out = pd.DataFrame({"probability": base}, index=df.index)
    for lever in LEVERS:
        out[lever.theme] = model.predict_proba(lever.apply(df))
    return out
