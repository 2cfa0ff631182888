from __future__ import annotations

from pathlib import Path

import pytest

from needs import unavailable
from signaux_faibles.twin import TwinConfig, TwinSummary, generate

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``../shared/reference``: missing is an error in CI (CI=true), a skip elsewhere."""
    ref = SHARED.resolve() / "reference"
    if not ref.is_dir():
        unavailable(str(ref), "the reference tests")
    return ref


@pytest.fixture(scope="session")
def clean_twin(tmp_path_factory: pytest.TempPathFactory) -> TwinSummary:
    out = tmp_path_factory.mktemp("twin-clean")
    return generate(TwinConfig(out=out, companies=300, months=36, seed=7, defects=0.0, monthly_batches=2))


@pytest.fixture(scope="session")
def defect_twin(tmp_path_factory: pytest.TempPathFactory) -> TwinSummary:
    out = tmp_path_factory.mktemp("twin-defects")
    return generate(TwinConfig(out=out, companies=300, months=36, seed=5, defects=0.02, monthly_batches=1))
