"""A discrete-time hazard model of the first collective-proceedings judgment (forward intensities).

The 18-month classifiers learn from rows whose outcome is known, i.e. rows at least 18 months old: on the day of
the list they are at least 18 months stale, and more in a crisis. A discrete-time hazard model (Shumway 2001) learns
from every month instead: a row at month ``m`` tells whether the firm was judged in each of the next few months,
as far as the batch knows (right-censored rows included), so the months just before the batch teach it too.

``HazardClassifier`` follows the forward-intensity model of Duan, Sun and Wang (2012), the one of the NUS Credit
Research Initiative: for each horizon interval ``(a, b]`` (in months after the row's month; by default
``(0, 3], (3, 6], (6, 12], (12, 18]``) one binary model estimates the **forward hazard**

    h_k(x_m) = P(first judgment in months m+a+1 .. m+b | none by m+a, x_m),

from the rows still at risk at ``a`` months (not judged by then, observed beyond ``a``). A row censored inside
the interval (the batch ends before ``m + b``) counts as a survivor weighted by the share of the interval it was
observed for (the actuarial rule); a firm that closes without proceedings stays a survivor (so the composed
probability is the cumulative incidence of judgment, closure being the competing exit). The hazards compose into
the term structure

    P(judged within b_k months | x_m) = 1 − ∏_{j ≤ k} (1 − h_j(x_m)),

whose last point (18 months) is the classifier's probability, and whose earlier points (3, 6, 12 months) tell how
urgent a case is.

Contributions (explanations). Each interval model gives exact additive contributions to its log-odds ``z_k``
(TreeSHAP for LightGBM, the linear decomposition for the logistic regression), around a constant bias ``b_k``.
The 18-month log-odds ``f(z) = logit(1 − ∏(1 − σ(z_k)))`` is not additive in the ``z_k``; a feature's contribution
to it is its contributions to every ``z_k`` weighted by the path integral of ``∂f/∂z_k = h_k / P`` along the
straight path from the biases to the row's log-odds (integrated gradients over the hazard log-odds, computed by
Gauss–Legendre quadrature, then the rounding residue spread in proportion to the contributions' sizes), so the
contributions and the bias ``f(b)`` add up exactly to the row's 18-month log-odds.

References: T. Shumway, "Forecasting bankruptcy more accurately: a simple hazard model", Journal of Business 74
(2001); J.-C. Duan, J. Sun, T. Wang, "Multiperiod corporate default prediction — a forward intensity approach",
Journal of Econometrics 170 (2012).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

__all__ = ["HORIZONS", "HazardClassifier", "compose", "interval_rows"]

#: The term structure shown on the list: months after the list month.
HORIZONS = (3, 6, 12, 18)
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)
_T = (_NODES + 1.0) / 2.0  # Gauss–Legendre nodes on [0, 1]
_W = _WEIGHTS / 2.0


def _log_sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(-np.logaddexp(0.0, -z))


def compose(z: ArrayLike) -> NDArray[np.float64]:
    """Log-odds of ``1 − ∏_k (1 − σ(z_k))`` (last axis: the intervals), computed without cancellation."""
    z_a = np.asarray(z, dtype=float)
    log_s = np.sum(_log_sigmoid(-z_a), axis=-1)  # log survival: Σ log(1 − h_k)
    log_p = np.log(-np.expm1(np.minimum(log_s, -1e-300)))
    return np.asarray(log_p - log_s)


def _grad(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """``∂ compose / ∂ z_k = h_k / P`` (same shape as ``z``)."""
    log_s = np.sum(_log_sigmoid(-z), axis=-1, keepdims=True)
    log_p = np.log(-np.expm1(np.minimum(log_s, -1e-300)))
    return np.asarray(np.exp(_log_sigmoid(z) - log_p))


def interval_rows(
    y: NDArray[np.int64], duration: NDArray[np.float64], start: float, end: float
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.float64]]:
    """The rows at risk at ``start`` months, their event in ``(start, end]`` and their exposure weight.

    ``y`` is 1 when the first judgment is observed ``duration`` months after the row's month, 0 when nothing is
    observed up to ``duration`` months (the end of the batch). A row is at risk when it is observed beyond
    ``start`` and not judged by then; a survivor censored inside the interval weighs the share of it observed.
    """
    at_risk = duration > start
    event = (y == 1) & at_risk & (duration <= end)
    weight = np.where(event, 1.0, np.clip((np.minimum(duration, end) - start) / (end - start), 0.0, 1.0))
    return at_risk, event.astype(np.int64), weight


class _Constant:
    """An interval model without contrast (no event, or only events): the weighted rate, clipped."""

    def __init__(self, rate: float, n_features: int) -> None:
        self.logit = float(np.log(np.clip(rate, 1e-6, 1 - 1e-6) / (1 - np.clip(rate, 1e-6, 1 - 1e-6))))
        self.n_features = n_features

    def margin(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.full(X.shape[0], self.logit)

    def contributions(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.zeros((X.shape[0], self.n_features + 1))
        out[:, -1] = self.logit
        return out


class HazardClassifier(ClassifierMixin, BaseEstimator):
    """Discrete-time hazard (forward-intensity) classifier: one binary model per horizon interval, composed into
    the probability of a first judgment within the last interval's end (18 months by default).

    Parameters
    ----------
    intervals : tuple of int
        Ends of the horizon intervals, in months, increasing: ``(3, 6, 12, 18)`` gives ``(0, 3], (3, 6], (6, 12],
        (12, 18]``. The last one is the horizon of :meth:`predict_proba`.
    base : {"lightgbm", "logistic"}
        The interval models: the panel's LightGBM (:class:`~.estimators.FailureClassifier`, ``n_seeds`` boosters)
        or an L2 logistic regression on imputed, standardised columns (``categorical`` one-hot encoded), the
        forward-intensity model's own form.
    n_estimators, learning_rate, num_leaves, min_child_samples, colsample_bytree, subsample, reg_lambda, max_bin :
        LightGBM parameters of every interval model (``base="lightgbm"``).
    C : float
        Inverse L2 penalty of the logistic interval models (``base="logistic"``).
    categorical : tuple of int
        Indices of the label columns (category codes), one-hot encoded by the logistic interval models.
    n_seeds : int
        LightGBM boosters per interval (averaged).
    random_state : int
        Seed of the first booster.
    n_jobs : int
        LightGBM threads per booster.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two class labels.
    n_features_in_ : int
        Number of input columns.
    models_ : list
        The fitted interval models (each with ``margin`` and ``contributions``).
    interval_events_ : list of int
        Events each interval model was fitted on.

    Notes
    -----
    ``fit(X, y, duration=...)``: ``y`` is 1 when the first judgment is observed ``duration`` months after the row's
    month, 0 when the firm is not judged in the ``duration`` months observed (the rows of the months just before
    the batch are censored after a few months: they enter the short intervals only). Without ``duration`` every
    row is taken as observed over the whole horizon with its event, if any, in the first interval: the estimator
    is then a plain classifier of ``y`` (scikit-learn's estimator checks run it that way).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(3000, 3))
    >>> t = rng.exponential(60 / np.exp(X[:, 0]))  # months to the judgment, riskier with x0
    >>> c = rng.uniform(1, 30, size=3000)  # months observed
    >>> y, d = (t <= c).astype(int), np.minimum(np.ceil(t), np.ceil(c))
    >>> est = HazardClassifier(n_estimators=50).fit(X, y, duration=d)
    >>> est.predict_cumulative(X[:2]).shape
    (2, 4)
    """

    def __init__(
        self,
        *,
        intervals: tuple[int, ...] = HORIZONS,
        base: str = "lightgbm",
        n_estimators: int = 600,
        learning_rate: float = 0.03,
        num_leaves: int = 2,
        min_child_samples: int = 200,
        colsample_bytree: float = 0.8,
        subsample: float = 0.8,
        reg_lambda: float = 0.0,
        max_bin: int = 63,
        C: float = 0.01,
        categorical: tuple[int, ...] = (),
        n_seeds: int = 1,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.intervals = intervals
        self.base = base
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.subsample = subsample
        self.reg_lambda = reg_lambda
        self.max_bin = max_bin
        self.C = C
        self.categorical = categorical
        self.n_seeds = n_seeds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def _interval_model(self, k: int) -> Any:
        if self.base == "lightgbm":
            from .estimators import FailureClassifier

            return FailureClassifier(
                n_estimators=self.n_estimators, learning_rate=self.learning_rate, num_leaves=self.num_leaves,
                min_child_samples=self.min_child_samples, colsample_bytree=self.colsample_bytree,
                subsample=self.subsample, reg_lambda=self.reg_lambda, max_bin=self.max_bin, n_seeds=self.n_seeds,
                n_ratio_seeds=0, n_xgb_seeds=0, n_xgb_ratio_seeds=0, random_state=self.random_state + 100 * k,
                n_jobs=self.n_jobs,
            )  # fmt: skip
        if self.base == "logistic":
            from .artefact import PanelLogistic

            return PanelLogistic(categorical=tuple(self.categorical), C=self.C)
        raise ValueError(f"unknown base {self.base!r}: expected 'lightgbm' or 'logistic'")

    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None, *, duration: ArrayLike | None = None
    ) -> HazardClassifier:
        """Fit one model per interval on the rows at risk at its start (see the class notes)."""
        X_arr, y_arr = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        check_classification_targets(y_arr)
        self.classes_, y_enc = np.unique(y_arr, return_inverse=True)
        if len(self.classes_) > 2:
            raise ValueError(f"Only binary classification is supported. y has {len(self.classes_)} classes.")
        if len(self.classes_) < 2:
            raise ValueError("y has 1 class: a failure model needs both failed and surviving companies.")
        ends = [int(b) for b in self.intervals]
        if not ends or any(b <= a for a, b in zip([0, *ends], ends, strict=False)):
            raise ValueError(f"intervals must be increasing positive month counts, got {self.intervals!r}")
        weights = (
            np.ones(len(y_enc)) if sample_weight is None else _check_sample_weight(sample_weight, X_arr, ensure_non_negative=True)
        )  # fmt: skip
        if duration is None:  # plain classification: events in the first interval, survivors observed throughout
            dur = np.where(y_enc == 1, 1.0, float(ends[-1]))
        else:
            dur = np.asarray(duration, dtype=float)
            if dur.shape != (len(y_enc),) or np.isnan(dur).any() or (dur[y_enc == 1] <= 0).any():
                raise ValueError("duration must be one number of months per row, > 0 for the events")
        self.models_: list[Any] = []
        self.interval_events_: list[int] = []
        self.interval_rows_: list[int] = []
        start = 0
        for k, end in enumerate(ends):
            at_risk, event, w = interval_rows(y_enc, dur, start, end)
            keep = at_risk & (w * weights > 0)
            ev, ww = event[keep], (w * weights)[keep]
            n_ev = int(ev.sum())
            if n_ev == 0 or n_ev == len(ev):
                rate = float((ev * ww).sum() / ww.sum()) if ww.sum() > 0 else 0.0
                model: Any = _Constant(rate, X_arr.shape[1])
            else:
                model = self._interval_model(k).fit(X_arr[keep], ev, sample_weight=ww)
            self.models_.append(model)
            self.interval_events_.append(n_ev)
            self.interval_rows_.append(int(keep.sum()))
            start = end
        return self

    def _check(self, X: ArrayLike) -> NDArray[np.float64]:
        check_is_fitted(self, "models_")
        return np.asarray(validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64))

    def interval_margins(self, X: ArrayLike) -> NDArray[np.float64]:
        """Log-odds of each interval's forward hazard, shape ``(n_rows, n_intervals)``."""
        X_arr = self._check(X)
        return np.column_stack([np.asarray(m.margin(X_arr), dtype=float) for m in self.models_])

    def predict_hazards(self, X: ArrayLike) -> NDArray[np.float64]:
        """Forward hazards ``h_k``: the probability of a first judgment in each interval, given none before it."""
        return np.asarray(1.0 / (1.0 + np.exp(-self.interval_margins(X))))

    def predict_cumulative(self, X: ArrayLike) -> NDArray[np.float64]:
        """The term structure: probability of a first judgment within each interval's end (columns)."""
        h = self.predict_hazards(X)
        return np.asarray(1.0 - np.cumprod(1.0 - h, axis=1))

    def margin(self, X: ArrayLike) -> NDArray[np.float64]:
        """Log-odds of the probability over the whole horizon (the composition of the hazards)."""
        return compose(self.interval_margins(X))

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        return self.margin(X)

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        p = 1.0 / (1.0 + np.exp(-self.margin(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        p = self.predict_proba(X)[:, 1]
        return np.asarray(self.classes_[(p > 0.5).astype(int)])

    def contributions(self, X: ArrayLike) -> NDArray[np.float64]:
        """Per input column, the contribution to the horizon's log-odds, plus the bias (last column); rows sum to
        :meth:`margin`. See the module docstring for the derivation (integrated gradients over the hazard
        log-odds)."""
        X_arr = self._check(X)
        per = [np.asarray(m.contributions(X_arr), dtype=float) for m in self.models_]  # (n, f+1) each
        z = np.column_stack([c.sum(axis=1) for c in per])  # (n, K)
        b = np.column_stack([c[:, -1] for c in per])  # (n, K), constant per interval
        delta = z - b
        g = np.zeros_like(z)
        for t, w in zip(_T, _W, strict=True):
            g += w * _grad(b + t * delta)
        n, f = X_arr.shape
        out = np.zeros((n, f + 1))
        for k, c in enumerate(per):
            out[:, :f] += c[:, :f] * g[:, [k]]
        target = compose(z) - compose(b)
        residue = target - out[:, :f].sum(axis=1)
        size = np.abs(out[:, :f])
        total = size.sum(axis=1)
        spread = np.divide(size, total[:, None], out=np.full_like(size, 1.0 / max(f, 1)), where=total[:, None] > 0)
        out[:, :f] += residue[:, None] * spread
        out[:, f] = compose(b)
        return out
