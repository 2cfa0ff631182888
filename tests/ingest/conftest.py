"""Fixtures for the ingest tests: synthetic batches written from tests/sources/data."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "sources" / "data"
MINE = ("cotisation", "debit", "delai", "ccsf", "procol", "effectif", "effectif_ent")


def make_batch(folder: Path, sources: tuple[str, ...] = MINE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in sources:
        for f in (DATA / name).iterdir():
            if f.is_file():
                shutil.copy(f, folder / f.name)
    return folder


@pytest.fixture
def batch_dir(tmp_path: Path) -> Path:
    """A batch folder with the synthetic fixtures of the URSSAF and effectif sources."""
    return make_batch(tmp_path / "in" / "1911")


@pytest.fixture(name="make_batch")
def make_batch_fixture() -> Callable[..., Path]:
    """The :func:`make_batch` helper."""
    return make_batch
