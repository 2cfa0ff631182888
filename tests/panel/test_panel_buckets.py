"""The panel's final join by buckets of companies (issue 24): the same panel whatever the number of buckets."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import ibis
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from signaux_faibles.engine import bucket_of, read_bucket, write_buckets
from signaux_faibles.panel import build_company_month
from signaux_faibles.panel.build import build_clean


def _panel(data: Path) -> list[dict[str, object]]:
    t = ds.dataset(str(data / "panel" / "company_month"), format="parquet").to_table()
    return t.sort_by([("siren", "ascending"), ("periode", "ascending")]).to_pylist()


def _same(u: object, v: object) -> bool:
    if isinstance(u, float) and isinstance(v, float):  # NaN = NaN; DuckDB's parallel sums vary in the last bits
        return (math.isnan(u) and math.isnan(v)) or math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9)
    return u == v


def _same_panel(a: list[dict[str, object]], b: list[dict[str, object]]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert list(x) == list(y)
        bad = {k: (x[k], y[k]) for k in x if not _same(x[k], y[k])}
        assert not bad, (x["siren"], x["periode"], bad)


def test_the_panel_by_buckets_equals_the_panel_at_once(twin_data: tuple[Path, str], tmp_path: Path) -> None:
    src, batch = twin_data
    data = tmp_path / "data"
    shutil.copytree(src / "staging", data / "staging")
    con = ibis.duckdb.connect()
    build_clean(con, data, batch, None, None)
    timings: dict[str, float] = {}
    n_once = build_company_month(con, data, batch, None, None, bucket_companies=None, timings=timings)
    assert "buckets" not in timings and "join" in timings and "features_urssaf" in timings
    once = _panel(data)
    companies = len({r["siren"] for r in once})
    assert n_once == len(once) > 0 and companies > 20
    timings = {}
    n_parts = build_company_month(con, data, batch, None, None, bucket_companies=companies // 7, timings=timings)
    parts = sorted((data / "panel" / "company_month").glob("*.parquet"))
    assert len(parts) >= 7 and "buckets" in timings  # at least 7 buckets, one part each
    assert n_parts == n_once
    _same_panel(_panel(data), once)
    assert not (data / "panel_work").exists()

    # a filter of two companies: most buckets hold none of them, and their companies stay outside the perimeter
    # (an empty filter would put every company in; that is the whole filter's property, not a bucket's)
    filt = data / "clean" / "clean_filter"
    kept = pq.read_table(filt).slice(0, 2)
    shutil.rmtree(filt)
    filt.mkdir()
    pq.write_table(kept, filt / "part-00000.parquet")
    build_company_month(con, data, batch, None, None, bucket_companies=None)
    once = _panel(data)
    assert 0 < sum(bool(r["in_perimeter"]) for r in once) < len(once)
    build_company_month(con, data, batch, None, None, bucket_companies=companies // 7)
    _same_panel(_panel(data), once)


def test_buckets_hold_whole_keys_and_empty_buckets_have_the_schema(tmp_path: Path) -> None:
    con = ibis.duckdb.connect()
    t = ibis.memtable({"siren": ["111111111", "111111111", "222222222", "333333333"], "x": [1.0, 2.0, 3.0, 4.0]})
    n = write_buckets(con, t, tmp_path / "t", "siren", 16)
    assert n == 4
    seen: dict[str, int] = {}
    total = 0
    for b in range(16):
        part = con.to_pyarrow(read_bucket(con, tmp_path / "t", b))
        assert part.column_names == ["siren", "x"]  # the schema, even when the bucket is empty
        total += part.num_rows
        for s in part.column("siren").to_pylist():
            assert seen.setdefault(s, b) == b  # a key in one bucket only
    assert total == 4 and len(seen) == 3
    expected = con.to_pyarrow(t.mutate(b=bucket_of(t.siren, 16)))
    for s, b in zip(expected.column("siren").to_pylist(), expected.column("b").to_pylist(), strict=True):
        assert seen[s] == b and 0 <= b < 16


@pytest.mark.parametrize("value", ["-1"])
def test_a_negative_bucket_size_is_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from signaux_faibles.cli import app

    monkeypatch.setenv("SF_PANEL_BUCKET_COMPANIES", value)
    r = CliRunner().invoke(app, ["version"])
    assert r.exit_code == 2 and "panel_bucket_companies" in r.output
