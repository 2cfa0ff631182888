"""Shared fixtures.

``shared_dir``: the read-only ``../shared`` folder (reference files of the real system). Tests that need it fail
when it is missing and the environment variable ``CI`` is ``true``, and are skipped otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from needs import unavailable

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"


def require_shared() -> Path:
    """The shared folder, or fail (CI) / skip (elsewhere) when it is missing."""
    if (SHARED / "reference").is_dir():
        return SHARED
    unavailable(str(SHARED), "the reference conformance tests")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (read-only reference material)."""
    return require_shared()


@pytest.fixture(scope="session")
def reference_dir(shared_dir: Path) -> Path:
    """``../shared/reference/osf``."""
    return shared_dir / "reference" / "osf"


def build_twin_panel(data: Path, companies: int, months: int, seed: int) -> tuple[Path, str]:
    """Write a twin under ``data/twin``, ingest its last batch and build the company panel (DuckDB)."""
    from signaux_faibles.config import Settings
    from signaux_faibles.ingest import ingest_batch
    from signaux_faibles.panel import run_panel
    from signaux_faibles.twin.generate import TwinConfig, generate

    summary = generate(TwinConfig(data / "twin", companies=companies, months=months, seed=seed))
    batch = summary.batches[-1]
    ingest_batch(data / "twin" / batch, batch, data)
    assert run_panel(Settings(data_dir=data), batch, None, None, "duckdb", None) == 0
    return data, batch


@pytest.fixture(scope="session")
def twin_builder() -> Callable[[Path, int, int, int], tuple[Path, str]]:
    """``build_twin_panel``, handed to other conftests and tests (test modules do not import conftest)."""
    return build_twin_panel


@pytest.fixture(scope="session")
def twin_panel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A twin of 1 500 companies × 60 months, ingested, with its company panel: ``(data directory, batch)``."""
    return build_twin_panel(tmp_path_factory.mktemp("model_twin") / "data", 1500, 60, 4)


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
