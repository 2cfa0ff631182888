"""The DuckDB engine is bounded as the settings say, and spills under the data directory, cleaned at exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from signaux_faibles import engine
from signaux_faibles.config import Settings


def _setting(con: object, name: str) -> object:
    return con.raw_sql(f"SELECT current_setting('{name}')").fetchone()[0]  # type: ignore[attr-defined]


def test_duckdb_memory_limit_threads_and_spill_folder(tmp_path: Path) -> None:
    con = engine.connect(Settings(data_dir=tmp_path, duckdb_memory_limit="100MB", duckdb_threads=1))
    assert _setting(con, "preserve_insertion_order") is False
    assert _setting(con, "threads") == 1
    value, unit = str(_setting(con, "memory_limit")).split()
    assert unit == "MiB" and 90 <= float(value) <= 100
    spill = Path(str(_setting(con, "temp_directory")))
    assert spill.parent == tmp_path and spill.name.startswith(".duckdb-spill-")
    # a sort larger than the limit completes by spilling
    n = con.raw_sql(
        "SELECT count(*) FROM (SELECT i, repeat('x', 40) || i::VARCHAR AS s FROM range(3000000) t(i) ORDER BY s)"
    ).fetchone()[0]
    assert n == 3_000_000


def test_duckdb_without_a_limit_uses_duckdb_defaults(tmp_path: Path) -> None:
    con = engine.connect(Settings(data_dir=tmp_path, duckdb_memory_limit=""))
    assert not list(tmp_path.glob(".duckdb-spill-*"))
    assert _setting(con, "preserve_insertion_order") is False


def test_unknown_engine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected one of"):
        engine.connect(Settings(data_dir=tmp_path), "polars")
