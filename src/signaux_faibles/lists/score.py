"""``signaux-faibles score``: the monthly risk list of a batch.

For one month (by default the latest *complete* one: the last month whose URSSAF cotisations are delivered for
most companies; the batch's own month usually is not), every perimeter company gets its displayed probability,
its alert level (the model's thresholds), the explanations (waterfall macro for every company; micro and the
what-if levers for alerted ones), the flags of the real system (first alert, first "risque élevé",
``hausse_urssaf``, activité partielle in the last 12 months, procol state, URSSAF debt) and, when expert
adjustments are switched on, the level before them and the rules that moved it (:mod:`.adjustments`).

The companies are scored by chunks (:mod:`.chunks`: ``settings.score_chunk_companies`` at a time, each chunk
reading only its companies' history from the panel's Parquet files), in this process or on Spark (:mod:`.spark`,
``engine = "spark"``); the steps that need every company (thresholds, ranks, first alerts, diff) run once, on the
slim per-company table. The list is the same whatever the chunk size and the engine.

The list is written atomically under ``DATA_DIR/lists/<AAMM>/``: ``scores.parquet`` (one row per SIREN),
``diff.parquet`` (entries, exits, moves against the previous list) and ``summary.json``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from signaux_faibles.config import get_settings
from signaux_faibles.contract import ALERT_HIGH, ALERT_MODERATE, ALERT_NONE
from signaux_faibles.layout import DataDir, batch_month
from signaux_faibles.model.artefact import TERM_COLUMNS, FailureModel
from signaux_faibles.model.explain import micro_themes
from signaux_faibles.model.metrics import (
    FALLBACK_HIGH_SHARE,
    FALLBACK_MODERATE_SHARE,
    MAX_ALERTED_SHARE,
    Thresholds,
    volume_thresholds,
)

from .adjustments import ADJUSTMENTS, count_moves
from .chunks import (
    ChunkContext,
    Explainer,
    chunks,
    json_map,
    month_coverage,
    read_history,
    read_month,
    score_chunk,
)

__all__ = [
    "LEVEL",
    "ScoreResult",
    "diff_lists",
    "explain_procedure",
    "list_label",
    "merge_lists",
    "score",
]

LEVEL = {ALERT_NONE: 0, ALERT_MODERATE: 1, ALERT_HIGH: 2}
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")  # fmt: skip
#: Months before the batch where the latest complete month is looked for (the incomplete months at the end).
HISTORY_MONTHS = 30


def list_label(period: pd.Period) -> str:
    """``2026-03`` → ``"Mars 2026"`` (the real system's ``idListe``)."""
    return f"{MONTHS_FR[period.month - 1].capitalize()} {period.year}"


#: ``clean_procol.action_procol`` → the proceeding's state word of the list (``etat_procol``).
_ACTION_STATE = {"liquidation": "liquidation", "redressement": "plan_redressement", "sauvegarde": "sauvegarde"}
#: ``etat_procol`` → French, for the explanation of a firm in proceedings.
STATE_FR = {
    "liquidation": "liquidation judiciaire", "plan_redressement": "redressement judiciaire",
    "redressement": "redressement judiciaire", "sauvegarde": "sauvegarde", "plan_sauvegarde": "plan de sauvegarde",
    "continuation": "plan de continuation", "procedure_collective": "procédure collective",
}  # fmt: skip


def _procedures(data_dir: Path, rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per scored row, the proceeding's state as of the batch and the date of its first judgment (None when the
    batch holds no judgment).

    The date is the earliest of the panel's ``date_premier_jugement`` and of the batch's ``clean_procol`` (every
    judgment the batch holds, dated up to the end of the list month or later, since 2014 as the target); a row
    whose proceeding is open at the month (``etat_proc_collective`` other than ``in_bonis``) is judged too. The
    state is the panel's at the list month, else the action of the latest judgment in ``clean_procol``."""
    import pyarrow.dataset as ds

    from signaux_faibles.panel.company_month import FIRST_JUDGMENT_SINCE

    index = rows.index
    if "date_premier_jugement" in rows:
        first = pd.to_datetime(rows["date_premier_jugement"])
    else:
        first = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    state = rows["etat_proc_collective"].astype("object") if "etat_proc_collective" in rows else pd.Series(None, index=index)
    state = state.where(state.notna() & (state != "in_bonis"), None)
    path = DataDir(data_dir).clean("clean_procol")
    if path.is_dir():
        procol = ds.dataset(path, format="parquet").to_table(columns=["siren", "date_effet", "action_procol"]).to_pandas()
        procol = procol[pd.to_datetime(procol.date_effet) >= pd.Timestamp(FIRST_JUDGMENT_SINCE)]
        if len(procol):
            sirens = rows.siren.astype(str)
            batch_first = pd.to_datetime(sirens.map(procol.groupby("siren").date_effet.min()))
            first = pd.concat([first, batch_first], axis=1).min(axis=1)
            acted = procol[procol.action_procol.isin(list(_ACTION_STATE))]
            latest = acted.sort_values("date_effet").drop_duplicates("siren", keep="last").set_index("siren")
            state = state.where(state.notna(), sirens.map(latest.action_procol.map(_ACTION_STATE)))
    known = first.notna() | state.notna()
    state = state.where(state.notna(), "procedure_collective").where(known, None)
    dates = pd.Series([d.date() if isinstance(d, pd.Timestamp) and not pd.isna(d) else None for d in first],
                      index=index, dtype="object")  # fmt: skip
    return state, dates


def explain_procedure(state: object, first: object) -> str | None:
    """The explanation of a firm in collective proceedings, in French: the proceeding instead of a probability."""
    if state is None or (isinstance(state, float) and np.isnan(state)):
        return None
    words = STATE_FR.get(str(state), str(state).replace("_", " "))
    when = pd.to_datetime(str(first), errors="coerce") if first is not None else pd.NaT
    date = f", premier jugement le {when:%d/%m/%Y}" if isinstance(when, pd.Timestamp) else ""
    return (f"Procédure collective en cours ({words}{date}) : l'entreprise n'est plus dans le champ de la détection "
            "précoce, elle n'est pas alertée.")  # fmt: skip


def _list_thresholds(p: np.ndarray, free: np.ndarray, thresholds: Thresholds) -> tuple[Thresholds, str | None]:
    """The model's thresholds, unless on this list (the firms not yet judged) they leave a level empty or alert
    over a third of the firms: then the documented volume rule on the list itself (``metrics.volume_thresholds``),
    with the reason."""
    pf = p[free]
    if not len(pf):
        return thresholds, None
    n_high, n_any = int((pf >= thresholds.high).sum()), int((pf >= thresholds.moderate).sum())
    if n_high == 0 or n_any == n_high:
        reason = "a level would be empty on this list"
    elif n_any > MAX_ALERTED_SHARE * len(pf):
        reason = f"{n_any / len(pf):.0%} of the firms not yet judged would be alerted (over a third)"
    else:
        return thresholds, None
    high, moderate = volume_thresholds(pf)
    text = (f"{reason} with the model's thresholds (F0.5 {thresholds.high:.3f}, F2 {thresholds.moderate:.3f}); "
            f"volume rule on the list ({FALLBACK_HIGH_SHARE:.0%} risque élevé, "
            f"{FALLBACK_MODERATE_SHARE - FALLBACK_HIGH_SHARE:.0%} risque modéré)")  # fmt: skip
    return Thresholds(high=high, moderate=moderate, fallback=text), text


def _rank_prevention_first(out: pd.DataFrame) -> pd.DataFrame:
    """Ranks by probability among the firms not yet judged, then the firms in proceedings after them all: a firm
    already in collective proceedings is never mixed into the risk ranking."""
    judged = out.procedure_en_cours.fillna(False).astype(bool) if "procedure_en_cours" in out else False
    out = out.assign(_j=judged).sort_values(["_j", "probability"], ascending=[True, False], kind="stable")
    out = out.drop(columns="_j").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return out


def _identity(data_dir: Path, sirens: pd.Series) -> pd.DataFrame:
    """Head office SIRET, name, département, region, NAF section per SIREN (``clean_sirene_ul``)."""
    import pyarrow.dataset as ds

    path = DataDir(data_dir).clean("clean_sirene_ul")
    cols = ["siren", "siret_siege", "raison_sociale", "departement", "region", "naf_section"]
    base = pd.DataFrame({"siren": sirens.to_numpy()})
    if not path.is_dir():
        return base.assign(**{c: None for c in cols[1:]})
    ul = (
        ds.dataset(path, format="parquet")
        .to_table(columns=cols)
        .to_pandas()
        .drop_duplicates("siren", keep="last")
    )
    out = base.merge(ul, on="siren", how="left")
    return out.rename(columns={"siret_siege": "siret"})


@dataclass
class ScoreResult:
    scores: pd.DataFrame
    diff: pd.DataFrame
    summary: dict[str, Any]
    path: Path


def _previous_alerts(
    data_dir: Path, batch: str
) -> tuple[set[str], set[str], pd.DataFrame | None, str | None]:
    """SIRENs ever alerted / ever "risque élevé" in earlier lists, and the latest earlier list."""
    ever, ever_high = set(), set()
    last: pd.DataFrame | None = None
    prev = DataDir(data_dir).list_batches(before=batch)
    for b in prev:
        df = pd.read_parquet(DataDir(data_dir).list(b) / "scores.parquet", columns=["siren", "alert"])
        ever |= set(df.siren[df.alert != ALERT_NONE])
        ever_high |= set(df.siren[df.alert == ALERT_HIGH])
        last = df
    return ever, ever_high, last, (prev[-1] if prev else None)


def diff_lists(
    previous: pd.DataFrame | None, current: pd.DataFrame, previous_batch: str | None
) -> pd.DataFrame:
    """Companies entering (alerted now, not before), leaving (alerted before, not now), moving up or down."""
    cols = ["siren", "alert_previous", "alert", "change", "previous_batch"]
    if previous is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    m = (
        previous[["siren", "alert"]]
        .rename(columns={"alert": "alert_previous"})
        .merge(current[["siren", "alert"]], on="siren", how="outer")
    )
    before = m.alert_previous.map(LEVEL).fillna(0).astype(int)
    now = m.alert.map(LEVEL).fillna(0).astype(int)
    change = np.select(
        [
            (before == 0) & (now > 0),
            (before > 0) & (now == 0),
            (before > 0) & (now > before),
            (now > 0) & (now < before),
        ],
        ["entrée", "sortie", "hausse", "baisse"],
        default="",
    )
    m["change"] = change
    m["previous_batch"] = previous_batch
    m = m[m.change != ""]
    return (
        m[cols]
        .astype({"alert_previous": "object", "alert": "object"})
        .sort_values(["change", "siren"])
        .reset_index(drop=True)
    )


def merge_lists(lists: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Several model outputs for the same period: for each SIREN the latest list (in the given order) wins."""
    frames = [df.assign(_order=i) for i, df in enumerate(lists)]
    both = pd.concat(frames, ignore_index=True)
    out = both.sort_values("_order").drop_duplicates("siren", keep="last").drop(columns="_order")
    out = out.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return out


def score(
    data_dir: Path,
    batch: str,
    period: str | None = None,
    *,
    model_path: Path | None = None,
    adjustments: Sequence[str] = (),
    merge: Sequence[Path] = (),
    engine: str | None = None,
    chunk_companies: int | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> ScoreResult:
    """Score a month, compute flags, adjustments and the diff, write ``lists/<batch>/`` atomically.

    The companies are scored by chunks of ``chunk_companies`` (default ``settings.score_chunk_companies``), in
    this process or, with ``engine="spark"`` (default ``settings.engine``), on Spark (:mod:`.spark`); the list is
    the same either way."""
    unknown = [a for a in adjustments if a not in ADJUSTMENTS]
    if unknown:
        raise ValueError(f"unknown adjustment(s) {unknown}: known {sorted(ADJUSTMENTS)}")
    settings = get_settings()
    name = (engine or settings.engine or "duckdb").lower()
    size = int(chunk_companies or settings.score_chunk_companies)
    model_path = Path(model_path or DataDir(data_dir).model_for(batch))
    model = FailureModel.load(model_path)
    panel = DataDir(data_dir).panel
    month = _scored_month(panel, period, batch_month(batch), batch)
    runner: Runner
    if name == "spark":
        from .spark import SparkRunner

        runner = SparkRunner(settings, panel, month, model_path, size)
    else:
        runner = LocalRunner(panel, month, model, size)
    try:
        out, thresholds, adj_summary = _score_rows(data_dir, runner, model, month, batch, adjustments, log)
    finally:
        runner.close()
    ever, ever_high, prev_df, prev_batch = _previous_alerts(data_dir, batch)
    out["first_alert"] = (out.alert != ALERT_NONE) & ~out.siren.isin(ever)
    out["first_high_alert"] = (out.alert == ALERT_HIGH) & ~out.siren.isin(ever_high)
    out = out.merge(_identity(data_dir, out.siren), on="siren", how="left")
    lists = [pd.read_parquet(f) for f in merge]
    if lists:
        log(f"merging with {len(lists)} earlier output(s): the fresh list wins per SIREN")
    out = merge_lists([*lists, out])
    out = _rank_prevention_first(out)
    diff = diff_lists(prev_df, out, prev_batch)
    summary = _summary(out, diff, model, batch, month, thresholds, adj_summary, prev_batch)
    target = DataDir(data_dir).list(batch)
    _write_list(target, out, diff, summary)
    return ScoreResult(out, diff, summary, target)


class Runner(Protocol):
    """Where the chunks are scored: :class:`LocalRunner` (this process) or :class:`.spark.SparkRunner`."""

    def slim(self) -> pd.DataFrame:
        """The month's rows, one per company sorted by SIREN, the columns of :data:`SLIM_COLUMNS` only."""

    def probabilities(self) -> tuple[np.ndarray, float]:
        """The displayed probabilities (in :meth:`slim`'s order) and the explanations' base probability."""

    def results(self, ctx: ChunkContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Every chunk's :func:`.chunks.score_chunk` columns in :meth:`slim`'s order, and the micro explanations
        of the alerted companies (indexed by position in that order)."""

    def close(self) -> None:
        """Release what the runner holds."""


#: The month's columns the global steps read (collective proceedings, the list's ``etat_proc_collective``).
SLIM_COLUMNS = ("siren", "periode", "etat_proc_collective", "date_premier_jugement")


class LocalRunner:
    """Chunks scored in this process: the month's rows read whole (one row per company), the history by chunk."""

    def __init__(self, panel: Path, month: pd.Period, model: FailureModel, size: int) -> None:
        self.panel, self.month, self.model, self.size = panel, month, model, size
        self.rows = read_month(panel, month)
        self.p = np.asarray([], dtype=float)

    def slim(self) -> pd.DataFrame:
        return self.rows[[c for c in SLIM_COLUMNS if c in self.rows.columns]]

    def probabilities(self) -> tuple[np.ndarray, float]:
        parts = [self.model.predict_proba(self.rows.iloc[sl]) for sl in chunks(len(self.rows), self.size)]
        self.p = np.concatenate(parts) if parts else np.asarray([], dtype=float)
        return self.p, Explainer(self.model, self.rows).base()

    def results(self, ctx: ChunkContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        outs, micros = [], []
        for sl in chunks(len(self.rows), self.size):
            part = self.rows.iloc[sl].reset_index(drop=True)
            history = read_history(self.panel, part.siren.astype(str).tolist(), self.month, ctx.history_months)
            out, micro = score_chunk(ctx, part, history, self.p[sl])
            micro.index = micro.index + sl.start
            outs.append(out)
            micros.append(micro)
        return pd.concat(outs, ignore_index=True), pd.concat(micros)

    def close(self) -> None:
        self.rows = self.rows.iloc[:0]


def _score_rows(
    data_dir: Path, runner: Runner, model: FailureModel, month: pd.Period, batch: str, adjustments: Sequence[str],
    log: Callable[[str], None],
) -> tuple[pd.DataFrame, Thresholds, dict[str, dict[str, int]]]:  # fmt: skip
    """The list's rows before the global steps: probabilities, then (global) proceedings and thresholds, then the
    chunks' flags, adjustments and explanations, assembled in the list's columns."""
    rows = runner.slim()
    if rows.empty:
        raise ValueError(f"no perimeter company in the panel at {month}")
    log(f"scoring {len(rows):,} companies at {month} with {model.kind} ({model.code_version})")
    p, base = runner.probabilities()
    # signaux forts are not alerts: a firm whose first collective-proceedings judgment is known at the batch (dated
    # up to the end of the list month, or later but held by the batch) is no longer a prevention case
    state, first_judgment = _procedures(data_dir, rows)
    judged = first_judgment.notna().to_numpy(dtype=bool) | state.notna().to_numpy(dtype=bool)
    thresholds, list_fallback = _list_thresholds(p, ~judged, model.thresholds)
    if list_fallback:
        log(f"degenerate thresholds on this list, fallback applied: {list_fallback}")
    sirens = rows.siren.astype(str)
    ctx = ChunkContext(model, month, thresholds, frozenset(sirens[judged]), tuple(adjustments))
    part, micro = runner.results(ctx)
    if not (part.siren.to_numpy() == sirens.to_numpy()).all():
        raise RuntimeError("the chunks' companies are not the month's companies")  # pragma: no cover
    out = pd.DataFrame({
        "siren": sirens.to_numpy(), "periode": month.to_timestamp().date(), "batch": batch,
        "algo": f"{model.kind}-{model.code_version}", "id_liste": list_label(month),
        "probability": part.probability.to_numpy(), "alert_pre_adjustment": part.alert_pre_adjustment.to_numpy(),
        "threshold_high": thresholds.high, "threshold_moderate": thresholds.moderate, "base_probability": base,
    })  # fmt: skip
    for col in (*TERM_COLUMNS, "hausse_urssaf", "ap_12m", "dette_urssaf"):
        out[col] = part[col].to_numpy()
    etat = rows.etat_proc_collective.astype("object")
    out["etat_proc_collective"] = etat.where(etat.notna(), None).to_numpy()
    out["procedure_en_cours"] = judged
    out["date_procol"] = first_judgment.to_numpy()
    out["etat_procol"] = state.to_numpy()
    for col in ("alert", "adjustments", "macro_expl"):
        out[col] = part[col].to_numpy()
    out["micro_expl"] = _micro_json(micro, len(out))
    out["what_if"] = part.what_if.to_numpy()
    out["explication_procedure"] = [
        explain_procedure(s_, d_) if j else None
        for s_, d_, j in zip(out.etat_procol, out.date_procol, out.procedure_en_cours, strict=True)
    ]
    return out, thresholds, count_moves(part)


def _micro_json(micro: pd.DataFrame, n: int) -> list[str | None]:
    """The micro explanations as JSON, every base feature, the biggest contributions over the whole list first."""
    col: list[str | None] = [None] * n
    if len(micro):
        keep = micro.abs().max().sort_values(ascending=False).index
        for j, text in zip(micro.index, json_map(micro[keep]), strict=True):
            col[j] = text
    return col


def _scored_month(panel: Path, period: str | None, last: pd.Period, batch: str) -> pd.Period:
    """``period`` (not after the batch's month), else the latest complete month of the panel: the latest month
    whose cotisations cover at least 80 % of the best-covered month since ``HISTORY_MONTHS`` before the batch
    (``dataset.complete_month``, counted by DuckDB without loading the panel)."""
    if period is None:
        cover = month_coverage(panel, last - HISTORY_MONTHS, last)
        if cover.empty:
            raise ValueError(f"the panel has no month up to {last}")
        return cover[cover >= 0.8 * cover.max()].index.max()
    month = pd.Period(period, "M")
    if month > last:
        raise ValueError(f"period {month} is after batch {batch}")
    return month


def _summary(
    out: pd.DataFrame, diff: pd.DataFrame, model: FailureModel, batch: str, month: pd.Period,
    thresholds: Thresholds, adj_summary: Any, prev_batch: str | None,
) -> dict[str, Any]:  # fmt: skip
    """``summary.json``: the list's month, model, thresholds, alert counts, adjustments and diff."""
    counts = {lvl: int((out.alert == lvl).sum()) for lvl in (ALERT_HIGH, ALERT_MODERATE, ALERT_NONE)}
    counts_pre = {
        lvl: int((out.alert_pre_adjustment == lvl).sum()) for lvl in (ALERT_HIGH, ALERT_MODERATE, ALERT_NONE)
    }
    return {
        "batch": batch, "periode": str(month), "id_liste": list_label(month), "model": model.kind,
        "code_version": model.code_version, "thresholds": thresholds.to_dict(), "companies": len(out),
        "alerts": counts, "alerts_before_adjustments": counts_pre, "adjustments": adj_summary,
        "diff": {c: int((diff.change == c).sum()) for c in ("entrée", "sortie", "hausse", "baisse")},
        "previous_batch": prev_batch, "themes": micro_themes(model),
        "procedures_en_cours": int(out.procedure_en_cours.fillna(False).astype(bool).sum()),
        "entreprises_detection_precoce": int((~out.procedure_en_cours.fillna(False).astype(bool)).sum()),
        "term_structure": model.term_model is not None, "selection": model.metrics.get("selection"),
    }  # fmt: skip


def _write_list(target: Path, out: pd.DataFrame, diff: pd.DataFrame, summary: dict[str, Any]) -> None:
    """Write ``scores.parquet``, ``diff.parquet`` and ``summary.json`` to ``target``, replaced whole."""
    batch = target.name
    tmp = target.with_name(f".{batch}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    out.to_parquet(tmp / "scores.parquet", index=False)
    diff.to_parquet(tmp / "diff.parquet", index=False)
    (tmp / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    old = target.with_name(f".{batch}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)
