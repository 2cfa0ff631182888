"""The production failure classifier and the interpretable logistic baseline.

``FailureClassifier`` is a scikit-learn estimator wrapping LightGBM and XGBoost: native missing values, no
resampling (so the probabilities stay close to calibrated), a small averaged ensemble of differently-seeded boosters
of both libraries, and optional pairwise-ratio features built on the training data only (the screening booster picks the most useful columns,
then every ordered pair of them gives one ratio column). Everything it learns is learned in ``fit``, so it can be
cross-validated, cloned and put in a ``Pipeline`` like any scikit-learn classifier.

``make_logistic_pipeline`` returns ``Pipeline(SimpleImputer, StandardScaler, LogisticRegression)``, the glass-box
baseline (the real system's model from 2021 to 2023 was a logistic regression).
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

__all__ = ["FailureClassifier", "make_baseline_lightgbm", "make_logistic_pipeline"]

# XGBoost members of the production ensemble (chosen on the Polish benchmark, see docs/model.md)
XGB_SEEDS = 2
XGB_RATIO_SEEDS = 2
XGB_MAX_DEPTH = 6
XGB_REG_LAMBDA = 1.0  # XGBoost's default L2 penalty on leaf values


def _ratio_columns(X: NDArray[np.float64], pairs: list[tuple[int, int]]) -> NDArray[np.float64]:
    """``X[:, a] / X[:, b]`` for each pair; division by zero and infinities become missing values."""
    if not pairs:
        return np.empty((X.shape[0], 0))
    num = X[:, [a for a, _ in pairs]]
    den = X[:, [b for _, b in pairs]]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = num / den
    out[~np.isfinite(out)] = np.nan
    return out


class FailureClassifier(ClassifierMixin, BaseEstimator):
    """Failure classifier: averaged LightGBM and XGBoost boosters, ratio features, native missing values.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples, colsample_bytree, subsample, reg_lambda, max_bin :
        LightGBM parameters of every booster of the ensemble (``subsample`` is applied at every iteration).
    scale_pos_weight : float
        Weight of the positive class. The default 1.0 keeps the probabilities calibrated; raising it does not
        improve the ranking (AUC) on the benchmarks and inflates the scores.
    n_seeds : int
        Number of boosters on the input columns; each has its own seed for bagging and column sampling.
    n_ratio_seeds : int
        Number of boosters on the input columns plus the ratio columns (0: no ratio columns). The prediction is
        the mean probability of all the members (LightGBM and XGBoost): averaging the two views helps more
        than either alone on the Polish benchmark.
    n_xgb_seeds : int
        Number of XGBoost boosters on the input columns, added to the ensemble (0: none). They share
        ``n_estimators``, ``learning_rate``, ``subsample``, ``colsample_bytree``, ``max_bin`` and
        ``scale_pos_weight`` with the LightGBM boosters, grow depth-wise trees of depth ``xgb_max_depth`` and keep
        XGBoost's default L2 penalty (1) and ``min_child_weight`` (1). Only when the ensemble has plain boosters.
    n_xgb_ratio_seeds : int
        Number of XGBoost boosters on the input columns plus the ratio columns (only when ratio columns are used:
        ``n_ratio_seeds > 0``).
    xgb_max_depth : int
        Depth of the XGBoost trees.
    ratio_top_k : int
        A screening booster (200 trees, fitted on the training data only) ranks the columns by gain, and the
        ``k * (k - 1)`` ordered ratios of the ``k`` best become the ratio columns. Below 2: no ratio columns.
    random_state : int
        Seed of the screening booster and the first booster (the others use ``random_state + i``).
    n_jobs : int
        LightGBM threads per booster. 1 is fastest on a small shared machine.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two class labels; the second is the positive class ("failure").
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Input column names, when fitted on a DataFrame with string column names.
    ratio_pairs_ : list of (int, int)
        Column index pairs of the ratio features.
    boosters_ : list of lightgbm.LGBMClassifier and xgboost.XGBClassifier
        The fitted members: the LightGBM boosters (plain, then ratio), then the XGBoost ones (plain, then ratio).
    booster_uses_ratios_ : list of bool
        Whether each booster reads the ratio columns.

    See Also
    --------
    make_logistic_pipeline : the interpretable baseline.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 5))
    >>> y = (X[:, 0] + rng.normal(size=400) > 1.5).astype(int)
    >>> clf = FailureClassifier(n_estimators=50, n_seeds=2).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        *,
        n_estimators: int = 600,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 10,
        colsample_bytree: float = 0.8,
        subsample: float = 0.8,
        reg_lambda: float = 0.0,
        max_bin: int = 63,
        scale_pos_weight: float = 1.0,
        n_seeds: int = 2,
        n_ratio_seeds: int = 2,
        n_xgb_seeds: int = XGB_SEEDS,
        n_xgb_ratio_seeds: int = XGB_RATIO_SEEDS,
        xgb_max_depth: int = XGB_MAX_DEPTH,
        ratio_top_k: int = 8,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.subsample = subsample
        self.reg_lambda = reg_lambda
        self.max_bin = max_bin
        self.scale_pos_weight = scale_pos_weight
        self.n_seeds = n_seeds
        self.n_ratio_seeds = n_ratio_seeds
        self.n_xgb_seeds = n_xgb_seeds
        self.n_xgb_ratio_seeds = n_xgb_ratio_seeds
        self.xgb_max_depth = xgb_max_depth
        self.ratio_top_k = ratio_top_k
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def _booster(self, seed: int, **override: Any) -> lgb.LGBMClassifier:
        params: dict[str, Any] = {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "colsample_bytree": self.colsample_bytree,
            "subsample": self.subsample,
            "subsample_freq": 1 if self.subsample < 1.0 else 0,
            "reg_lambda": self.reg_lambda,
            "max_bin": self.max_bin,
            "scale_pos_weight": self.scale_pos_weight,
            "random_state": seed,
            "n_jobs": self.n_jobs,
            "verbose": -1,
        }
        params.update(override)
        return lgb.LGBMClassifier(**params)

    def _xgb_booster(self, seed: int) -> xgb.XGBClassifier:
        """An XGBoost member: same trees count, rate, sampling and bins as LightGBM, depth-wise trees."""
        return xgb.XGBClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            max_depth=self.xgb_max_depth,
            min_child_weight=1.0,
            subsample=self.subsample,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=XGB_REG_LAMBDA,
            max_bin=self.max_bin,
            scale_pos_weight=self.scale_pos_weight,
            tree_method="hist",
            random_state=seed,
            n_jobs=self.n_jobs,
        )

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> FailureClassifier:
        """Fit the screening booster (when ratio columns are used), then every member of the ensemble."""
        X_arr, y_arr = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        check_classification_targets(y_arr)
        self.classes_, y_enc = np.unique(y_arr, return_inverse=True)
        if len(self.classes_) > 2:
            raise ValueError(f"Only binary classification is supported. y has {len(self.classes_)} classes.")
        if len(self.classes_) < 2:
            raise ValueError("y has 1 class: a failure model needs both failed and surviving companies.")
        weights = (
            None
            if sample_weight is None
            else _check_sample_weight(sample_weight, X_arr, ensure_non_negative=True)
        )
        self.ratio_pairs_: list[tuple[int, int]] = []
        k = min(self.ratio_top_k, X_arr.shape[1]) if self.n_ratio_seeds > 0 else 0
        if k >= 2:
            screen = self._booster(self.random_state, n_estimators=200, learning_rate=0.05, subsample=1.0,
                                   subsample_freq=0, colsample_bytree=1.0)  # fmt: skip
            screen.fit(X_arr, y_enc, sample_weight=weights)
            gain = screen.booster_.feature_importance(importance_type="gain")
            top = [int(i) for i in np.argsort(-gain, kind="stable")[:k] if gain[i] > 0]
            self.ratio_pairs_ = list(itertools.permutations(top, 2))
        n_plain = self.n_seeds if (self.n_seeds > 0 or self.ratio_pairs_) else 1
        n_ratio = self.n_ratio_seeds if self.ratio_pairs_ else 0
        # XGBoost members beside each LightGBM view in use
        n_xgb_plain = self.n_xgb_seeds if n_plain > 0 else 0
        n_xgb_ratio = self.n_xgb_ratio_seeds if n_ratio > 0 else 0
        self.boosters_: list[lgb.LGBMClassifier | xgb.XGBClassifier] = []
        self.booster_uses_ratios_: list[bool] = []
        if n_ratio:
            X_aug = np.hstack([X_arr, _ratio_columns(X_arr, self.ratio_pairs_)])
        members: list[tuple[lgb.LGBMClassifier | xgb.XGBClassifier, bool]] = [
            (self._booster(self.random_state + i), i >= n_plain) for i in range(n_plain + n_ratio)
        ]
        # XGBoost members take the seeds of the LightGBM boosters of the same view (plain: i, ratio: n_plain + i)
        members += [(self._xgb_booster(self.random_state + j), False) for j in range(n_xgb_plain)]
        members += [(self._xgb_booster(self.random_state + n_plain + j), True) for j in range(n_xgb_ratio)]
        for booster, uses_ratios in members:
            booster.fit(X_aug if uses_ratios else X_arr, y_enc, sample_weight=weights)
            self.boosters_.append(booster)
            self.booster_uses_ratios_.append(uses_ratios)
        return self

    def _inputs(self, X: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        check_is_fitted(self, "boosters_")
        X_arr = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        X_aug = np.hstack([X_arr, _ratio_columns(X_arr, self.ratio_pairs_)]) if self.ratio_pairs_ else X_arr
        return X_arr, X_aug

    @staticmethod
    def _raw(booster: lgb.LGBMClassifier | xgb.XGBClassifier, Z: NDArray[np.float64]) -> NDArray[np.float64]:
        """A member's raw score (log-odds)."""
        if isinstance(booster, xgb.XGBClassifier):
            return np.asarray(booster.predict(Z, output_margin=True), dtype=np.float64)
        return np.asarray(booster.predict(Z, raw_score=True), dtype=np.float64)

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Probabilities of ``classes_`` (columns), averaged over the members."""
        X_arr, X_aug = self._inputs(X)
        p = np.mean(
            [
                np.asarray(b.predict_proba(X_aug if r else X_arr), dtype=np.float64)[:, 1]
                for b, r in zip(self.boosters_, self.booster_uses_ratios_, strict=True)
            ],
            axis=0,
        )
        return np.column_stack([1.0 - p, p])

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The class with the higher probability (threshold 0.5; alert thresholds are chosen elsewhere)."""
        p = self.predict_proba(X)[:, 1]
        return np.asarray(self.classes_[(p > 0.5).astype(int)])

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """Log-odds of the positive class (averaged probability, then logit)."""
        p = np.clip(self.predict_proba(X)[:, 1], 1e-15, 1 - 1e-15)
        return np.asarray(np.log(p / (1.0 - p)))

    def margin(self, X: ArrayLike) -> NDArray[np.float64]:
        """Mean raw score (log-odds) of the members: what ``contributions`` decomposes exactly."""
        X_arr, X_aug = self._inputs(X)
        raw = [
            self._raw(b, X_aug if r else X_arr)
            for b, r in zip(self.boosters_, self.booster_uses_ratios_, strict=True)
        ]
        return np.asarray(np.mean(raw, axis=0))

    def contributions(self, X: ArrayLike) -> NDArray[np.float64]:
        """TreeSHAP contributions to the mean raw score, per input column.

        LightGBM's ``pred_contrib`` and XGBoost's ``pred_contribs`` (both TreeSHAP), averaged over the members.
        Returns an array of shape ``(n_rows, n_features_in_ + 1)``: one column per input column, then the bias
        (the members' mean expected value). Rows sum to :meth:`margin`. A ratio column's contribution is split
        equally between its numerator and its denominator, so the input columns carry everything. XGBoost
        computes in single precision: its rounding residue (about 1e-6) is put in the bias, so that the rows sum
        to the margin exactly.
        """
        X_arr, X_aug = self._inputs(X)
        n, f = X_arr.shape
        total = np.zeros((n, f + 1))
        for booster, uses_ratios in zip(self.boosters_, self.booster_uses_ratios_, strict=True):
            Z = X_aug if uses_ratios else X_arr
            if isinstance(booster, xgb.XGBClassifier):
                c = np.asarray(
                    booster.get_booster().predict(xgb.DMatrix(Z, missing=np.nan), pred_contribs=True),
                    dtype=np.float64,
                )
                c[:, -1] += self._raw(booster, Z) - c.sum(axis=1)
            else:
                # TreeSHAP is the costly part of scoring: every core (training keeps n_jobs)
                c = np.asarray(
                    booster.predict(Z, pred_contrib=True, num_threads=os.cpu_count() or 1), dtype=np.float64
                )
            total[:, :f] += c[:, :f]
            total[:, f] += c[:, -1]
            if uses_ratios:
                for j, (a, b) in enumerate(self.ratio_pairs_):
                    half = c[:, f + j] / 2.0
                    total[:, a] += half
                    total[:, b] += half
        return total / len(self.boosters_)


def make_baseline_lightgbm(random_state: int = 0) -> lgb.LGBMClassifier:
    """A plain ``LGBMClassifier`` with LightGBM's defaults (100 trees, 31 leaves): the benchmarks' reference."""
    return lgb.LGBMClassifier(random_state=random_state, n_jobs=1, verbose=-1)


def make_logistic_pipeline(
    *, C: float = 1.0, class_weight: str | None = None, max_iter: int = 2000
) -> Pipeline:
    """Interpretable baseline: median imputation, standardisation, L2 logistic regression.

    Parameters
    ----------
    C : float
        Inverse regularisation strength.
    class_weight : {"balanced"} or None
        ``None`` keeps calibrated probabilities.
    max_iter : int
        Solver iterations.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, np.nan], [1.0, 2.0], [2.0, 1.0], [3.0, 0.0]])
    >>> make_logistic_pipeline().fit(X, [0, 0, 1, 1]).predict_proba(X).shape
    (4, 2)
    """
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
            ("logreg", LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter)),
        ]
    )
