"""Fixtures for the panel tests: the reference batch laid out and ingested, helpers to read clean tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from golden import REFERENCE_BATCH
from signaux_faibles.ingest import ingest_batch
from signaux_faibles.twin.generate import TwinConfig, generate


@pytest.fixture(scope="module")
def reference_data(reference_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the reference batch 1910, ingested with no perimeter filter."""
    root = tmp_path_factory.mktemp("reference")
    batch = root / "1910"
    batch.mkdir()
    for src, name in REFERENCE_BATCH.items():
        shutil.copy(reference_dir / src, batch / name)
    data = root / "data"
    ingest_batch(batch, "1910", data, no_filter=True)
    return data


@pytest.fixture(scope="session")
def twin_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A small twin (150 companies, 24 months), its first batch ingested: ``(data directory, batch)``.

    Shared by the parity and no-look-ahead tests (built once per session). Tests must not modify it in place:
    the parity test moves what it builds (``clean/``, ``panel/``) away.
    """
    root = tmp_path_factory.mktemp("twin")
    summary = generate(TwinConfig(root / "twin", companies=150, months=24, seed=9))
    batch = summary.batches[0]
    data = root / "data"
    ingest_batch(root / "twin" / batch, batch, data)
    return data, batch


def read_clean(data_dir: Path, name: str) -> list[dict[str, object]]:
    """Rows of ``data_dir/clean/name`` as dicts."""
    return ds.dataset(str(data_dir / "clean" / name), format="parquet").to_table().to_pylist()
