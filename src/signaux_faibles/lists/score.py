"""``signaux-faibles score``: the monthly risk list of a batch.

For one month (by default the latest *complete* one: the last month whose URSSAF cotisations are delivered for
most companies; the batch's own month usually is not), every perimeter company gets its displayed probability,
its alert level (the model's thresholds), the explanations (waterfall macro for every company; micro and the
what-if levers for alerted ones), the flags of the real system (first alert, first "risque élevé",
``hausse_urssaf``, activité partielle in the last 12 months, procol state, URSSAF debt) and, when expert
adjustments are switched on, the level before them and the rules that moved it (:mod:`.adjustments`).

The list is written atomically under ``DATA_DIR/lists/<AAMM>/``: ``scores.parquet`` (one row per SIREN),
``diff.parquet`` (entries, exits, moves against the previous list) and ``summary.json``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signaux_faibles.contract import ALERT_HIGH, ALERT_MODERATE, ALERT_NONE, THEMES
from signaux_faibles.layout import DataDir, batch_month
from signaux_faibles.model.artefact import TERM_COLUMNS, FailureModel
from signaux_faibles.model.dataset import complete_month, load_panel
from signaux_faibles.model.explain import micro_themes, waterfall, what_if
from signaux_faibles.model.metrics import (
    FALLBACK_HIGH_SHARE,
    FALLBACK_MODERATE_SHARE,
    MAX_ALERTED_SHARE,
    Thresholds,
    alert_levels,
    volume_thresholds,
)

from .adjustments import ADJUSTMENTS, apply_adjustments, debt_by_month

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
#: Months of panel history read before the scored month (flags: 12, adjustments: 24, plus the incomplete months).
HISTORY_MONTHS = 30


def list_label(period: pd.Period) -> str:
    """``2026-03`` → ``"Mars 2026"`` (the real system's ``idListe``)."""
    return f"{MONTHS_FR[period.month - 1].capitalize()} {period.year}"


def _json_map(values: pd.DataFrame, digits: int = 6) -> list[str]:
    cols = list(values.columns)
    return [json.dumps({c: round(float(v), digits) for c, v in zip(cols, row, strict=True)}, ensure_ascii=False)
            for row in values.to_numpy()]  # fmt: skip


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


class _Explainer:
    """Waterfall explanations of some rows of ``rows``, computed on demand (TreeSHAP is the costly part)."""

    def __init__(self, model: FailureModel, rows: pd.DataFrame) -> None:
        self.model, self.rows = model, rows
        first = model.contributions(rows.iloc[:1])
        self.base = float(waterfall(model, first)[0]["base"].iloc[0])

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
    panel: pd.DataFrame | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> ScoreResult:
    """Score a month, compute flags, adjustments and the diff, write ``lists/<batch>/`` atomically."""
    unknown = [a for a in adjustments if a not in ADJUSTMENTS]
    if unknown:
        raise ValueError(f"unknown adjustment(s) {unknown}: known {sorted(ADJUSTMENTS)}")
    last = batch_month(batch)
    model = FailureModel.load(model_path or DataDir(data_dir).model_for(batch))
    if panel is None:  # the scored month, the flags' 12 months and the adjustments' 24 before it
        panel = load_panel(data_dir, since=(pd.Period(period, "M") if period else last) - HISTORY_MONTHS)
    month = _scored_month(panel, period, last, batch)
    rows = panel[panel.periode == month].drop_duplicates("siren").reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"no perimeter company in the panel at {month}")
    log(f"scoring {len(rows):,} companies at {month} with {model.kind} ({model.code_version})")
    p = model.predict_proba(rows)
    # signaux forts are not alerts: a firm whose first collective-proceedings judgment is known at the batch (dated
    # up to the end of the list month, or later but held by the batch) is no longer a prevention case
    state, first_judgment = _procedures(data_dir, rows)
    judged = first_judgment.notna().to_numpy(dtype=bool) | state.notna().to_numpy(dtype=bool)
    thresholds, list_fallback = _list_thresholds(p, ~judged, model.thresholds)
    if list_fallback:
        log(f"degenerate thresholds on this list, fallback applied: {list_fallback}")
    explain = _Explainer(model, rows)
    out = _scores(model, rows, p, month, batch, thresholds, explain.base)
    debt = debt_by_month(panel, out.siren, month, 24 if adjustments else 3)
    out = out.merge(_flags(panel, month, debt), on="siren", how="left")
    out["etat_proc_collective"] = (
        rows.etat_proc_collective.astype("object").where(rows.etat_proc_collective.notna(), None).to_numpy()
    )
    out["procedure_en_cours"] = judged
    out["date_procol"] = first_judgment.to_numpy()
    out["etat_procol"] = state.to_numpy()
    out["alert_pre_adjustment"] = _none_if(judged, out["alert_pre_adjustment"])
    # expert adjustments (switchable; traced)
    adjusted, triggered, adj_summary = apply_adjustments(
        out, rows, panel, month, adjustments, debt, explain.dominant
    )
    out["alert"] = _none_if(judged, adjusted)
    out["adjustments"] = [json.dumps(t, ensure_ascii=False) for t in triggered]
    _explain_alerted(out, model, rows, p, explain)
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


def _scored_month(panel: pd.DataFrame, period: str | None, last: pd.Period, batch: str) -> pd.Period:
    """``period`` (not after the batch's month), else the latest complete month of the panel."""
    if period is None:
        return complete_month(panel, last)
    month = pd.Period(period, "M")
    if month > last:
        raise ValueError(f"period {month} is after batch {batch}")
    return month


def _none_if(judged: np.ndarray, levels: Any) -> np.ndarray:
    """The alert levels, "Pas d'alerte" for the firms already in collective proceedings."""
    return np.where(judged, np.asarray(ALERT_NONE, dtype=object), np.asarray(levels, dtype=object))


def _scores(
    model: FailureModel, rows: pd.DataFrame, p: np.ndarray, month: pd.Period, batch: str, thresholds: Thresholds,
    base: Any,
) -> pd.DataFrame:  # fmt: skip
    """One row per company: its probability, the model's alert level, the thresholds and the term structure."""
    out = pd.DataFrame({
        "siren": rows.siren.astype(str).to_numpy(),
        "periode": month.to_timestamp().date(),
        "batch": batch,
        "algo": f"{model.kind}-{model.code_version}",
        "id_liste": list_label(month),
        "probability": p,
        "alert_pre_adjustment": alert_levels(p, thresholds),
        "threshold_high": thresholds.high,
        "threshold_moderate": thresholds.moderate,
        "base_probability": base,
    })  # fmt: skip
    terms = model.term_structure(rows, p)
    for col in TERM_COLUMNS:
        out[col] = terms[col].to_numpy(dtype=float)
    return out


def _explain_alerted(
    out: pd.DataFrame, model: FailureModel, rows: pd.DataFrame, p: np.ndarray, explain: _Explainer
) -> None:
    """Explanations (waterfall macro, micro) and what-if levers for the alerted companies (by the model or after
    the adjustments), as the real system; a firm in proceedings is explained by its proceeding instead."""
    macro_col: list[str | None] = [None] * len(out)
    micro_col: list[str | None] = [None] * len(out)
    whatif_col: list[str | None] = [None] * len(out)
    alert_model = np.asarray(out["alert_pre_adjustment"], dtype=object)
    idx = np.flatnonzero((alert_model != ALERT_NONE) | (np.asarray(out["alert"]) != ALERT_NONE))
    if len(idx):
        mac, mic = explain(idx)
        keep = mic.abs().max().sort_values(ascending=False).index  # all base features, biggest first
        wi = what_if(model, rows.iloc[idx], p[idx]).drop(columns="probability")
        for j, a, b, c in zip(
            idx, _json_map(mac[list(THEMES)]), _json_map(mic[keep]), _json_map(wi), strict=True
        ):
            macro_col[j], micro_col[j], whatif_col[j] = a, b, c
    out["macro_expl"] = macro_col
    out["micro_expl"] = micro_col
    out["what_if"] = whatif_col
    out["explication_procedure"] = [
        explain_procedure(s_, d_) if j else None
        for s_, d_, j in zip(out.etat_procol, out.date_procol, out.procedure_en_cours, strict=True)
    ]


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
