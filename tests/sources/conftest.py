"""Helpers for the source parser tests: the reference folder, a DuckDB connection, contract and golden checks."""

from __future__ import annotations

import gzip
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from golden import read_golden
from needs import unavailable
from signaux_faibles.sources._base import REJECTION_SCHEMA, ParseResult, Source, rows_schema

PROJECT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def reference() -> Path:
    """``../shared/reference`` (read in place, never copied); fail in CI when missing, else skip."""
    path = (PROJECT / ".." / "shared" / "reference").resolve()
    if not path.is_dir():
        unavailable(str(path), "the reference folder")
    return path


@pytest.fixture()
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    yield c
    c.close()


def check_contract(source: Source, result: ParseResult) -> None:
    """The invariants every ParseResult keeps."""
    assert result.rows.schema == rows_schema(source.columns)
    assert result.rejections.schema == REJECTION_SCHEMA
    assert result.read == result.rows.num_rows + result.rejected_rows
    assert set(result.rejections.column("level").to_pylist()) <= {"row", "field"}
    if result.fatal is not None:
        assert result.rows.num_rows == 0 and result.rejections.num_rows == 0 and result.read == 0


def rejected(result: ParseResult, level: str = "row") -> dict[int, list[str]]:
    """Line → reasons of the rejections at this level."""
    out: dict[int, list[str]] = {}
    for r in result.rejections.to_pylist():
        if r["level"] == level:
            out.setdefault(r["line"], []).append(r["reason"])
    return out


def assert_fatal_cases(source: Source, con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str, good: bytes) -> None:
    """Empty, binary, truncated gzip, UTF-16 and missing-column files give a fatal message naming the file."""
    cases = {
        "empty": b"",
        "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01" * 20,
        "truncated": gzip.compress(good)[: max(20, len(gzip.compress(good)) // 2)],
        "header": b"foo,bar;baz\n1,2;3\n",
    }
    for case, data in cases.items():
        d = tmp_path / case
        d.mkdir()
        path = d / name
        path.write_bytes(data)
        result = source.parse(path, con)
        assert result.fatal is not None, case
        assert name in result.fatal, (case, result.fatal)
        check_contract(source, result)


def assert_gzip_same(source: Source, con: duckdb.DuckDBPyConnection, tmp_path: Path, path: Path) -> None:
    """A gzip copy of the file parses to the same rows and rejections."""
    gz = tmp_path / (path.name + ".gz")
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert any(p.search(gz.name) for p in source.patterns) or path.suffix == ".xlsx"
    a, b = source.parse(path, con), source.parse(gz, con)
    assert a.fatal is None and b.fatal is None
    assert a.rows.equals(b.rows)
    assert a.rejections.equals(b.rejections)


# --- golden staging dumps, compared as ../shared/acceptance/lib/golden.py does ------------------------------------

def _norm(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and math.isnan(v):
        return ""
    s = str(v).strip()
    return "" if s in ("None", "NaT", "nan", "<NA>", "NULL") else s


def _same(g: str, o: str) -> bool:
    if o[:20] == g or o == g:
        return True
    if re.match(r"^\d{4}-\d{2}-\d{2}", g) and o[:10] == g[:10]:
        return True
    try:
        return math.isclose(float(g), float(o), rel_tol=1e-6, abs_tol=1e-6)
    except ValueError:
        return g.lower() == o.lower()


def assert_golden(rows: pa.Table, golden: Path) -> None:
    """Rows equal a golden staging dump: multiset of rows, columns matched by name prefix."""
    head, grows = read_golden(golden)
    cols = []
    for h in head:
        match = [c for c in rows.column_names if c == h] or [c for c in rows.column_names if c.startswith(h)]
        assert match, f"no column for golden column {h!r}"
        cols.append(match[0])
    orows = [[_norm(v) for v in r] for r in zip(*[rows.column(c).to_pylist() for c in cols], strict=True)]
    assert len(orows) == len(grows)
    used = [False] * len(orows)
    for g in grows:
        g = g + [""] * (len(head) - len(g))
        for i, o in enumerate(orows):
            if not used[i] and all(_same(a, b) for a, b in zip(g, o, strict=True)):
                used[i] = True
                break
        else:
            raise AssertionError(f"golden row not found: {g}")


def _json_value(v: object) -> object:
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00Z", v):
        return None if v.startswith("0001-01-01") else v[:10]
    return v


def assert_expected(rows: pa.Table, tuples: list[dict[str, object]], names: dict[str, str] | None = None) -> None:
    """Rows (in file order) equal the real system's expected tuples, field by field.

    ``names`` maps a JSON field to the staging column when they differ. A field absent from a tuple is Go's
    ``omitempty`` zero value: the row must then hold NULL, false, 0 or an empty string.
    """
    names = names or {}
    got = rows.to_pylist()
    assert len(got) == len(tuples)
    fields = {k for t in tuples for k in t}
    for row, expected in zip(got, tuples, strict=True):
        for key in fields:
            col = names.get(key, key.lower())
            assert col in row, f"no column for expected field {key!r}"
            value = row[col].isoformat() if hasattr(row[col], "isoformat") else row[col]
            if key not in expected:
                assert value in (None, False, 0, ""), (key, value)
                continue
            want = _json_value(expected[key])
            if isinstance(want, float) or isinstance(value, float):
                assert want is not None and value is not None and math.isclose(float(value), float(want)), (key, value, want)  # type: ignore[arg-type]
            elif want in ("", None):
                assert value in ("", None), (key, value)
            else:
                assert value == want, (key, value, want)


def parsed(source: Source, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
    """``source.parse(path)``, its invariants checked."""
    result = source.parse(path, con)
    check_contract(source, result)
    return result


def tuples(path: Path) -> list[dict[str, object]]:
    """The ``tuples`` of a real system's expected-output JSON file."""
    return list(json.loads(path.read_text(encoding="utf-8"))["tuples"])


class Helpers:
    """The helpers above, handed to tests as the ``h`` fixture (test modules do not import conftest)."""

    data = DATA
    check_contract = staticmethod(check_contract)
    parsed = staticmethod(parsed)
    tuples = staticmethod(tuples)
    rejected = staticmethod(rejected)
    assert_fatal_cases = staticmethod(assert_fatal_cases)
    assert_gzip_same = staticmethod(assert_gzip_same)
    assert_golden = staticmethod(assert_golden)
    assert_expected = staticmethod(assert_expected)


@pytest.fixture()
def h() -> type[Helpers]:
    return Helpers
