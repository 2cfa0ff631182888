"""Fixtures of the failure-model tests: small synthetic data and the shared Polish files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def polish_dir(shared_dir: Path) -> Path:
    """``../shared/datasets/polish_uci_bankruptcy``: fails in CI (``CI=true``) when missing, skips elsewhere."""
    folder = shared_dir / "datasets" / "polish_uci_bankruptcy"
    if not (folder / "1year.arff").is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{folder} is missing: the Polish benchmark test must run in CI")
        pytest.skip(f"{folder} is missing (set CI=true to make this a failure)")
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


@pytest.fixture(scope="session")
def twin_panel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A twin of 1 500 companies × 60 months, ingested, with its company panel: ``(data directory, batch)``."""
    from signaux_faibles.config import Settings
    from signaux_faibles.ingest import ingest_batch
    from signaux_faibles.panel import run_panel
    from signaux_faibles.twin.generate import TwinConfig, generate

    root = tmp_path_factory.mktemp("model_twin")
    data = root / "data"
    summary = generate(TwinConfig(data / "twin", companies=1500, months=60, seed=4))
    batch = summary.batches[-1]
    ingest_batch(data / "twin" / batch, batch, data)
    assert run_panel(Settings(data_dir=data), batch, None, None, "duckdb", None) == 0
    return data, batch


@pytest.fixture(scope="session")
def trained(twin_panel: tuple[Path, str]) -> tuple[Path, str, object]:
    """``signaux-faibles train``'s work on the twin panel (small grids, to keep the suite fast)."""
    from signaux_faibles.model.train import TrainConfig, run_train

    data, batch = twin_panel
    cfg = TrainConfig(
        lightgbm_grid=({"n_estimators": 150, "num_leaves": 7, "min_child_samples": 50},
                       {"n_estimators": 150, "num_leaves": 15, "min_child_samples": 100}),
        logistic_grid=({"C": 0.01}, {"C": 0.1}),
        n_seeds=1,
    )  # fmt: skip
    out = run_train(data, batch, cfg=cfg, log=lambda s: None)
    return data, batch, out
