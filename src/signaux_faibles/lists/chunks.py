"""Scoring by chunks of companies, with bounded memory: what each chunk computes, and where its rows come from.

The list's month is read whole but slim (one row per company); everything that reads the months before it (the
flags, the URSSAF debt by month, the expert adjustments) and everything costly per company (probabilities, term
structure, explanations and what-if of the alerted companies) runs on one chunk of companies at a time
(:func:`score_chunk`), reading only the chunk's SIRENs and the columns it needs from the panel's Parquet files
(:func:`read_history`: the filter is pushed down to the reader). The global steps (the list's thresholds and their
fallback, the ranks, first alerts, the diff) stay in :mod:`.score`, on the slim per-company table.

The same :func:`score_chunk` runs in this process (DuckDB engine) and on Spark's executors (:mod:`.spark`), so
both engines give the same list.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signaux_faibles.contract import ALERT_NONE, THEMES
from signaux_faibles.model.artefact import TERM_COLUMNS, FailureModel
from signaux_faibles.model.explain import waterfall, what_if
from signaux_faibles.model.metrics import Thresholds, alert_levels

from .adjustments import apply_adjustments, debt_by_month

__all__ = [
    "HISTORY_COLUMNS",
    "ChunkContext",
    "Explainer",
    "chunks",
    "json_map",
    "month_coverage",
    "none_if",
    "read_history",
    "read_month",
    "score_chunk",
]

#: The panel's columns the history-dependent steps read (flags, debt by month, adjustments).
HISTORY_COLUMNS = (
    "siren", "periode", "montant_part_ouvriere", "montant_part_patronale", "apart_heures_autorisees",
    "apart_heures_consommees", "ratio_apart",
)  # fmt: skip


def json_map(values: pd.DataFrame, digits: int = 6) -> list[str]:
    """One JSON object per row (``{column: value}``, rounded), in the columns' order."""
    cols = list(values.columns)
    return [json.dumps({c: round(float(v), digits) for c, v in zip(cols, row, strict=True)}, ensure_ascii=False)
            for row in values.to_numpy()]  # fmt: skip


def none_if(judged: np.ndarray, levels: Any) -> np.ndarray:
    """The alert levels, "Pas d'alerte" for the firms already in collective proceedings."""
    return np.where(judged, np.asarray(ALERT_NONE, dtype=object), np.asarray(levels, dtype=object))


def chunks(n: int, size: int) -> Iterator[slice]:
    """Consecutive slices of at most ``size`` rows over ``n`` rows (one slice when ``n`` is 0)."""
    size = max(1, int(size))
    for start in range(0, max(n, 1), size):
        yield slice(start, min(start + size, n))


# ------------------------------------------------------------------------------------------------ reading


def _dataset(panel: Path) -> Any:
    import pyarrow.dataset as ds

    if not Path(panel).is_dir():
        raise FileNotFoundError(f"no panel at {panel}: run `signaux-faibles panel --batch AAMM` first")
    return ds.dataset(panel, format="parquet")


def _to_frame(table: Any) -> pd.DataFrame:
    df = table.to_pandas()
    df["periode"] = pd.to_datetime(df["periode"]).dt.to_period("M")
    return df


def month_coverage(panel: Path, since: pd.Period, last: pd.Period) -> pd.Series:
    """Per month from ``since`` to ``last``, the share of perimeter rows whose ``cotisation_moy12m`` is known (what
    ``dataset.complete_month`` measures), counted by DuckDB without loading the rows."""
    import duckdb

    _dataset(panel)
    query = """
        SELECT periode, count(*) AS n,
               count(*) FILTER (WHERE cotisation_moy12m IS NOT NULL AND NOT isnan(cotisation_moy12m)) AS k
        FROM read_parquet(?) WHERE in_perimeter AND periode >= ? AND periode <= ? GROUP BY periode"""
    con = duckdb.connect()
    try:
        glob = str(Path(panel) / "**" / "*.parquet")
        df = con.execute(query, [glob, since.to_timestamp().date(), last.to_timestamp().date()]).df()
    finally:
        con.close()
    index = pd.PeriodIndex(pd.to_datetime(df.periode), freq="M")
    return pd.Series(df.k.to_numpy() / df.n.to_numpy(), index=index).sort_index()


def read_month(panel: Path, month: pd.Period, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The perimeter rows of ``month``, one per company, sorted by SIREN (as ``load_panel`` orders them)."""
    import pyarrow.dataset as ds

    cond = (ds.field("in_perimeter") == True) & (ds.field("periode") == month.to_timestamp().date())  # noqa: E712
    table = _dataset(panel).to_table(columns=list(columns) if columns else None, filter=cond)
    rows = _to_frame(table).sort_values("siren", kind="stable")
    return rows.drop_duplicates("siren").reset_index(drop=True)


def read_history(panel: Path, sirens: Sequence[str], month: pd.Period, months: int) -> pd.DataFrame:
    """The perimeter rows of ``sirens`` over the ``months`` months up to ``month``, :data:`HISTORY_COLUMNS` only
    (the SIREN, month and perimeter filters are pushed down to the Parquet reader)."""
    import pyarrow.dataset as ds

    dataset = _dataset(panel)
    cols = [c for c in HISTORY_COLUMNS if c in dataset.schema.names]
    cond = (
        (ds.field("in_perimeter") == True)  # noqa: E712
        & (ds.field("periode") > (month - months).to_timestamp().date())
        & (ds.field("periode") <= month.to_timestamp().date())
        & ds.field("siren").isin(list(sirens))
    )
    return _to_frame(dataset.to_table(columns=cols, filter=cond))


# ------------------------------------------------------------------------------------------------ one chunk


class Explainer:
    """Waterfall explanations of some rows of ``rows``, computed on demand (TreeSHAP is the costly part)."""

    def __init__(self, model: FailureModel, rows: pd.DataFrame) -> None:
        self.model, self.rows = model, rows

    def base(self) -> float:
        """The probability of the average company (the waterfall's start), from the first row."""
        return float(waterfall(self.model, self.model.contributions(self.rows.iloc[:1]))[0]["base"].iloc[0])

    def __call__(self, idx: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
        part = self.rows.iloc[idx]
        sf = part["signal_fort"].fillna(False).to_numpy(dtype=bool) if "signal_fort" in part.columns else None
        mac, mic = waterfall(self.model, self.model.contributions(part), sf)
        return mac, mic

    def dominant(self, idx: np.ndarray) -> np.ndarray:
        """The theme pushing the probability up most, for rows ``idx``."""
        if len(idx) == 0:
            return np.asarray([], dtype=object)
        mac = self(idx)[0][list(THEMES)]
        return np.asarray(mac.idxmax(axis=1).to_numpy(), dtype=object)


@dataclass(frozen=True)
class ChunkContext:
    """What every chunk shares: the model, the list's month, its thresholds, the SIRENs already in collective
    proceedings (never alerted) and the expert adjustments in force."""

    model: FailureModel
    month: pd.Period
    thresholds: Thresholds
    judged: frozenset[str]
    adjustments: tuple[str, ...] = ()

    @property
    def history_months(self) -> int:
        """Months of history the chunk reads: the adjustments' 24, else the flags' 12."""
        return 24 if self.adjustments else 12


def _flags(panel: pd.DataFrame, period: pd.Period, debt: pd.DataFrame) -> pd.DataFrame:
    """``hausse_urssaf``, ``ap_12m`` and ``dette_urssaf`` per SIREN at ``period`` (``debt``: :func:`debt_by_month`)."""
    cols = ["siren", "apart_heures_autorisees", "apart_heures_consommees"]
    window = panel.loc[(panel.periode > period - 12) & (panel.periode <= period), cols]
    m0, m1, m2 = debt[0], debt[1], debt[2]
    ap = (
        window.assign(
            ap=(window.apart_heures_autorisees.fillna(0) > 0) | (window.apart_heures_consommees.fillna(0) > 0)
        )
        .groupby("siren")
        .ap.any()
    )
    out = pd.DataFrame({"siren": debt.index.to_numpy()})
    out["hausse_urssaf"] = ((m0 > m1) | (m1 > m2)).to_numpy()
    out["ap_12m"] = out.siren.map(ap).fillna(False).astype(bool)
    out["dette_urssaf"] = m0.to_numpy(dtype=float)
    return out


def score_chunk(
    ctx: ChunkContext, rows: pd.DataFrame, history: pd.DataFrame, p: np.ndarray | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score one chunk of companies: ``rows`` (the month's rows of the chunk, index ``0..n-1``) and ``history``
    (:func:`read_history` of the chunk's SIRENs). Returns the chunk's per-company columns (probability, levels
    before and after the adjustments, term structure, flags, adjustments traced, macro explanation and what-if
    as JSON; ``_adj_<rule>``: −1, 0 or +1, the rule's move) and the micro explanation of its alerted companies
    (numbers, one row per alerted company, indexed by its position in the chunk): its JSON's key order is the
    whole list's (biggest contributions first), set once every chunk is done."""
    model, month = ctx.model, ctx.month
    p = model.predict_proba(rows) if p is None else p
    sirens = rows.siren.astype(str)
    judged = sirens.isin(ctx.judged).to_numpy(dtype=bool)
    out = pd.DataFrame({"siren": sirens.to_numpy(), "probability": p,
                        "alert_pre_adjustment": none_if(judged, alert_levels(p, ctx.thresholds))})  # fmt: skip
    terms = model.term_structure(rows, p)
    for col in TERM_COLUMNS:
        out[col] = terms[col].to_numpy(dtype=float)
    debt = debt_by_month(history, out.siren, month, 24 if ctx.adjustments else 3)
    out = out.merge(_flags(history, month, debt), on="siren", how="left")
    explain = Explainer(model, rows)
    adjusted, triggered, moves = apply_adjustments(
        out, rows, history, month, ctx.adjustments, debt, explain.dominant
    )
    out["alert"] = none_if(judged, adjusted)
    out["adjustments"] = [json.dumps(t, ensure_ascii=False) for t in triggered]
    for name, move in moves.items():
        out[f"_adj_{name}"] = move
    micro = _explain_alerted(out, model, rows, p, explain)
    return out, micro


def _explain_alerted(
    out: pd.DataFrame, model: FailureModel, rows: pd.DataFrame, p: np.ndarray, explain: Explainer
) -> pd.DataFrame:
    """Macro explanation and what-if levers (JSON, on ``out``) of the alerted companies (by the model or after
    the adjustments), as the real system; returns their micro explanation (numbers)."""
    macro_col: list[str | None] = [None] * len(out)
    whatif_col: list[str | None] = [None] * len(out)
    alert_model = np.asarray(out["alert_pre_adjustment"], dtype=object)
    idx = np.flatnonzero((alert_model != ALERT_NONE) | (np.asarray(out["alert"]) != ALERT_NONE))
    micro = pd.DataFrame()
    if len(idx):
        mac, micro = explain(idx)
        wi = what_if(model, rows.iloc[idx], p[idx]).drop(columns="probability")
        for j, a, c in zip(idx, json_map(mac[list(THEMES)]), json_map(wi), strict=True):
            macro_col[j], whatif_col[j] = a, c
        micro.index = idx
    out["macro_expl"] = macro_col
    out["what_if"] = whatif_col
    return micro
