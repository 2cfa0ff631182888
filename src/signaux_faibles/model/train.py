"""``signaux-faibles train``: fit, calibrate, threshold, evaluate and save the failure model; write the model card.

The protocol (splits in :mod:`signaux_faibles.model.dataset`):

1. the encoder learns the label codes on the *fit* rows;
2. hyper-parameters: a small grid per model kind, each fitted on *fit* and scored (AUC-PR) on *validation*;
3. calibration: isotonic and Platt fitted on the *calibration* fold (later than *fit*, other companies), the one
   with the lower Brier score on *validation* is kept;
4. thresholds: F0.5-best ("risque élevé") and F2-best ("risque modéré") on the calibrated *validation* scores;
5. evaluation on *test* (other companies, later months, labels known): every metric with and without the
   "signaux forts", per segment, top-k, reliability; the oracle on the twin; a backtest of lists made as of
   several past months.

The production model is LightGBM (``FailureClassifier``); the logistic model is trained and evaluated beside it
and saved too.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signaux_faibles.layout import DataDir, batch_month

from .artefact import (
    Calibrator,
    ColumnSubset,
    FailureModel,
    MarginAverage,
    PanelLogistic,
    code_version,
    sigmoid,
)
from .dataset import (
    HORIZON,
    TRAINING_KEYS,
    PanelEncoder,
    PanelSample,
    SplitConfig,
    Splits,
    complete_month,
    feature_columns,
    feature_groups,
    hazard_rows,
    hazard_targets,
    load_panel,
    make_splits,
    panel_columns,
    panel_companies,
    refit_splits,
    sample_companies,
)
from .estimators import FailureClassifier
from .hazard import HazardClassifier
from .metrics import (
    ALERT_HIGH,
    ALERT_MODERATE,
    Thresholds,
    alert_levels,
    classification_at,
    fbeta_curve,
    monthly_auc_pr,
    ranking_metrics,
    reliability_curve,
    segment_metrics,
    top_k_metrics,
    weighted_average_precision,
)
from .report import write_report
from .results import SEGMENTS, TrainOutput

__all__ = [
    "LIGHTGBM_GRID",
    "LOGISTIC_GRID",
    "TrainConfig",
    "TrainOutput",
    "run_train",
    "train",
]

#: Hyper-parameter candidates (chosen on the validation fold).
LIGHTGBM_GRID: tuple[dict[str, Any], ...] = (
    {"n_estimators": 300, "num_leaves": 15, "min_child_samples": 50, "learning_rate": 0.03},
    {"n_estimators": 300, "num_leaves": 4, "min_child_samples": 300, "learning_rate": 0.03},
    {"n_estimators": 600, "num_leaves": 2, "min_child_samples": 200, "learning_rate": 0.03},
    {
        "n_estimators": 150,
        "num_leaves": 7,
        "min_child_samples": 500,
        "learning_rate": 0.03,
        "reg_lambda": 10.0,
    },
)
LOGISTIC_GRID: tuple[dict[str, Any], ...] = ({"C": 0.01}, {"C": 0.1}, {"C": 1.0})
#: The hazard model's interval models (stumps: additive log-odds, the form that held across the crisis).
HAZARD_PARAMS: dict[str, Any] = {"n_estimators": 600, "num_leaves": 2, "min_child_samples": 200, "learning_rate": 0.03}
#: The list models' kinds, in the order of the selection table ("average": the mean log-odds of the others).
LIST_KINDS = ("lightgbm", "logistic", "hazard", "average")
#: The average's fourth member, "payment": a logistic regression (C 0.01) on payment behaviour and size only. A
#: crisis shifts the paydex of every firm and changes what debts and activité partielle mean; a linear model of
#: smoothed payment delays keeps its ranking under such a shift, where trees saturate and the relations learned on
#: the labelled months (18 months old or more) may not hold. Combining with it hedges a change of regime that no
#: validation of the labelled months can see (docs/model.md, "the average's payment member").
PAYMENT_COLUMNS = ("paydex_nb_jours_moy3m", "paydex_nb_jours_moy6m", "paydex_nb_jours_moy12m", "fpi_30", "fpi_90",
                   "effectif_ent")  # fmt: skip
PAYMENT_PARAMS: dict[str, Any] = {"C": 0.01}
BACKTEST_OFFSETS = (12, 6, 0)  # months before the last labelled month


@dataclass
class TrainConfig:
    splits: SplitConfig = field(default_factory=SplitConfig)
    lightgbm_grid: tuple[dict[str, Any], ...] = LIGHTGBM_GRID
    logistic_grid: tuple[dict[str, Any], ...] = LOGISTIC_GRID
    backtest_offsets: tuple[int, ...] = BACKTEST_OFFSETS
    n_seeds: int = 2
    #: Refit the chosen configuration on the latest labelled months for the lists (``refit_splits``); False: the
    #: evaluated model itself is saved.
    refit: bool = True
    #: Fit the hazard list model (``hazard.HazardClassifier``) and the average of the list models, candidates of
    #: the selection (only with ``refit``).
    hazard: bool = True
    hazard_params: dict[str, Any] = field(default_factory=lambda: dict(HAZARD_PARAMS))
    hazard_seeds: int = 1
    #: Choose the list models' input themes by forward selection (``_select_themes``); False: every feature.
    select_themes: bool = True
    #: Above this many panel rows (perimeter, up to the batch), ``run_train`` trains on a sample of the survivors
    #: (``dataset.PanelSample``); None: the setting ``train_max_rows``.
    max_rows: int | None = None
    #: Seed of the survivors' sample.
    sample_seed: int = 0
    #: Draws of the validation's companies by which a list model must beat the default one (``_selection``).
    selection_draws: int = 200
    #: Add the "payment" member (``PAYMENT_COLUMNS``) to the average list model; False: the three list models only.
    payment_member: bool = True


#: Rows hashed at a time by ``fingerprint`` (its object copy of the rows is made by chunks).
FINGERPRINT_CHUNK = 200_000


def fingerprint(df: pd.DataFrame, columns: list[str]) -> str:
    """SHA-256 of the rows and columns the model learned from (order-independent of the DataFrame index).

    Row hashes are computed by chunks of ``FINGERPRINT_CHUNK`` rows (a row's hash depends on that row only), so
    the object copy it needs stays small."""
    hashes = []
    for start in range(0, len(df), FINGERPRINT_CHUNK):
        part = df.iloc[start : start + FINGERPRINT_CHUNK][columns]
        hashes.append(pd.util.hash_pandas_object(part.astype("object").where(part.notna(), None), index=False).to_numpy())
    h = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
    return hashlib.sha256(np.sort(h).tobytes()).hexdigest()[:16]


def _w(w: np.ndarray | None, mask: np.ndarray) -> np.ndarray | None:
    """The sample weights of ``mask``'s rows (None: no sample, every row counts once)."""
    return None if w is None else w[mask]


def _lightgbm(params: dict[str, Any], n_seeds: int) -> FailureClassifier:
    """The panel's LightGBM: ``n_seeds`` boosters on the panel's columns, no ratio columns and no XGBoost members
    (those help on the Polish ratios, not measured here; and TreeSHAP on every member is the scoring cost)."""
    return FailureClassifier(n_seeds=n_seeds, n_ratio_seeds=0, n_xgb_seeds=0, n_xgb_ratio_seeds=0, **params)


def _logistic(params: dict[str, Any], categorical: tuple[int, ...]) -> PanelLogistic:
    return PanelLogistic(categorical=categorical, **params)


def _select(
    make: Callable[[dict[str, Any]], Any], grid: tuple[dict[str, Any], ...], X: pd.DataFrame, y: np.ndarray,
    fit: np.ndarray, valid: np.ndarray, w: np.ndarray | None = None,
) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:  # fmt: skip
    """Fit every candidate on ``fit``, keep the best AUC-PR on ``valid`` (weighted by ``w``, a sample's weights)."""
    from sklearn.metrics import average_precision_score

    best: tuple[float, Any, dict[str, Any]] | None = None
    tried = []
    for params in grid:
        est = make(params).fit(X[fit], y[fit])
        ap = float(average_precision_score(y[valid], est.margin(X[valid]), sample_weight=_w(w, valid)))
        tried.append({"params": params, "valid_auc_pr": ap})
        if best is None or ap > best[0]:
            best = (ap, est, params)
    assert best is not None
    return best[1], best[2], tried


def _calibrate(
    raw_calib: np.ndarray, y_calib: np.ndarray, raw_valid: np.ndarray, y_valid: np.ndarray,
    w_calib: np.ndarray | None = None, w_valid: np.ndarray | None = None,
) -> tuple[Calibrator, dict[str, float]]:  # fmt: skip
    from sklearn.metrics import brier_score_loss

    scores: dict[str, float] = {}
    best: tuple[float, Calibrator] | None = None
    for method in ("isotonic", "platt"):
        cal = Calibrator(method).fit(raw_calib, y_calib, sample_weight=w_calib)
        b = float(brier_score_loss(y_valid, cal.transform(raw_valid), sample_weight=w_valid))
        scores[method] = b
        if best is None or b < best[0]:
            best = (b, cal)
    scores["none"] = float(brier_score_loss(y_valid, raw_valid, sample_weight=w_valid))
    assert best is not None
    return best[1], scores


def _calibrate_and_threshold(
    est: Any, X: pd.DataFrame, y: np.ndarray, calib: np.ndarray, valid: np.ndarray, w: np.ndarray | None = None
) -> tuple[Calibrator, dict[str, float], Thresholds, np.ndarray]:
    """Calibrator (fitted on ``calib``, chosen on ``valid``) and the F-best thresholds on the calibrated ``valid``
    probabilities (early detection: rows not yet in proceedings; signaux forts, probability 1, are above any
    threshold). ``w``: a sample's weights (the population's probabilities and thresholds)."""
    raw_calib, raw_valid = sigmoid(est.margin(X[calib])), sigmoid(est.margin(X[valid]))
    calibrator, cal_scores = _calibrate(raw_calib, y[calib], raw_valid, y[valid], _w(w, calib), _w(w, valid))
    p_valid = calibrator.transform(raw_valid)
    return calibrator, cal_scores, Thresholds.fit(y[valid], p_valid, _w(w, valid)), p_valid


def _refit(
    make: Callable[[dict[str, Any]], Any], params: dict[str, Any], evaluated: FailureModel, df: pd.DataFrame,
    X: pd.DataFrame, y: np.ndarray, rs: Splits, early: np.ndarray, log: Callable[[str], None],
    w: np.ndarray | None = None,
) -> tuple[FailureModel, dict[str, Any]]:  # fmt: skip
    """The list model: ``params`` refitted on ``rs.fit``, calibrated on ``rs.calib``, thresholded on ``rs.valid``
    (early-detection rows), with the evaluated model's encoder and explanation groups."""
    from sklearn.metrics import average_precision_score

    fit, valid, calib = rs.fit & early, rs.valid & early, rs.calib & early
    for name, mask in (("fit", fit), ("valid", valid), ("calib", calib)):
        if len(np.unique(y[mask])) < 2:
            raise ValueError(f"the list model's {name} part has no failure before proceedings: the panel is too small")
    est = make(params).fit(X[fit], y[fit])
    calibrator, cal_scores, thresholds, p_valid = _calibrate_and_threshold(est, X, y, calib, valid, w)
    desc = rs.describe(df)
    del desc["test"]
    info = {
        "parts": desc,
        "valid_auc_pr": float(average_precision_score(y[valid], p_valid, sample_weight=_w(w, valid))),
        "calibration": {"method": calibrator.method, "validation_brier": cal_scores},
        "thresholds": thresholds.to_dict(),
    }
    log(
        f"{evaluated.kind}: list model refitted on {desc['fit']['from']} → {desc['fit']['to']} "
        f"({int(fit.sum()):,} rows), calibration {calibrator.method}, thresholds F0.5 {thresholds.high:.2f}, "
        f"F2 {thresholds.moderate:.2f} (calibrated and thresholded on other companies of the same months)"
        + (f" — DEGENERATE, fallback applied: {thresholds.fallback}" if thresholds.fallback else "")
    )
    model = FailureModel(
        kind=evaluated.kind, encoder=evaluated.encoder, estimator=est, calibrator=calibrator, thresholds=thresholds,
        groups=evaluated.groups, fingerprint=fingerprint(df.loc[fit | valid | calib],
                                                         [*evaluated.encoder.feature_names_in_, "siren", "failure"]),
        code_version=evaluated.code_version, params=params,
        training={
            **{k: v for k, v in evaluated.training.items() if k in ("last_month", "split_config")},
            "fit": desc["fit"], "valid": desc["valid"], "calib": desc["calib"],
            "fitted_rows": int(fit.sum()), "signaux_forts_excluded_from_fit": int((rs.fit & ~early).sum()),
            "evaluation": {k: v for k, v in evaluated.training.items() if k not in ("last_month", "split_config")},
        },
    )  # fmt: skip
    return model, info


def _evaluate(
    model: FailureModel, df: pd.DataFrame, mask: np.ndarray, oracle: dict[str, np.ndarray] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Test metrics with and without the signaux forts, thresholds, top-k, segments, oracle ratio."""
    part = df.loc[mask]
    y = part.failure.to_numpy().astype(int)
    p = model.predict_proba(part)
    sf = part.signal_fort.to_numpy().astype(bool)
    out: dict[str, Any] = {}
    curves: dict[str, Any] = {"y": y, "p": p, "signal_fort": sf}
    for name, keep in (("with_signaux_forts", np.ones(len(y), bool)), ("without_signaux_forts", ~sf)):
        yk, pk = y[keep], p[keep]
        m: dict[str, Any] = ranking_metrics(yk, pk)
        months = part.periode.to_numpy()[keep]
        m["monthly_auc_pr"] = monthly_auc_pr(yk, pk, months)
        m["risque_eleve"] = classification_at(yk, pk, model.thresholds.high, 0.5)
        m["risque_modere"] = classification_at(yk, pk, model.thresholds.moderate, 2.0)
        m["top_k"] = top_k_metrics(yk, pk).to_dict(orient="records")
        for key, score in (oracle or {}).items():
            o = ranking_metrics(yk, score[keep])
            m[f"{key}_auc_pr"] = o["auc_pr"]
            m[f"{key}_auc_roc"] = o["auc_roc"]
            m[f"{key}_ratio_auc_pr"] = m["auc_pr"] / o["auc_pr"] if o["auc_pr"] else float("nan")
            o_month = monthly_auc_pr(yk, score[keep], months)
            m[f"{key}_monthly_auc_pr"] = o_month
            m[f"{key}_monthly_ratio_auc_pr"] = m["monthly_auc_pr"] / o_month if o_month else float("nan")
        out[name] = m
    levels = alert_levels(p, model.thresholds)
    out["alert_volumes"] = {lvl: int((levels == lvl).sum()) for lvl in (ALERT_HIGH, ALERT_MODERATE)}
    out["reliability"] = reliability_curve(y, p).to_dict(orient="records")
    out["segments"] = {
        col: segment_metrics(y[~sf], p[~sf], part[col].iloc[np.flatnonzero(~sf)], model.thresholds).to_dict(
            orient="records"
        )
        for col in SEGMENTS
        if col in part.columns
    }
    curves.update(oracle or {})
    return out, curves


def _oracle(df: pd.DataFrame, ground_truth: pd.DataFrame | None) -> dict[str, np.ndarray] | None:
    """The twin's exact probabilities per row; 1 for companies already in proceedings (ground truth stops there).

    ``oracle``: ``p_failure_18m``, which propagates the world's actual future (sector shocks, crisis regime);
    ``oracle_now``: ``p_failure_18m_now``, the same with the month's conditions held (no knowledge of the future),
    when the twin provides it.
    """
    if ground_truth is None:
        return None
    cols = [c for c in ("p_failure_18m", "p_failure_18m_now") if c in ground_truth.columns]
    gt = ground_truth[["siren", "periode", *cols]].copy()
    gt["periode"] = pd.to_datetime(gt["periode"]).dt.to_period("M")
    gt["siren"] = gt["siren"].astype(str)
    merged = df[["siren", "periode"]].merge(gt, on=["siren", "periode"], how="left")
    del gt
    sf = df.signal_fort.to_numpy().astype(bool)
    out = {}
    for col, name in (("p_failure_18m", "oracle"), ("p_failure_18m_now", "oracle_now")):
        if col in merged.columns:
            p = np.where(sf, 1.0, merged[col].to_numpy(dtype=float))
            out[name] = np.where(np.isnan(p), 0.0, p)
    return out


def _backtest(
    df: pd.DataFrame, X: pd.DataFrame, y: np.ndarray, params: dict[str, Any], cfg: TrainConfig,
    last_labelled: pd.Period, log: Callable[[str], None], rep: np.ndarray | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Lists made as of past months: train on what was known then, score that month, compare with what happened
    (``rep``: the rows scored, the representative part of a sample)."""
    rows = []
    for offset in cfg.backtest_offsets:
        as_of = last_labelled - offset
        train_mask = (df.periode <= as_of - HORIZON).to_numpy() & ~df.signal_fort.to_numpy().astype(bool)
        score_mask = (df.periode == as_of).to_numpy()
        if rep is not None:
            score_mask = score_mask & rep
        if train_mask.sum() == 0 or len(np.unique(y[train_mask])) < 2 or score_mask.sum() == 0:
            continue
        est = _lightgbm(params, cfg.n_seeds).fit(X[train_mask], y[train_mask])
        s = sigmoid(est.margin(X[score_mask]))
        ys = y[score_mask]
        sf = df.signal_fort.to_numpy()[score_mask].astype(bool)
        m = ranking_metrics(ys[~sf], s[~sf])
        top = top_k_metrics(ys[~sf], s[~sf], (0.05,)).iloc[0]
        failed = int(ys[~sf].sum())
        rows.append({
            "as_of": str(as_of), "trained_to": str(as_of - HORIZON), "companies": int((~sf).sum()),
            "failed_within_18m": failed, "auc_roc": m["auc_roc"], "auc_pr": m["auc_pr"],
            "prevalence": m["prevalence"], "top5_precision": float(top.precision), "top5_recall": float(top.recall),
        })  # fmt: skip
        log(f"backtest as of {as_of}: AUC-PR {m['auc_pr']:.3f} (prevalence {m['prevalence']:.3f})")
    return rows


def _importance(model: FailureModel, df: pd.DataFrame) -> dict[str, Any]:
    """Mean absolute contribution per base feature and per theme (log-odds)."""
    from .explain import macro, micro

    contrib = model.contributions(df)
    mic = micro(model, contrib).abs().mean().sort_values(ascending=False)
    mac = macro(model, contrib).abs().mean().sort_values(ascending=False)
    return {"feature": {k: float(v) for k, v in mic.items()}, "theme": {k: float(v) for k, v in mac.items()}}


@dataclass
class _Prepared:
    """The panel encoded for training: features, target, the rows of each part and what every model shares."""

    df: pd.DataFrame
    splits: Splits
    desc: dict[str, Any]
    encoder: PanelEncoder
    X: pd.DataFrame
    y: np.ndarray
    cat_idx: tuple[int, ...]
    groups: dict[str, str]
    #: Rows not yet judged at their month (the signaux forts are left out of fitting).
    early: np.ndarray
    fit: np.ndarray
    valid: np.ndarray
    calib: np.ndarray
    fingerprint: str
    #: A sample's weights per row (``PanelSample.weights``); None: the whole panel, every row counts once.
    w: np.ndarray | None = None
    #: The rows the evaluation is reported on: the representative part of a sample (every row without one).
    rep: np.ndarray | None = None


def train(
    df: pd.DataFrame,
    last_month: pd.Period,
    cfg: TrainConfig | None = None,
    ground_truth: pd.DataFrame | None = None,
    log: Callable[[str], None] = lambda s: None,
    sample: PanelSample | None = None,
) -> TrainOutput:
    """The whole protocol of the module docstring on a panel DataFrame (perimeter rows).

    ``sample``: ``df`` holds a sample of the companies (``dataset.PanelSample``, drawn by ``run_train`` above
    ``train_max_rows``): the models are fitted on it, and calibrated, thresholded and chosen with its weights;
    the evaluation (test, backtest, list month, term structure) is reported on its representative part."""
    cfg = cfg or TrainConfig()
    t0 = time.perf_counter()
    d = _prepare(df, cfg, last_month, log, sample)
    test = d.splits.test if d.rep is None else d.splits.test & d.rep
    oracle = _oracle(df.loc[test, ["siren", "periode", "signal_fort"]], ground_truth)
    models: dict[str, FailureModel] = {}
    evaluated: dict[str, FailureModel] = {}
    metrics: dict[str, Any] = {"splits": d.desc, "feature_count": len(d.encoder.feature_names_in_)}
    if sample is not None:
        metrics["sample"] = {**sample.describe(), "representative_test_rows": int(test.sum()),
                             "weighted": "calibration, thresholds, choice of configurations, themes and list model",
                             "reported_on": "the representative part (companies drawn below the rate)"}  # fmt: skip
    curves: dict[str, Any] = {}
    kinds: dict[str, tuple[Callable[[dict[str, Any]], Any], tuple[dict[str, Any], ...]]] = {
        "lightgbm": (lambda p: _lightgbm(p, cfg.n_seeds), cfg.lightgbm_grid),
        "logistic": (lambda p: _logistic(p, d.cat_idx), cfg.logistic_grid),
    }
    refit = refit_splits(df, cfg.splits, last_month) if cfg.refit else None
    chosen: dict[str, dict[str, Any]] = {}
    for kind, (make, grid) in kinds.items():
        model, curves[kind] = _evaluated_model(kind, make, grid, d, cfg, last_month, oracle, log, test)
        evaluated[kind] = models[kind] = model
        metrics[kind] = model.metrics
        chosen[kind] = model.params
    if refit is not None:  # the list models: the chosen configurations on the latest months, selected themes
        _list_models(d, cfg, last_month, refit, chosen, evaluated, models, metrics, log)
    lgb_params = evaluated["lightgbm"].params
    metrics["backtest"] = _backtest(df, d.X, d.y, lgb_params, cfg, d.splits.last_labelled, log, d.rep)
    metrics["seconds"] = round(time.perf_counter() - t0, 1)
    metrics["code_version"] = code_version()
    metrics["fingerprint"] = d.fingerprint
    for m in models.values():
        m.metrics = {**m.metrics, "backtest": metrics["backtest"]}
    valid = (refit.valid if refit is not None else d.splits.valid) & d.early
    metrics["selection"] = _selection(models, d.X[valid], d.y[valid], d.df.siren.to_numpy()[valid], _w(d.w, valid),
                                      log, cfg.selection_draws)  # fmt: skip
    detection = _list_month_detection(models, df, ground_truth, last_month, d.rep)
    if detection is not None:
        metrics["list_month"] = detection
    terms = _term_structure(models[metrics["selection"]["selected"]], df, last_month, d.rep)
    if terms is not None:
        metrics["term_structure"] = terms
    for m in models.values():
        m.metrics = {**m.metrics, "selection": metrics["selection"], **({"list_month": detection} if detection else {})}
    return TrainOutput(models[metrics["selection"]["selected"]], models["logistic"], metrics, curves, evaluated,
                       list_models=models)  # fmt: skip


def _prepare(
    df: pd.DataFrame, cfg: TrainConfig, last_month: pd.Period, log: Callable[[str], None],
    sample: PanelSample | None = None,
) -> _Prepared:  # fmt: skip
    """Split the panel in time, encode it, and check every part holds failures before proceedings."""
    splits: Splits = make_splits(df, cfg.splits, last_month)
    desc = splits.describe(df)
    w = rep = None
    if sample is not None:
        w, rep = sample.weights(df.siren, df.failure), sample.representative(df.siren)
        log(f"sample of the survivors (train_max_rows {sample.max_rows:,}): {sample.kept_companies:,} of "
            f"{sample.companies:,} companies ({sample.kept_rows:,} of {sample.rows:,} rows), every one of the "
            f"{sample.failing_companies:,} failing companies and the others at rate {sample.rate:.4f} (weight "
            f"{1 / sample.rate:.2f}); the parts below are the sample's")  # fmt: skip
    for name, d in desc.items():
        log(
            f"{name}: {d['rows']:,} rows, {d['companies']:,} companies, {d['from']} → {d['to']}, prevalence {d['prevalence']:.3f}"
        )
    # a sample (national size): the matrix in float32, half the memory (the estimators take it as it is)
    encoder = PanelEncoder(dtype="float32" if sample is not None else None).fit(df.loc[splits.fit])
    X = encoder.transform(df)
    y = df.failure.to_numpy().astype(int)
    cat_idx = tuple(i for i, c in enumerate(encoder.feature_names_in_) if c in encoder.categories_)
    groups = feature_groups()
    # Signaux forts (already judged at the month) have a known outcome (failure = 1 by the target's definition):
    # the models learn early detection on the other rows, and a signal fort's displayed probability is 1.
    early = ~df.signal_fort.to_numpy().astype(bool)
    fit, valid, calib = splits.fit & early, splits.valid & early, splits.calib & early
    dev = fit | valid | calib
    for name, mask in (("fit", fit), ("valid", valid), ("calib", calib)):
        if len(np.unique(y[mask])) < 2:
            raise ValueError(
                f"the {name} part has no failure before proceedings: the panel is too small or too short to train on"
            )
    fp = fingerprint(df.loc[dev], [*encoder.feature_names_in_, "siren", "failure"])
    return _Prepared(df, splits, desc, encoder, X, y, cat_idx, groups, early, fit, valid, calib, fp, w, rep)


def _evaluated_model(
    kind: str, make: Callable[[dict[str, Any]], Any], grid: tuple[dict[str, Any], ...], d: _Prepared,
    cfg: TrainConfig, last_month: pd.Period, oracle: dict[str, np.ndarray] | None, log: Callable[[str], None],
    test: np.ndarray,
) -> tuple[FailureModel, dict[str, Any]]:  # fmt: skip
    """One kind of model: its configuration chosen on validation, calibrated, thresholded and evaluated on the
    test (``test``: the test rows reported on); its metrics in ``model.metrics``; returned with its test curves."""
    df, X, y, valid = d.df, d.X, d.y, d.valid
    est, params, tried = _select(make, grid, X, y, d.fit, valid, d.w)
    log(f"{kind}: chose {params} (validation AUC-PR {max(t['valid_auc_pr'] for t in tried):.3f})")
    calibrator, cal_scores, thresholds, p_valid = _calibrate_and_threshold(est, X, y, d.calib, valid, d.w)
    log(
        f"{kind}: calibration {calibrator.method} (validation Brier {cal_scores}); thresholds F0.5 {thresholds.high:.2f}, F2 {thresholds.moderate:.2f}"
        + (f" — DEGENERATE, fallback applied: {thresholds.fallback}" if thresholds.fallback else "")
    )
    desc = d.desc
    model = FailureModel(
        kind=kind, encoder=d.encoder, estimator=est, calibrator=calibrator, thresholds=thresholds,
        groups=d.groups, fingerprint=d.fingerprint, code_version=code_version(), params=params,
        training={
            "last_month": str(last_month), "fit": desc["fit"], "valid": desc["valid"], "calib": desc["calib"],
            "test": desc["test"], "split_config": cfg.splits.__dict__,
            "fitted_rows": int(d.fit.sum()), "signaux_forts_excluded_from_fit": int((d.splits.fit & ~d.early).sum()),
        },
    )  # fmt: skip
    test_metrics, test_curves = _evaluate(model, df, test, oracle)
    model.metrics = {
        "params": params,
        "grid": tried,
        "calibration": {"method": calibrator.method, "validation_brier": cal_scores},
        "thresholds": thresholds.to_dict(),
        "validation": {
            "f05": fbeta_curve(y[valid], p_valid, 0.5, sample_weight=_w(d.w, valid)).to_dict(orient="records"),
            "f2": fbeta_curve(y[valid], p_valid, 2.0, sample_weight=_w(d.w, valid)).to_dict(orient="records"),
        },
        "test": test_metrics,
        "importance": _importance(model, df.loc[test]),
    }
    return model, test_curves


def _list_models(
    d: _Prepared, cfg: TrainConfig, last_month: pd.Period, refit: Splits, chosen: dict[str, dict[str, Any]],
    evaluated: dict[str, FailureModel], models: dict[str, FailureModel], metrics: dict[str, Any],
    log: Callable[[str], None],
) -> None:  # fmt: skip
    """The list models (into ``models``, their figures into ``metrics``): the chosen configurations refitted on the
    latest months with the selected themes, then the hazard model and the average of the three."""
    df, X, y, early, cat_idx = d.df, d.X, d.y, d.early, d.cat_idx
    n_feat = X.shape[1]
    columns, metrics["themes"] = (
        _select_themes(X, y, refit, early, d.encoder, d.groups, cat_idx, log, w=d.w)
        if cfg.select_themes
        else (list(range(n_feat)), None)
    )
    sub_cat = tuple(j for j, i in enumerate(columns) if i in cat_idx)

    def wrap(est: Any) -> Any:
        return est if len(columns) == n_feat else ColumnSubset(est, columns, n_feat)

    list_makers: dict[str, Callable[[dict[str, Any]], Any]] = {
        "lightgbm": lambda p: wrap(_lightgbm(p, cfg.n_seeds)),
        "logistic": lambda p: wrap(_logistic(p, sub_cat)),
    }
    for kind, make in list_makers.items():
        models[kind], metrics[kind]["list_model"] = _refit(make, chosen[kind], evaluated[kind], df, X, y, refit,
                                                           early, log, d.w)  # fmt: skip
        models[kind].metrics = metrics[kind]
    if not cfg.hazard:
        return
    hz = wrap(HazardClassifier(**cfg.hazard_params, n_seeds=cfg.hazard_seeds, categorical=sub_cat))
    hazard_fit = _fit_hazard(df, X, y, cfg, last_month, refit, early, models["lightgbm"], hz, log, d.w)
    if hazard_fit is None:
        # too few judgments in the latest months (a small panel): the list models stay LightGBM and logistic
        log("hazard: no first judgment among its rows (latest months of the fitting groups): hazard and "
            "average list models skipped, no term structure")  # fmt: skip
        metrics["hazard_skipped"] = "no first judgment among the hazard model's rows"
        return
    models["hazard"], hz_info = hazard_fit
    metrics["hazard"] = {"params": models["hazard"].params, "list_model": hz_info,
                         "thresholds": hz_info["thresholds"], "calibration": hz_info["calibration"]}  # fmt: skip
    _average_model(d, refit, models, metrics, log, cfg.payment_member)
    for m in models.values():
        m.term_model = models["hazard"].estimator
    for kind in ("hazard", "average"):
        models[kind].metrics = metrics[kind]


def _average_model(
    d: _Prepared, refit: Splits, models: dict[str, FailureModel], metrics: dict[str, Any],
    log: Callable[[str], None], payment: bool = True,
) -> None:  # fmt: skip
    """The average list model: the mean log-odds of the LightGBM, logistic and hazard list models and, with
    ``payment``, of the payment member (``PAYMENT_COLUMNS``, fitted on the logistic list model's rows)."""
    members = ["lightgbm", "logistic", "hazard"]
    estimators = [models[k].estimator for k in members]
    spans = [models[k].training["fit"] for k in members]
    names = [str(c) for c in d.encoder.feature_names_in_]
    cols = [names.index(c) for c in PAYMENT_COLUMNS if c in names]
    if payment and cols:
        est, _, (tried,) = _select(lambda p: ColumnSubset(_logistic(p, ()), cols, len(names)), (PAYMENT_PARAMS,),
                                   d.X, d.y, refit.fit & d.early, refit.valid & d.early, d.w)  # fmt: skip
        members.append("payment")
        estimators.append(est)
        spans.append(models["logistic"].training["fit"])
        ap = tried["valid_auc_pr"]
        metrics["payment_member"] = {"columns": [names[i] for i in cols], "params": dict(PAYMENT_PARAMS),
                                     "valid_auc_pr": ap}  # fmt: skip
        log(f"payment member of the average: logistic on {', '.join(names[i] for i in cols)}, validation AUC-PR "
            f"{ap:.3f} (not a candidate on its own)")  # fmt: skip
    avg = MarginAverage(estimators, members)
    fitted = {"from": min(str(f["from"]) for f in spans), "to": max(str(f["to"]) for f in spans),
              "rows": sum(int(f["rows"]) for f in spans), "members": members}  # fmt: skip
    models["average"], avg_info = _list_candidate("average", avg, {"members": members}, models["lightgbm"], d.df,
                                                  d.X, d.y, refit, d.early, fitted, log, d.w)  # fmt: skip
    metrics["average"] = {"params": {"members": members}, "list_model": avg_info,
                          "thresholds": avg_info["thresholds"], "calibration": avg_info["calibration"]}  # fmt: skip


def _select_themes(
    X: pd.DataFrame, y: np.ndarray, rs: Splits, early: np.ndarray, encoder: PanelEncoder, groups: dict[str, str],
    cat_idx: tuple[int, ...], log: Callable[[str], None], min_gain: float = 0.02, w: np.ndarray | None = None,
) -> tuple[list[int], dict[str, Any]]:  # fmt: skip
    """The list models' input themes, by forward selection: a logistic regression (C 0.01, fast) fitted on the
    list models' fitting rows scores each candidate set by AUC-PR on the companies held out from them (the
    validation and calibration groups, same latest labelled months, firms not yet judged). Themes are added, best
    first, while one improves the AUC-PR by more than ``min_gain`` (relative); every theme together is a
    candidate too. Many weak columns cost the 18-month models more than they bring when the failures to learn
    from are few (docs/model.md). The kinds are then compared on the same themes, so this choice favours none."""
    from sklearn.metrics import average_precision_score

    from signaux_faibles.contract import THEMES

    fit, judge = rs.fit & early, (rs.valid | rs.calib) & early
    names = [str(c) for c in encoder.feature_names_in_]
    present = [t for t in THEMES if any(groups.get(c, "autres") == t for c in names)]

    def cols_of(themes: list[str]) -> list[int]:
        return [i for i, c in enumerate(names) if groups.get(c, "autres") in themes]

    def score(themes: list[str]) -> float:
        cols = cols_of(themes)
        cat = tuple(j for j, i in enumerate(cols) if i in cat_idx)
        est = PanelLogistic(categorical=cat, C=0.01).fit(X.loc[fit].iloc[:, cols], y[fit])
        return float(average_precision_score(y[judge], est.margin(X.loc[judge].iloc[:, cols]),
                                             sample_weight=_w(w, judge)))  # fmt: skip

    if len(np.unique(y[fit])) < 2 or len(np.unique(y[judge])) < 2:
        return list(range(len(names))), {"themes": present, "steps": [], "reason": "too few failures to choose"}
    chosen: list[str] = []
    best = -np.inf
    steps = []
    while len(chosen) < len(present):
        trial = {t: score([*chosen, t]) for t in present if t not in chosen}
        theme, ap = max(trial.items(), key=lambda kv: kv[1])
        steps.append({"added": theme, "auc_pr": ap, "others": {k: v for k, v in trial.items() if k != theme}})
        if ap <= best * (1 + min_gain):
            break
        chosen.append(theme)
        best = ap
    every = score(present) if len(chosen) < len(present) else best
    if every >= best:
        chosen, best = list(present), every
    info = {"by": "forward selection, logistic C 0.01, AUC-PR on the validation and calibration groups", "themes": chosen,
            "auc_pr": best, "all_themes_auc_pr": every, "steps": steps,
            "columns": len(cols_of(chosen)), "all_columns": len(names)}  # fmt: skip
    log(f"list models' themes: {', '.join(chosen)} ({info['columns']} of {len(names)} columns; held-out AUC-PR "
        f"{best:.3f}, every theme {every:.3f})")  # fmt: skip
    return cols_of(chosen), info


def _list_candidate(
    kind: str, est: Any, params: dict[str, Any], base: FailureModel, df: pd.DataFrame, X: pd.DataFrame,
    y: np.ndarray, rs: Splits, early: np.ndarray, fitted: dict[str, Any], log: Callable[[str], None],
    w: np.ndarray | None = None,
) -> tuple[FailureModel, dict[str, Any]]:  # fmt: skip
    """A list model other than the refitted ones (hazard, average): calibrated on ``rs.calib`` and thresholded on
    ``rs.valid`` (early-detection rows, 18-month labels), as the refitted list models are."""
    valid, calib = rs.valid & early, rs.calib & early
    calibrator, cal_scores, thresholds, p_valid = _calibrate_and_threshold(est, X, y, calib, valid, w)
    from sklearn.metrics import average_precision_score

    desc = rs.describe(df)
    info = {
        "parts": {"fit": fitted, "valid": desc["valid"], "calib": desc["calib"]},
        "valid_auc_pr": float(average_precision_score(y[valid], p_valid, sample_weight=_w(w, valid))),
        "calibration": {"method": calibrator.method, "validation_brier": cal_scores},
        "thresholds": thresholds.to_dict(),
    }
    members = f" (average of {', '.join(fitted['members'])})" if fitted.get("members") else ""
    log(
        f"{kind}: list model fitted on {fitted.get('from')} → {fitted.get('to')} ({fitted.get('rows', 0):,} rows){members}, "
        f"calibration {calibrator.method}, thresholds F0.5 {thresholds.high:.2f}, F2 {thresholds.moderate:.2f}"
        + (f" — DEGENERATE, fallback applied: {thresholds.fallback}" if thresholds.fallback else "")
    )
    model = FailureModel(
        kind=kind, encoder=base.encoder, estimator=est, calibrator=calibrator, thresholds=thresholds,
        groups=base.groups, fingerprint=base.fingerprint, code_version=base.code_version, params=params,
        training={**{k: v for k, v in base.training.items() if k in ("last_month", "split_config", "evaluation")},
                  "fit": fitted, "valid": desc["valid"], "calib": desc["calib"]},
    )  # fmt: skip
    return model, info


def _fit_hazard(
    df: pd.DataFrame, X: pd.DataFrame, y: np.ndarray, cfg: TrainConfig, last_month: pd.Period, rs: Splits,
    early: np.ndarray, base: FailureModel, est: Any, log: Callable[[str], None], w: np.ndarray | None = None,
) -> tuple[FailureModel, dict[str, Any]] | None:  # fmt: skip
    """The hazard list model (:class:`~.hazard.HazardClassifier`) on the latest ``hazard_months`` months of the
    fitting groups, censored rows included; calibrated and thresholded like the other list models. None when
    those rows hold no first judgment (nothing to learn)."""
    rows = hazard_rows(df, cfg.splits, last_month)
    event, duration = hazard_targets(df, last_month)
    rows &= duration > 0
    if event[rows].sum() == 0:
        return None
    params = {**cfg.hazard_params, "n_seeds": cfg.hazard_seeds}
    est.fit(X[rows], event[rows], duration=duration[rows])
    inner = getattr(est, "estimator", est)
    part = df.loc[rows, ["periode", "siren"]]
    intervals = [{"months": f"{a}-{b}", "rows": r, "events": e} for a, b, r, e in zip(
        [0, *inner.intervals[:-1]], inner.intervals, inner.interval_rows_, inner.interval_events_, strict=True)]  # fmt: skip
    fitted: dict[str, Any] = {
        "from": str(part.periode.min()), "to": str(part.periode.max()), "rows": int(rows.sum()),
        "companies": int(part.siren.nunique()), "positives": int(event[rows].sum()),
        "prevalence": float(event[rows].mean()), "intervals": intervals,
    }  # fmt: skip
    log("hazard: " + ", ".join(f"months {i['months']}: {i['rows']:,} rows at risk, {i['events']} judgments"
                               for i in intervals))  # fmt: skip
    model, info = _list_candidate("hazard", est, params, base, df, X, y, rs, early, fitted, log, w)
    model.training["fitted_rows"] = int(rows.sum())
    info["intervals"] = intervals
    return model, info


def _list_month_detection(
    models: dict[str, FailureModel], df: pd.DataFrame, ground_truth: pd.DataFrame | None, last_month: pd.Period,
    rep: np.ndarray | None = None,
) -> dict[str, Any] | None:  # fmt: skip
    """On the twin, the headline: at the list month (the month ``score`` lists), the firms not yet judged (no
    first judgment dated up to the end of the month), each list model's AUC-PR beside the prevalence and the
    oracle's, their ratio, precision and recall of each alert level and the alert volumes (``rep``: the rows
    reported on, the representative part of a sample)."""
    if ground_truth is None or not models:
        return None
    from .metrics import list_vs_oracle

    try:
        month = _list_month(df, last_month, rep)
    except ValueError:
        return None
    in_month = (df.periode == month).to_numpy()
    rows = df[in_month if rep is None else in_month & rep].drop_duplicates("siren")
    first = pd.to_datetime(rows["date_premier_jugement"]) if "date_premier_jugement" in rows else None
    judged = first.le(month.to_timestamp(how="end")).fillna(False).to_numpy(dtype=bool) if first is not None else np.zeros(len(rows), bool)
    free = rows[~judged]
    truth = ground_truth[["siren", "periode", "failure_18m", "p_failure_18m"]].copy()
    truth["siren"] = truth["siren"].astype(str)
    truth["periode"] = pd.to_datetime(truth["periode"].astype(str)).dt.to_period("M")
    known = free[["siren", "periode"]].reset_index().merge(truth, on=["siren", "periode"], how="inner")
    known = known.dropna(subset=["failure_18m"])
    if known.failure_18m.sum() < 10:
        return None
    part = free.loc[known["index"].to_numpy()]
    yk = known.failure_18m.to_numpy().astype(int)
    out: dict[str, Any] = {"periode": str(month), "judged": int(judged.sum()), "rows": len(part), "failures": int(yk.sum()),
                           "prevalence": float(yk.mean()), "kinds": {}}  # fmt: skip
    for kind, model in models.items():
        p = model.predict_proba(part)
        vs = list_vs_oracle(part[["siren", "periode"]].assign(probability=p), ground_truth)
        if vs is None:
            continue
        out["oracle_auc_pr"] = vs["oracle_auc_pr"]
        out["kinds"][kind] = {
            "auc_pr": vs["auc_pr"], "ratio": vs["ratio"],
            "risque_eleve": classification_at(yk, p, model.thresholds.high, 0.5),
            "risque_modere": classification_at(yk, p, model.thresholds.moderate, 2.0),
        }  # fmt: skip
    return out


def _list_month(df: pd.DataFrame, last_month: pd.Period, rep: np.ndarray | None) -> pd.Period:
    """The list month (``complete_month``), on the representative part of a sample: its failing companies, over
    represented, would move the cotisations' coverage the month is chosen by."""
    if rep is None:
        return complete_month(df, last_month)
    return complete_month(df.loc[rep, ["periode", "cotisation_moy12m"]], last_month)


def _term_structure(
    model: FailureModel, df: pd.DataFrame, last_month: pd.Period, rep: np.ndarray | None = None
) -> dict[str, Any] | None:
    """The list model's term structure at the list month: mean probability of a first judgment within 3, 6, 12
    and 18 months per alert level, over the firms not yet judged (the model card's table; ``rep``: the
    representative part of a sample)."""
    from .artefact import TERM_COLUMNS

    if model.term_model is None:
        return None
    try:
        month = _list_month(df, last_month, rep)
    except ValueError:
        return None
    keep = (df.periode == month).to_numpy() & ~df.signal_fort.fillna(False).to_numpy(dtype=bool)
    rows = df[keep if rep is None else keep & rep].drop_duplicates("siren")
    if rows.empty:
        return None
    p = model.predict_proba(rows)
    ts = model.term_structure(rows, p).assign(level=alert_levels(p, model.thresholds))
    table = ts.groupby("level")[list(TERM_COLUMNS)].mean()
    counts = ts.groupby("level").size().to_dict()
    return {"periode": str(month), "levels": {str(k): {"firms": int(counts[k]), **{str(c): float(v) for c, v in row.items()}}
                                              for k, row in table.iterrows()}}  # fmt: skip


def _selection(
    models: dict[str, FailureModel], X: pd.DataFrame, y: np.ndarray, companies: np.ndarray, w: np.ndarray | None,
    log: Callable[[str], None], draws: int = 200, level: float = 0.9, seed: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """The list model's kind, on the list models' validation (``X``, ``y``: the latest labelled months, companies
    none of them was fitted on, firms not yet in proceedings; ``w``: a sample's weights).

    Each candidate ranks the validation by its published probability (early-detection AUC-PR). The validation
    holds a few hundred failing firms: kinds differ there by less than its noise, and picking the best point
    estimate chased that noise (``docs/model.md``, the selection). So the **average** of the list models is
    published by default (the logistic baseline when there is no hazard model, hence no average), and another
    candidate replaces it only when it **beats** it: a higher AUC-PR in at least ``level`` of ``draws`` draws of
    the validation's companies (Poisson bootstrap, the same draws for every candidate); among several, the best
    point estimate. The logistic baseline is a candidate, and a model it beats is never published."""
    kinds = [k for k in LIST_KINDS if k in models]
    p = {k: models[k].calibrator.transform(sigmoid(np.asarray(models[k].estimator.margin(X)))) for k in kinds}
    order = {k: np.argsort(-p[k], kind="mergesort") for k in kinds}
    base_w = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    scores = {k: weighted_average_precision(y, p[k], base_w, order[k]) for k in kinds}
    codes, uniq = pd.factorize(companies)
    rng = np.random.default_rng(seed)
    boot = {k: np.empty(draws) for k in kinds}
    for i in range(draws):
        wi = base_w * rng.poisson(1.0, len(uniq))[codes]
        for k in kinds:
            boot[k][i] = weighted_average_precision(y, p[k], wi, order[k])

    def beats(a: str, b: str) -> float:
        return float(np.mean(boot[a] > boot[b]))

    default = next(k for k in ("average", "logistic", *kinds) if k in kinds)
    wins = {k: beats(k, default) for k in kinds if k != default}
    challengers = [k for k, v in wins.items() if v >= level]
    selected = max(challengers, key=lambda k: scores[k]) if challengers else default
    baseline_wins = beats("logistic", selected) if "logistic" in kinds and selected != "logistic" else 0.0
    if baseline_wins >= level:
        selected, baseline_wins = "logistic", 0.0
    log("selection of the list model (early-detection AUC-PR on the latest labelled validation months): "
        + ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
        + f"; {default} by default, replaced only by a model beating it in {level:.0%} of {draws} draws of the "
        f"companies (" + ", ".join(f"{k} {v:.0%}" for k, v in wins.items()) + f") → {selected}")  # fmt: skip
    return {"by": "early-detection AUC-PR on the list models' validation (latest labelled months, firms not yet "
                  "in proceedings); the default replaced only by a model beating it in most draws of the companies",
            "scores": scores, "default": default, "wins_over_default": wins, "level": level, "draws": draws,
            "selected": selected, "baseline": "logistic",
            "baseline_wins": baseline_wins, "beats_baseline": baseline_wins < level}  # fmt: skip


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer | np.floating):
        return o.item()
    if isinstance(o, pd.Period):
        return str(o)
    raise TypeError(type(o))


def training_columns(available: list[str]) -> list[str]:
    """The panel columns training reads, among ``available``: the model's features, ``TRAINING_KEYS`` (keys,
    target, signaux forts, hazard targets, list month) and the evaluation's segments."""
    wanted = dict.fromkeys([*TRAINING_KEYS, *feature_columns(), *SEGMENTS])
    have = set(available)
    return [c for c in wanted if c in have]


#: The ground truth's columns the oracle comparisons read.
GROUND_TRUTH_COLUMNS = ("siren", "periode", "failure_18m", "p_failure_18m", "p_failure_18m_now")


def _ground_truth_since(df: pd.DataFrame, cfg: TrainConfig, last: pd.Period, sample: PanelSample | None) -> pd.Period:
    """The first month the oracle comparisons read: the test's first month (at most ``test_months`` after the last
    labelled one) or the list month, the earlier."""
    first = last - HORIZON - (cfg.splits.test_months - 1)
    try:
        return min(first, _list_month(df, last, sample.representative(df.siren) if sample is not None else None))
    except ValueError:
        return first


def read_ground_truth(
    path: Path, since: pd.Period | None = None, until: pd.Period | None = None, sample: PanelSample | None = None
) -> pd.DataFrame:
    """The twin's ground truth: ``GROUND_TRUTH_COLUMNS`` (those present), months ``since`` .. ``until``, the
    ``sample``'s companies; the selection pushed into the Parquet scan."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    dataset = ds.dataset(path, format="parquet")
    cols = [c for c in GROUND_TRUTH_COLUMNS if c in dataset.schema.names]
    cond = None
    periode_type = dataset.schema.field("periode").type if "periode" in dataset.schema.names else None
    if periode_type is not None and pa.types.is_date(periode_type):
        if since is not None:
            cond = ds.field("periode") >= since.to_timestamp().date()
        if until is not None:
            c = ds.field("periode") < (until + 1).to_timestamp().date()
            cond = c if cond is None else cond & c
    if sample is not None:
        c = ds.field("siren").isin(pa.array(sample.sirens, type=pa.string()))
        cond = c if cond is None else cond & c
    return dataset.to_table(columns=cols, filter=cond).to_pandas()


def run_train(
    data_dir: Path, batch: str, *, ground_truth: Path | None = None, cfg: TrainConfig | None = None,
    log: Callable[[str], None] = print,
) -> TrainOutput:  # fmt: skip
    """Train on ``data_dir``'s panel; save ``models/<batch>/model.joblib`` (LightGBM), ``model_logistic.joblib``,
    ``metrics.json`` and the model card ``report.html``. The twin's ground truth (default
    ``data_dir/twin/ground_truth.parquet`` when it exists) adds the oracle comparison.

    Only what training uses is read (:func:`training_columns`, the months up to the batch); above
    ``train_max_rows`` rows (``TrainConfig.max_rows``, default the setting), a sample of the survivors
    (``dataset.PanelSample``): a first pass reads three columns to draw it, the second reads its companies only."""
    cfg = cfg or TrainConfig()
    last = batch_month(batch)
    companies, panel_last = panel_companies(data_dir, last)
    if panel_last is None:
        raise ValueError(f"the panel under {data_dir} has no perimeter rows")
    if panel_last < last:
        raise ValueError(
            f"the panel ends at {panel_last}, before batch {batch}: rebuild it with `signaux-faibles panel --batch {batch}`"
        )
    if cfg.max_rows is None:
        from signaux_faibles.config import get_settings

        cfg = replace(cfg, max_rows=get_settings().train_max_rows)
    assert cfg.max_rows is not None
    sample = sample_companies(companies, cfg.max_rows, cfg.sample_seed)
    del companies
    columns = training_columns(panel_columns(data_dir))
    df = load_panel(data_dir, columns, until=last, sirens=sample.sirens if sample else None,
                    float32=sample is not None)  # fmt: skip
    if df.empty:
        raise ValueError(f"the panel under {data_dir} has no perimeter rows up to {last}")
    gt_path = ground_truth if ground_truth is not None else DataDir(data_dir).ground_truth
    gt = read_ground_truth(gt_path, _ground_truth_since(df, cfg, last, sample), last, sample) if gt_path.is_file() else None
    out = train(df, last, cfg, gt, log, sample)
    target = DataDir(data_dir).model(batch)
    target.mkdir(parents=True, exist_ok=True)
    out.model.save(target / "model.joblib")
    out.logistic.save(target / "model_logistic.joblib")
    (target / "metrics.json").write_text(
        json.dumps(out.metrics, default=_json_default, indent=1), encoding="utf-8"
    )
    write_report(out, target / "report.html", batch=batch, ground_truth=gt is not None)
    return out
