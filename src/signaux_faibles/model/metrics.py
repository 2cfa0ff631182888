"""Metrics of the failure model: ranking, calibration, the two alert thresholds, top-k and per-segment tables.

Thresholds follow the real system (SFDL ``evaluation.py``): the one maximising F0.5 on validation gives "risque
élevé" ("Alerte seuil F1"), the one maximising F2 "risque modéré" ("Alerte seuil F2"). The real system searches a
grid of 101 values in [0, 1]; ours has 1001 (steps of 0.001), because calibrated probabilities of a 3 % event sit
mostly below 0.1, where a 0.01 step is too coarse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from signaux_faibles.contract import ALERT_HIGH, ALERT_MODERATE, ALERT_NONE

__all__ = [
    "THRESHOLD_GRID",
    "Thresholds",
    "alert_levels",
    "best_threshold",
    "classification_at",
    "degenerate",
    "fbeta_curve",
    "list_vs_oracle",
    "monthly_auc_pr",
    "ranking_metrics",
    "reliability_curve",
    "segment_metrics",
    "top_k_metrics",
    "volume_thresholds",
    "weighted_average_precision",
]

THRESHOLD_GRID = np.linspace(0.0, 1.0, 1001)


def _arr(x: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(x, dtype=float)


def fbeta_curve(
    y: ArrayLike, p: ArrayLike, beta: float, grid: NDArray[np.float64] = THRESHOLD_GRID,
    sample_weight: ArrayLike | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Precision, recall, F-beta and alert volume at each threshold of ``grid`` (alert when ``p >= t``).

    ``sample_weight``: each row counts for that many (a sample of the survivors, ``dataset.PanelSample``):
    precision and recall are the population's estimates; ``alerts`` stays the count of sampled rows."""
    y_a, p_a = _arr(y).astype(bool), _arr(p)
    order = np.argsort(p_a, kind="stable")
    p_sorted, y_sorted = p_a[order], y_a[order]
    # rows with p >= t are the tail of the ascending order, starting at searchsorted(t, "left")
    start = np.searchsorted(p_sorted, grid, side="left")
    if sample_weight is None:
        tail_pos = np.concatenate([np.cumsum(y_sorted[::-1])[::-1], [0]])  # positives in p_sorted[i:]
        n_pred = (len(p_a) - start).astype(float)
        tp = tail_pos[start].astype(float)
        n_pos = float(y_a.sum())
    else:
        w_sorted = _arr(sample_weight)[order]
        tail_w = np.concatenate([np.cumsum(w_sorted[::-1])[::-1], [0.0]])  # weight of p_sorted[i:]
        tail_pos_w = np.concatenate([np.cumsum((w_sorted * y_sorted)[::-1])[::-1], [0.0]])
        n_pred, tp = tail_w[start], tail_pos_w[start]
        n_pos = float(tail_pos_w[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(n_pred > 0, tp / n_pred, 0.0)
        rec = np.full_like(tp, 0.0) if n_pos == 0 else tp / n_pos
        b2 = beta * beta
        f = np.where(prec + rec > 0, (1 + b2) * prec * rec / (b2 * prec + rec), 0.0)
    return pd.DataFrame({"threshold": np.asarray(grid, dtype=float), "precision": prec, "recall": rec, "fbeta": f,
                         "alerts": (len(p_a) - start).astype(int)})  # fmt: skip


def best_threshold(
    y: ArrayLike, p: ArrayLike, beta: float, grid: NDArray[np.float64] = THRESHOLD_GRID,
    sample_weight: ArrayLike | None = None,
) -> float:  # fmt: skip
    """The threshold of ``grid`` with the highest F-beta (the lowest such threshold on ties)."""
    curve = fbeta_curve(y, p, beta, grid, sample_weight)
    return float(curve.threshold.iloc[int(np.argmax(curve.fbeta.to_numpy()))])


#: The documented fallback when the F-best thresholds are degenerate: the real system's volumes, about 2 % of
#: the firms in "risque élevé" and 4 % more in "risque modéré" (quantiles of the validation probabilities).
FALLBACK_HIGH_SHARE, FALLBACK_MODERATE_SHARE = 0.02, 0.06
#: Over this share of firms alerted, the thresholds are degenerate.
MAX_ALERTED_SHARE = 1 / 3


@dataclass(frozen=True)
class Thresholds:
    """The two alert thresholds on the displayed (calibrated) probability; ``fallback`` says why the documented
    volume rule replaced the F-best ones (None: the F-best thresholds hold)."""

    high: float  # F0.5-best: "risque élevé" / "Alerte seuil F1"
    moderate: float  # F2-best: "risque modéré" / "Alerte seuil F2"
    fallback: str | None = None

    @classmethod
    def fit(cls, y: ArrayLike, p: ArrayLike, sample_weight: ArrayLike | None = None) -> Thresholds:
        """F0.5- and F2-best thresholds; when they are degenerate (equal, a level empty, or over a third of the
        firms alerted), the volume rule instead (``FALLBACK_*_SHARE``), with the reason in ``fallback``.
        ``sample_weight``: rows of a sample weighted back to the population (shares and quantiles weighted)."""
        p_a = _arr(p)
        high = best_threshold(y, p_a, 0.5, sample_weight=sample_weight)
        moderate = min(best_threshold(y, p_a, 2.0, sample_weight=sample_weight), high)
        reason = degenerate(p_a, high, moderate, sample_weight)
        if reason is None:
            return cls(high=high, moderate=moderate)
        q_high, q_mod = volume_thresholds(p_a, sample_weight)
        return cls(high=q_high, moderate=q_mod,
                   fallback=f"{reason}: F0.5 {high:.3f}, F2 {moderate:.3f}; volume rule "
                   f"({FALLBACK_HIGH_SHARE:.0%} risque élevé, {FALLBACK_MODERATE_SHARE - FALLBACK_HIGH_SHARE:.0%} risque modéré)")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"high": self.high, "moderate": self.moderate}
        if getattr(self, "fallback", None):
            out["fallback"] = self.fallback
        return out


def volume_thresholds(p: ArrayLike, sample_weight: ArrayLike | None = None) -> tuple[float, float]:
    """The volume rule: the ``1 − FALLBACK_HIGH_SHARE`` and ``1 − FALLBACK_MODERATE_SHARE`` quantiles of ``p``
    (weighted quantiles with ``sample_weight``).
    When ties merge them (the steps of an isotonic calibration), "risque modéré" starts at the next lower value,
    so that neither level is empty while ``p`` has two distinct values."""
    p_a = _arr(p)
    if len(p_a) == 0:
        return 1.0, 1.0
    if sample_weight is None:
        high = float(np.quantile(p_a, 1 - FALLBACK_HIGH_SHARE))
        moderate = min(float(np.quantile(p_a, 1 - FALLBACK_MODERATE_SHARE)), high)
    else:
        w = _arr(sample_weight)
        high = float(np.quantile(p_a, 1 - FALLBACK_HIGH_SHARE, weights=w, method="inverted_cdf"))
        moderate = min(float(np.quantile(p_a, 1 - FALLBACK_MODERATE_SHARE, weights=w, method="inverted_cdf")), high)
    if moderate >= high:
        lower = p_a[p_a < high]
        moderate = float(lower.max()) if len(lower) else high
    return high, moderate


def degenerate(
    p: NDArray[np.float64], high: float, moderate: float, sample_weight: ArrayLike | None = None
) -> str | None:
    """Why two thresholds cannot serve as alert levels on probabilities ``p``, or None (the share alerted is
    weighted with ``sample_weight``)."""
    if len(p) == 0:
        return "no validation row"
    if high == moderate:
        return "F0.5 and F2 give the same threshold (no risque modéré)"
    if high <= 0.0 or moderate <= 0.0:
        return "a threshold at 0 (every firm alerted)"
    n_high, n_any = int((p >= high).sum()), int((p >= moderate).sum())
    if n_high == 0 or n_any == n_high:
        return "a level would be empty"
    if sample_weight is None:
        if n_any > MAX_ALERTED_SHARE * len(p):
            return f"{n_any / len(p):.0%} of the firms alerted (over a third)"
        return None
    w = _arr(sample_weight)
    share = float(w[p >= moderate].sum() / w.sum())
    if share > MAX_ALERTED_SHARE:
        return f"{share:.0%} of the firms alerted (over a third)"
    return None


def alert_levels(p: ArrayLike, thresholds: Thresholds) -> NDArray[np.object_]:
    """The real system's alert label of each probability."""
    p_a = _arr(p)
    out = np.full(p_a.shape, ALERT_NONE, dtype=object)
    out[p_a >= thresholds.moderate] = ALERT_MODERATE
    out[p_a >= thresholds.high] = ALERT_HIGH
    return out


def classification_at(y: ArrayLike, p: ArrayLike, threshold: float, beta: float) -> dict[str, float]:
    """Precision, recall, F-beta and alert volume (count and share) when alerting at ``p >= threshold``."""
    row = fbeta_curve(y, p, beta, np.asarray([threshold])).iloc[0]
    n = len(_arr(y))
    return {
        "threshold": float(threshold),
        "precision": float(row.precision),
        "recall": float(row.recall),
        f"f{beta:g}": float(row.fbeta),
        "alerts": int(row.alerts),
        "alert_share": float(row.alerts) / n if n else float("nan"),
    }


def ranking_metrics(y: ArrayLike, p: ArrayLike) -> dict[str, float]:
    """AUC-ROC, AUC-PR (average precision) beside the prevalence, Brier score, rows and positives."""
    y_a, p_a = _arr(y).astype(int), _arr(p)
    two = len(np.unique(y_a)) == 2
    return {
        "rows": len(y_a),
        "positives": int(y_a.sum()),
        "prevalence": float(y_a.mean()) if len(y_a) else float("nan"),
        "auc_roc": float(roc_auc_score(y_a, p_a)) if two else float("nan"),
        "auc_pr": float(average_precision_score(y_a, p_a)) if two else float("nan"),
        "brier": float(brier_score_loss(y_a, p_a, labels=[0, 1])) if len(y_a) else float("nan"),
    }


def weighted_average_precision(
    y: ArrayLike, p: ArrayLike, w: ArrayLike, order: NDArray[np.intp] | None = None
) -> float:
    """scikit-learn's ``average_precision_score(y, p, sample_weight=w)`` (ties of ``p`` form one threshold), for
    many weightings of the same scores: ``order`` (``argsort(-p)``, stable) is computed once by the caller. 0 when
    the weighted positives are 0."""
    y, p, w = _arr(y), _arr(p), _arr(w)
    o = np.argsort(-p, kind="mergesort") if order is None else order
    ys, ps, ws = y[o], p[o], w[o]
    tp, seen = np.cumsum(ws * ys), np.cumsum(ws)
    last = np.r_[ps[1:] != ps[:-1], True]  # the last row of each run of tied scores
    tp, seen = tp[last], seen[last]
    if len(tp) == 0 or tp[-1] <= 0:
        return 0.0
    precision = np.divide(tp, seen, out=np.zeros_like(tp), where=seen > 0)
    recall_step = np.diff(np.r_[0.0, tp]) / tp[-1]
    return float((recall_step * precision).sum())


def monthly_auc_pr(y: ArrayLike, p: ArrayLike, month: ArrayLike) -> float:
    """Mean over the months of the AUC-PR within each month: how well each monthly list is ranked.

    Pooling several months also rewards knowing which month is riskier (a calendar effect no model trained 18
    months earlier can know); a list ranks the companies of one month. Months with a single class are skipped.
    """
    y_a, p_a, m_a = _arr(y).astype(int), _arr(p), np.asarray(month)
    values = [
        float(average_precision_score(y_a[k], p_a[k]))
        for k in (m_a == v for v in pd.unique(m_a))
        if len(np.unique(y_a[k])) == 2
    ]
    return float(np.mean(values)) if values else float("nan")


def top_k_metrics(
    y: ArrayLike, p: ArrayLike, shares: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10)
) -> pd.DataFrame:
    """Precision and recall among the top ``share`` of rows by probability."""
    y_a, p_a = _arr(y).astype(int), _arr(p)
    order = np.argsort(-p_a, kind="stable")
    rows = []
    for s in shares:
        k = max(1, round(s * len(y_a)))
        tp = int(y_a[order[:k]].sum())
        rows.append({
            "top_share": s, "k": k,
            "precision": tp / k,
            "recall": tp / y_a.sum() if y_a.sum() else float("nan"),
        })  # fmt: skip
    return pd.DataFrame(rows)


def reliability_curve(y: ArrayLike, p: ArrayLike, bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability vs observed frequency per quantile bin of ``p`` (the calibration plot)."""
    y_a, p_a = _arr(y), _arr(p)
    if len(p_a) == 0:
        return pd.DataFrame(columns=["mean_predicted", "observed", "rows"])
    edges = np.unique(np.quantile(p_a, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.searchsorted(edges, p_a, side="right") - 1, 0, max(len(edges) - 2, 0))
    df = pd.DataFrame({"bin": idx, "p": p_a, "y": y_a})
    out = df.groupby("bin").agg(mean_predicted=("p", "mean"), observed=("y", "mean"), rows=("y", "size"))
    return out.reset_index(drop=True)


def segment_metrics(
    y: ArrayLike, p: ArrayLike, segment: pd.Series, thresholds: Thresholds, min_rows: int = 1
) -> pd.DataFrame:
    """Per value of ``segment`` (region, sector, size class): ranking metrics and recall at both thresholds."""
    df = pd.DataFrame(
        {"y": _arr(y).astype(int), "p": _arr(p), "seg": segment.fillna("(inconnu)").astype(str).to_numpy()}
    )
    rows: list[dict[str, Any]] = []
    for seg, part in df.groupby("seg", sort=True):
        if len(part) < min_rows:
            continue
        m = ranking_metrics(part.y, part.p)
        high = classification_at(part.y, part.p, thresholds.high, 0.5)
        mod = classification_at(part.y, part.p, thresholds.moderate, 2.0)
        rows.append({
            "segment": seg, **m,
            "precision_high": high["precision"], "recall_high": high["recall"], "alerts_high": high["alerts"],
            "precision_moderate": mod["precision"], "recall_moderate": mod["recall"],
            "alerts_moderate": mod["alerts"],
        })  # fmt: skip
    return pd.DataFrame(rows)


def list_vs_oracle(scores: pd.DataFrame, ground_truth: pd.DataFrame) -> dict[str, float] | None:
    """On the twin: the list's ranking against the oracle, companies of the list with a known outcome.

    ``scores``: a list (``siren``, ``periode``, ``probability``); ``ground_truth``: the twin's
    ``ground_truth.parquet`` (``p_failure_18m``, ``failure_18m``; it has no row for a company already in
    proceedings, so the signaux forts drop out). Returns rows, failures, the AUC-PR of the list's probabilities
    and of the oracle, and their ratio; None when fewer than 10 failures are known.
    """
    s = scores[["siren", "periode", "probability"]].copy()
    g = ground_truth[["siren", "periode", "p_failure_18m", "failure_18m"]].copy()
    for d in (s, g):
        d["siren"] = d["siren"].astype(str)
        d["periode"] = pd.to_datetime(d["periode"].astype(str)).dt.to_period("M")
    m = s.merge(g, on=["siren", "periode"], how="inner").dropna(subset=["failure_18m"])
    y = m["failure_18m"].to_numpy().astype(int)
    if y.sum() < 10:
        return None
    model = float(average_precision_score(y, m["probability"].to_numpy(float)))
    oracle = float(average_precision_score(y, m["p_failure_18m"].to_numpy(float)))
    return {"rows": len(m), "failures": int(y.sum()), "auc_pr": model, "oracle_auc_pr": oracle,
            "ratio": model / oracle}  # fmt: skip
