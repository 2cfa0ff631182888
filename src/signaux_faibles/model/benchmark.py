"""Benchmark the production classifier on any tabular file (CSV, Parquet, ARFF) under a named protocol.

Protocols
---------
``holdout90``
    10 stratified 90/10 hold-outs (``StratifiedShuffleSplit``, seed 0), the published Polish protocol. With an id
    column: 10 ``GroupShuffleSplit`` hold-outs (no id on both sides; not stratified).
``kfold10``
    10-fold stratified cross-validation (shuffled, seed 0); ``StratifiedGroupKFold`` with an id column.
``time``
    Train on the rows whose ``time_col`` falls in the earliest 80 % of rows, test on the later rows. With an id
    column, the ids are first split 80/20 (seed 0) and each side keeps only its own ids, so no id is on both sides.
train/test files
    Fit on the first file, score the second (one split).

Scores are computed on the held-out rows only: AUC-ROC, AUC-PR (average precision) and the Brier score of the raw
(uncalibrated) probabilities. The classifier is trained without resampling or class weights, so its raw
probabilities are the ones an agent would see.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import clone
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import (
    GroupShuffleSplit,
    StratifiedGroupKFold,
    StratifiedKFold,
    StratifiedShuffleSplit,
)

from .estimators import FailureClassifier

__all__ = ["Protocol", "read_arff", "read_table", "run_benchmark"]

Protocol = Literal["holdout90", "kfold10", "time"]
PROTOCOLS: tuple[str, ...] = ("holdout90", "kfold10", "time")
N_SPLITS = 10
SEED = 0
TIME_TRAIN_SHARE = 0.8

Split = tuple[NDArray[np.intp], NDArray[np.intp]]


def read_arff(path: Path) -> pd.DataFrame:
    """Read a (dense) ARFF file: ``?`` becomes missing, nominal values become strings.

    ``scipy.io.arff`` handles the Polish files (numeric attributes, ``?`` for missing, nominal ``class {0,1}``);
    it returns nominal values as bytes, decoded here. Nominal values that all look like integers are cast to int.
    """
    from scipy.io import arff

    data, meta = arff.loadarff(str(path))
    df = pd.DataFrame(data)
    for name in meta.names():
        if meta[name][0] == "nominal":
            col = df[name].map(lambda v: v.decode() if isinstance(v, bytes) else v)
            col = col.where(col != "?", None)
            numeric = pd.to_numeric(col, errors="coerce")
            if (
                col.notna().any()
                and numeric.notna().sum() == col.notna().sum()
                and (numeric.dropna() % 1 == 0).all()
            ):
                df[name] = numeric.astype("Int64") if numeric.isna().any() else numeric.astype("int64")
            else:
                df[name] = col
    return df


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV, Parquet or ARFF file into a DataFrame (format from the file name)."""
    suffix = path.suffix.lower()
    if suffix == ".arff":
        return read_arff(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".csv", ".txt") or path.name.lower().endswith((".csv.gz", ".csv.zst")):
        return pd.read_csv(path, na_values=["?"], low_memory=False)
    raise ValueError(f"unsupported file type {path.name!r}: expected .csv, .parquet or .arff")


def _target(values: pd.Series) -> NDArray[np.int64]:
    """0/1 target: numeric 0/1, booleans, or two labels (the larger one, in sort order, is the positive)."""
    if values.isna().any():
        raise ValueError(f"target {values.name!r} has {int(values.isna().sum())} missing values")
    labels = sorted(values.unique().tolist(), key=str)
    if len(labels) != 2:
        raise ValueError(f"target {values.name!r} must have exactly 2 values, got {labels[:10]}")
    if set(labels) <= {0, 1}:  # also True/False
        return np.asarray(values.astype(int).to_numpy(), dtype=np.int64)
    return np.asarray((values.astype(str) == str(labels[1])).to_numpy(), dtype=np.int64)


def _features(df: pd.DataFrame) -> pd.DataFrame:
    """Numeric feature frame: numbers as float, booleans as 0/1, dates as days, other columns as category codes."""
    out: dict[str, pd.Series] = {}
    for name, col in df.items():
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            out[str(name)] = pd.to_numeric(col, errors="coerce").astype(float)
        elif pd.api.types.is_datetime64_any_dtype(col):
            out[str(name)] = (col - pd.Timestamp("1970-01-01")).dt.days.astype(float)
        else:
            codes = col.astype("category").cat.codes.astype(float)
            out[str(name)] = codes.where(codes >= 0, np.nan)
    return pd.DataFrame(out, index=df.index)


def _splits(
    y: NDArray[np.int64], groups: NDArray[Any] | None, times: pd.Series | None, protocol: str, seed: int = SEED
) -> Iterator[Split]:
    idx = np.arange(len(y))
    if protocol == "holdout90":
        if groups is None:
            yield from StratifiedShuffleSplit(n_splits=N_SPLITS, test_size=0.1, random_state=seed).split(
                idx, y
            )
        else:
            yield from GroupShuffleSplit(n_splits=N_SPLITS, test_size=0.1, random_state=seed).split(
                idx, y, groups
            )
    elif protocol == "kfold10":
        if groups is None:
            yield from StratifiedKFold(n_splits=N_SPLITS, shuffle=True, random_state=seed).split(idx, y)
        else:
            yield from StratifiedGroupKFold(n_splits=N_SPLITS, shuffle=True, random_state=seed).split(
                idx, y, groups
            )
    elif protocol == "time":
        if times is None:
            raise ValueError("protocol 'time' needs --time COL")
        t = times.to_numpy()
        known = t[~pd.isna(t)]
        if len(known) == 0:
            raise ValueError("the time column is empty")
        values, counts = np.unique(known, return_counts=True)
        if len(values) < 2:
            raise ValueError("protocol 'time' needs at least two distinct times")
        share = np.cumsum(counts) / len(known)
        # the last time with at most 80 % of the rows at or before it (at least the first time, never the last)
        cutoff = values[
            min(max(int(np.searchsorted(share, TIME_TRAIN_SHARE, side="right")) - 1, 0), len(values) - 2)
        ]
        early = np.asarray(~pd.isna(t) & (t <= cutoff))
        late = np.asarray(~pd.isna(t) & (t > cutoff))
        if groups is not None:
            side_train, _ = next(
                GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=seed).split(idx, y, groups)
            )
            train_ids = np.zeros(len(y), dtype=bool)
            train_ids[side_train] = True
            early &= train_ids
            late &= ~train_ids
        yield idx[early], idx[late]
    else:
        raise ValueError(f"unknown protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")


def _summary(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=float)
    return {"mean": float(np.nanmean(arr)), "std": float(np.nanstd(arr))}


def _score(y: NDArray[np.int64], p: NDArray[np.float64]) -> tuple[float, float, float]:
    if len(np.unique(y)) < 2:
        return float("nan"), float("nan"), float(brier_score_loss(y, p))
    return float(roc_auc_score(y, p)), float(average_precision_score(y, p)), float(brier_score_loss(y, p))


def evaluate_splits(
    X: pd.DataFrame,
    y: NDArray[np.int64],
    splits: list[Split],
    make_model: Callable[[], Any],
) -> dict[str, Any]:
    """Fit a fresh model per split on the training rows, score the test rows; mean and sd of each metric."""
    aucs: list[float] = []
    aps: list[float] = []
    briers: list[float] = []
    for train_idx, test_idx in splits:
        if len(test_idx) == 0 or len(np.unique(y[train_idx])) < 2:
            raise ValueError("a split has no test rows or a single class in training")
        model = make_model()
        model.fit(X.iloc[train_idx], y[train_idx])
        p = model.predict_proba(X.iloc[test_idx])[:, 1]
        auc, ap, brier = _score(y[test_idx], p)
        aucs.append(auc)
        aps.append(ap)
        briers.append(brier)
    return {
        "auc_roc": _summary(aucs),
        "auc_pr": _summary(aps),
        "brier": _summary(briers),
        "auc_roc_per_split": [round(a, 6) for a in aucs],
    }


def run_benchmark(
    data: Path | None,
    target: str,
    id_col: str | None = None,
    time_col: str | None = None,
    protocol: Protocol = "holdout90",
    train: Path | None = None,
    test: Path | None = None,
    *,
    estimator: Any | None = None,
    n_splits: int | None = None,
    seed: int = SEED,
) -> dict[str, Any]:
    """Benchmark ``estimator`` (default: the production ``FailureClassifier``) on a file under a protocol.

    Parameters
    ----------
    data : Path or None
        The whole data set (CSV, Parquet or ARFF). Ignored when ``train`` and ``test`` are given.
    target : str
        Binary target column.
    id_col, time_col : str or None
        Entity id (splits never put one id on both sides) and time column (protocol ``time``). Both are
        excluded from the features.
    protocol : {"holdout90", "kfold10", "time"}
        See the module docstring.
    train, test : Path or None
        Fit on ``train``, score ``test`` (overrides ``protocol``).
    estimator : scikit-learn classifier, optional
        Cloned for every split. Default ``FailureClassifier()``.
    n_splits : int, optional
        Use only the first ``n_splits`` splits of the protocol (quick runs, tests).
    seed : int
        Seed of the random splits (default 0, the command's). Another seed draws other hold-outs of the same
        protocol: ``benchmarks/polish.py --draws`` uses it to show how much the draw alone moves the mean.

    Returns
    -------
    dict
        ``auc_roc``, ``auc_pr``, ``brier`` (each ``{"mean", "std"}`` over the splits), ``n_rows``,
        ``prevalence``, ``protocol``, ``n_splits``, and ``brier_probabilities`` = ``"raw"``.
    """
    base = FailureClassifier() if estimator is None else estimator
    t0 = time.perf_counter()
    drop = [c for c in (target, id_col, time_col) if c is not None]
    df, splits, protocol_name = _read_inputs(data, train, test, drop, protocol)
    y = _target(df[target])
    X = _features(df.drop(columns=drop))
    if not splits:
        groups = df[id_col].to_numpy() if id_col is not None else None
        times = df[time_col] if time_col is not None else None
        splits = list(_splits(y, groups, times, protocol, seed))
    if n_splits is not None:
        splits = splits[:n_splits]
    scores = evaluate_splits(X, y, splits, lambda: clone(base))
    test_rows = np.concatenate([te for _, te in splits])
    return {
        **scores,
        "n_rows": len(df),
        "n_features": X.shape[1],
        "prevalence": float(y.mean()),
        "test_prevalence": float(y[test_rows].mean()),
        "protocol": protocol_name,
        "seed": seed,
        "n_splits": len(splits),
        "brier_probabilities": "raw",
        "model": type(base).__name__,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _read_inputs(
    data: Path | None, train: Path | None, test: Path | None, drop: list[str], protocol: Protocol
) -> tuple[pd.DataFrame, list[Split], str]:
    """The rows (``train`` then ``test`` when both are given, else ``data``), the fixed split of a train/test pair
    (else none yet: the protocol's are drawn once the target is read) and the protocol's name."""
    if train is not None or test is not None:
        if train is None or test is None:
            raise ValueError("--train and --test go together")
        df_train, df_test = read_table(train), read_table(test)
        for name, frame in (("train", df_train), ("test", df_test)):
            missing = [c for c in drop if c not in frame.columns]
            if missing:
                raise ValueError(f"column(s) {missing} not in the {name} file")
        df = pd.concat([df_train, df_test], ignore_index=True)
        return df, [(np.arange(len(df_train)), np.arange(len(df_train), len(df)))], "train_test"
    if data is None:
        raise ValueError("give --data, or --train and --test")
    df = read_table(data)
    missing = [c for c in drop if c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in {data.name}; columns: {list(df.columns)[:20]}")
    return df, [], protocol
