"""The saved failure model: one artefact with everything needed to score, threshold and explain a panel.

``FailureModel`` holds the fitted encoder and estimator (LightGBM ``FailureClassifier`` or the logistic
``PanelLogistic``), the calibrator, the thresholds, the feature list and their themes, the training window, the data
fingerprint, the metrics and the code version. ``save``/``load`` use joblib (one file).

Both estimators expose ``margin(X)`` (log-odds) and ``contributions(X)`` (one column per input plus the bias,
rows summing exactly to the margin); the uncalibrated probability is ``sigmoid(margin)`` and the displayed one is
the calibrator's output, which is monotone, so the ranking is the model's.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .dataset import PanelEncoder
from .metrics import Thresholds, alert_levels

__all__ = [
    "TERM_COLUMNS",
    "Calibrator",
    "ColumnSubset",
    "FailureModel",
    "MarginAverage",
    "PanelLogistic",
    "code_version",
    "sigmoid",
]

#: The list's term-structure columns: probability of a first judgment within 3, 6, 12 and 18 months.
TERM_COLUMNS = ("probability_3m", "probability_6m", "probability_12m", "probability_18m")


def sigmoid(x: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, dtype=float), -40, 40))))


def _logit(p: ArrayLike) -> NDArray[np.float64]:
    q = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.asarray(np.log(q / (1 - q)))


class PanelLogistic(ClassifierMixin, BaseEstimator):
    """Interpretable model: numeric columns imputed (median) and standardised, label columns one-hot encoded,
    L2 logistic regression. ``categorical`` are the indices of the label columns (category codes).

    ``contributions`` is the exact linear decomposition ``coef_j × (z_j − mean_j)`` (``z`` the transformed
    row, ``mean`` its training mean) summed back per input column; the bias is the log-odds at the training mean.
    """

    def __init__(self, categorical: tuple[int, ...] = (), C: float = 1.0, max_iter: int = 2000) -> None:
        self.categorical = categorical
        self.C = C
        self.max_iter = max_iter

    def _frame(self, X: Any) -> pd.DataFrame:
        arr = np.asarray(X, dtype=float)
        return pd.DataFrame(arr, columns=[f"c{i}" for i in range(arr.shape[1])])

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> PanelLogistic:
        df = self._frame(X)
        cats = [f"c{i}" for i in self.categorical]
        nums = [c for c in df.columns if c not in cats]
        self.n_features_in_ = df.shape[1]
        self.transform_ = ColumnTransformer([
            ("num", Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                              ("scale", StandardScaler())]), nums),
            ("cat", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value=-1.0)),
                              ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]), cats),
        ])  # fmt: skip
        Z = self.transform_.fit_transform(df)
        self.logreg_ = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(
            Z, np.asarray(y), sample_weight=None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        )
        self.classes_ = self.logreg_.classes_
        self.z_mean_ = Z.mean(axis=0)
        # transformed column → input column index
        owner: list[int] = []
        for name in self.transform_.get_feature_names_out():
            part, col = name.split("__", 1)
            owner.append(int(col.split("_", 1)[0][1:]) if part == "cat" else int(col[1:]))
        self.owner_ = np.asarray(owner)
        return self

    def margin(self, X: ArrayLike) -> NDArray[np.float64]:
        return np.asarray(self.logreg_.decision_function(self.transform_.transform(self._frame(X))))

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        p = sigmoid(self.margin(X))
        return np.column_stack([1 - p, p])

    def contributions(self, X: ArrayLike) -> NDArray[np.float64]:
        Z = self.transform_.transform(self._frame(X))
        coef = self.logreg_.coef_[0]
        per_col = (Z - self.z_mean_) * coef
        out = np.zeros((Z.shape[0], self.n_features_in_ + 1))
        np.add.at(out.T, self.owner_, per_col.T)
        out[:, -1] = self.logreg_.intercept_[0] + float(self.z_mean_ @ coef)
        return out


def _take(X: Any, columns: list[int]) -> Any:
    return X.iloc[:, columns] if isinstance(X, pd.DataFrame) else np.asarray(X)[:, columns]


class ColumnSubset:
    """An estimator fitted on some of the input columns (the list model's selected themes), seen from all of
    them: ``margin``, ``predict_cumulative`` and ``predict_proba`` read the subset, ``contributions`` are put back
    in the full width (0 for the columns left out; the bias stays last)."""

    def __init__(self, estimator: Any, columns: list[int], n_features: int) -> None:
        self.estimator, self.columns, self.n_features = estimator, list(columns), int(n_features)

    @property
    def intervals(self) -> Any:
        return getattr(self.estimator, "intervals", None)

    def fit(self, X: Any, y: ArrayLike, **kwargs: Any) -> ColumnSubset:
        self.estimator.fit(_take(X, self.columns), y, **kwargs)
        return self

    def margin(self, X: Any) -> NDArray[np.float64]:
        return np.asarray(self.estimator.margin(_take(X, self.columns)), dtype=float)

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        return np.asarray(self.estimator.predict_proba(_take(X, self.columns)), dtype=float)

    def predict_cumulative(self, X: Any) -> NDArray[np.float64]:
        return np.asarray(self.estimator.predict_cumulative(_take(X, self.columns)), dtype=float)

    def contributions(self, X: Any) -> NDArray[np.float64]:
        inner = np.asarray(self.estimator.contributions(_take(X, self.columns)), dtype=float)
        out = np.zeros((inner.shape[0], self.n_features + 1))
        out[:, self.columns] = inner[:, :-1]
        out[:, -1] = inner[:, -1]
        return out


class MarginAverage:
    """The "average" list model: the weighted mean of fitted models' log-odds (``margin``), and of their
    contributions (each member's rows sum to its margin, so the average's rows sum to the average margin).

    ``members`` are fitted estimators exposing ``margin`` and ``contributions`` on the same input columns;
    ``names`` label them (the model card's selection table).
    """

    def __init__(self, members: list[Any], names: list[str], weights: list[float] | None = None) -> None:
        self.members, self.names = list(members), list(names)
        w = np.ones(len(self.members)) if weights is None else np.asarray(weights, dtype=float)
        self.weights = w / w.sum()

    def margin(self, X: ArrayLike) -> NDArray[np.float64]:
        return np.asarray(sum(w * np.asarray(m.margin(X), dtype=float) for w, m in zip(self.weights, self.members, strict=True)))

    def contributions(self, X: ArrayLike) -> NDArray[np.float64]:
        return np.asarray(sum(w * np.asarray(m.contributions(X), dtype=float) for w, m in zip(self.weights, self.members, strict=True)))

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        p = sigmoid(self.margin(X))
        return np.column_stack([1 - p, p])


#: Weight of the raw probability in an isotonic calibration's output: it orders the firms inside a step.
TIE_BREAK = 1e-6


@dataclass
class Calibrator:
    """Monotone map from the raw probability to the displayed one: ``isotonic``, ``platt`` or ``none``."""

    method: str = "platt"
    model: Any = None

    def fit(self, raw: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> Calibrator:
        """``sample_weight``: rows of a sample weighted back to the population (``dataset.PanelSample``), so that
        the displayed probabilities are the population's."""
        r, y_a = np.asarray(raw, dtype=float), np.asarray(y, dtype=int)
        if self.method == "isotonic":
            self.model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True).fit(
                r, y_a, sample_weight=sample_weight
            )
        elif self.method == "platt":
            self.model = LogisticRegression(C=1e6, max_iter=1000).fit(
                _logit(r).reshape(-1, 1), y_a, sample_weight=sample_weight
            )
        elif self.method != "none":
            raise ValueError(f"unknown calibration method {self.method!r}")
        return self

    def transform(self, raw: ArrayLike) -> NDArray[np.float64]:
        r = np.asarray(raw, dtype=float)
        if self.method == "isotonic":
            # a vanishing tie-break keeps the model's ranking inside every step, the top one included: the step
            # can be 1.0 (the calibration's riskiest block all failed), and adding then clipping would tie every
            # firm above its last knot (issue 19: 58 of a crisis list's 100 first firms at "100 %")
            return np.asarray((1.0 - TIE_BREAK) * self.model.predict(r) + TIE_BREAK * np.clip(r, 0.0, 1.0), dtype=float)
        if self.method == "platt":
            return np.asarray(self.model.predict_proba(_logit(r).reshape(-1, 1))[:, 1], dtype=float)
        return r


def code_version() -> str:
    """Package version, plus the git commit when run from a checkout."""
    from signaux_faibles import __version__

    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent, check=False,
        ).stdout.strip()  # fmt: skip
    except OSError:
        sha = ""
    return f"{__version__}+{sha}" if sha else __version__


@dataclass
class FailureModel:
    """Everything needed to score, threshold and explain panel rows (see the module docstring)."""

    kind: str
    encoder: PanelEncoder
    estimator: Any
    calibrator: Calibrator
    thresholds: Thresholds
    groups: dict[str, str]
    training: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    code_version: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    #: The hazard model whose composed hazards give the term structure's shape (``term_structure``); None: only
    #: the 18-month point is known.
    term_model: Any = None

    @property
    def features(self) -> list[str]:
        return [str(c) for c in self.encoder.feature_names_in_]

    def matrix(self, df: pd.DataFrame) -> pd.DataFrame:
        return self.encoder.transform(df)

    def margin(self, df: pd.DataFrame) -> NDArray[np.float64]:
        return np.asarray(self.estimator.margin(self.matrix(df)))

    def raw_proba(self, df: pd.DataFrame) -> NDArray[np.float64]:
        return sigmoid(self.margin(df))

    def predict_proba(self, df: pd.DataFrame) -> NDArray[np.float64]:
        """The displayed probability of failure within 18 months: calibrated, and 1 for a "signal fort" (a
        company already judged at the month: the outcome is known, ``failure = 1`` by the target's definition)."""
        p = self.calibrator.transform(self.raw_proba(df))
        if "signal_fort" in df.columns:
            p = np.where(df["signal_fort"].fillna(False).to_numpy(dtype=bool), 1.0, p)
        return np.asarray(p, dtype=float)

    def term_structure(self, df: pd.DataFrame, p: NDArray[np.float64] | None = None) -> pd.DataFrame:
        """Probability of a first judgment within 3, 6, 12 and 18 months (``TERM_COLUMNS``).

        The shape is the hazard model's (``term_model``: its hazards composed, :mod:`.hazard`), rescaled so that
        the 18-month point is the displayed probability ``p`` (default :meth:`predict_proba`): ``p × P_h / P_18``.
        A signal fort (already judged) is 1 at every horizon. Without a hazard model only the 18-month point is
        known (the others are missing).
        """
        shown = self.predict_proba(df) if p is None else np.asarray(p, dtype=float)
        out = pd.DataFrame(index=df.index, columns=list(TERM_COLUMNS), dtype=float)
        out[TERM_COLUMNS[-1]] = shown
        if self.term_model is not None and len(df):
            cum = np.asarray(self.term_model.predict_cumulative(self.matrix(df)), dtype=float)
            ends = list(getattr(self.term_model, "intervals", (3, 6, 12, 18)))
            last = np.clip(cum[:, -1], 1e-12, None)
            for col, h in zip(TERM_COLUMNS[:-1], (3, 6, 12), strict=True):
                if h in ends:
                    out[col] = np.minimum(shown * cum[:, ends.index(h)] / last, shown)
            if "signal_fort" in df.columns:
                sf = df["signal_fort"].fillna(False).to_numpy(dtype=bool)
                out.loc[sf, list(TERM_COLUMNS)] = 1.0
        return out

    def alerts(self, df: pd.DataFrame) -> NDArray[np.object_]:
        return alert_levels(self.predict_proba(df), self.thresholds)

    def contributions(self, df: pd.DataFrame) -> pd.DataFrame:
        """Log-odds contribution per feature, plus ``bias``; rows sum to :meth:`margin`."""
        c = self.estimator.contributions(self.matrix(df))
        return pd.DataFrame(c, columns=[*self.features, "bias"], index=df.index)

    def save(self, path: Path) -> Path:
        import joblib

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        joblib.dump(self, tmp)
        tmp.replace(path)
        return path

    @staticmethod
    def load(path: Path) -> FailureModel:
        import joblib

        model = joblib.load(path)
        if not isinstance(model, FailureModel):
            raise TypeError(f"{path} is not a saved FailureModel")
        return model
