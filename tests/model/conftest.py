"""Fixtures of the failure-model tests: small synthetic data and the shared Polish files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from needs import unavailable


@pytest.fixture(scope="session")
def polish_dir(shared_dir: Path) -> Path:
    """``../shared/datasets/polish_uci_bankruptcy``: fails in CI (``CI=true``) when missing, skips elsewhere."""
    folder = shared_dir / "datasets" / "polish_uci_bankruptcy"
    if not (folder / "1year.arff").is_file():
        unavailable(str(folder), "the Polish benchmark test")
    return folder


def _synthetic(n: int = 600, seed: int = 0, missing: float = 0.1) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` rows, 6 features (2 informative, one ratio-driven), ~10 % positives, some missing values."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    X[:, 4] = rng.uniform(0.5, 2.0, size=n)
    logit = -3.0 + 1.5 * X[:, 0] - 1.0 * X[:, 1] + 2.0 * (X[:, 2] / X[:, 4])
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    X[rng.uniform(size=X.shape) < missing] = np.nan
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]), y


@pytest.fixture
def small_data() -> tuple[pd.DataFrame, np.ndarray]:
    """600 synthetic rows (see ``_synthetic``)."""
    return _synthetic()


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    """The synthetic rows plus an id, a month and the target ``failed``, written as CSV."""
    X, y = _synthetic(n=800, seed=1)
    df = X.assign(
        siren=np.arange(len(X)) % 200,
        periode=pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(len(X)) // 200 * 31, unit="D"),
        failed=y,
    )
    path = tmp_path / "small.csv"
    df.to_csv(path, index=False)
    return path

