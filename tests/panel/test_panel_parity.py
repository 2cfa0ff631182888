"""DuckDB vs Spark: on a small twin, build_clean and build_company_month give the same clean relations and the same
``panel/company_month`` on both engines (one twin, one Spark session for the whole check); Spark's panel is made
by buckets of companies, DuckDB's at once."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from signaux_faibles.config import Settings
from signaux_faibles.engine import connect, stop
from signaux_faibles.panel import build_company_month
from signaux_faibles.panel.build import build_clean

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark() -> Iterator[ibis.BaseBackend]:
    con = connect(Settings(), "spark")
    yield con
    stop(con)


def _sorted_rows(t: pa.Table) -> list[tuple[object, ...]]:
    def key(v: object) -> tuple[int, str]:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return (0, "")
        if isinstance(v, float):  # sums may differ in the last bits between engines: sort on a rounded value
            return (1, f"{v:+025.6f}")
        return (1, repr(v))

    cols = sorted(t.column_names)
    rows = zip(*[t.column(c).to_pylist() for c in cols], strict=True)
    return sorted((tuple(r) for r in rows), key=lambda r: tuple(key(v) for v in r))


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def test_duckdb_and_spark_build_the_same_clean_tables_and_panel(
    twin_data: tuple[Path, str], spark: ibis.BaseBackend, tmp_path: Path
) -> None:
    data, batch = twin_data
    counts = {}
    for engine, con in (("duckdb", ibis.duckdb.connect()), ("spark", spark)):
        counts[engine] = build_clean(con, data, batch, None, None)
        # Spark makes the final join by buckets of 40 companies (4 buckets), DuckDB at once: the same panel
        per_bucket = 40 if engine == "spark" else None
        steps: dict[str, float] = {}
        counts[engine]["company_month"] = build_company_month(con, data, batch, None, None, per_bucket, steps)
        assert ("buckets" in steps) == (engine == "spark")
        (data / "clean").rename(tmp_path / engine)
        (data / "panel" / "company_month").rename(tmp_path / engine / "company_month")
    assert counts["duckdb"] == counts["spark"]
    assert counts["duckdb"]["clean_debit"] > 0 and counts["duckdb"]["clean_ap"] >= 0
    assert counts["duckdb"]["company_month"] > 0
    for name in counts["duckdb"]:
        a = ds.dataset(str(tmp_path / "duckdb" / name), format="parquet").to_table()
        b = ds.dataset(str(tmp_path / "spark" / name), format="parquet").to_table()
        if name == "company_month":
            assert a.schema.names == b.schema.names
            for field in a.schema:  # same types, up to the integer width the engines choose
                other = b.schema.field(field.name).type
                assert field.type == other or (
                    pa.types.is_integer(field.type) and pa.types.is_integer(other)
                ), field.name
        assert sorted(a.column_names) == sorted(b.column_names), name
        ra, rb = _sorted_rows(a), _sorted_rows(b)
        assert len(ra) == len(rb), name
        cols = sorted(a.column_names)
        for x, y in zip(ra, rb, strict=True):
            bad = [c for c, u, v in zip(cols, x, y, strict=True) if not _same(u, v)]
            assert not bad, f"{name}: {bad} differ: {x} vs {y}"
