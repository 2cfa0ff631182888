"""Conformance: on the reference batch, the clean relations equal the real system's ``test-export.clean_*`` dumps.

The comparison follows ``../shared/acceptance/lib/golden.py`` (same skips, rows as multisets, dates by month,
numbers numerically, text by its cut prefix) with one difference: the dumps cut each value at 20 **bytes** (e.g.
``Conjoncture économi``, 19 characters), so a text matches when its UTF-8 prefix of 20 bytes does.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import ibis
import pyarrow.dataset as ds
import pytest

from golden import read_golden
from signaux_faibles.panel.build import build_clean

SKIP = {
    "clean_filter",
    "clean_sirene",
}  # no perimeter in the reference run; clean_sirene's dump is unreadable


def norm(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and math.isnan(v):
        return ""
    return str(v).strip()


def cut(s: str, n: int = 20) -> str:
    return s.encode("utf-8")[:n].decode("utf-8", errors="ignore").strip()


def same(g: str, o: str) -> bool:
    if o == g or cut(o) == g:
        return True
    if re.match(r"^\d{4}-\d{2}-\d{2}", g) and o[:7] == g[:7]:
        return True
    try:
        return math.isclose(float(g), float(o), rel_tol=1e-6, abs_tol=1e-6)
    except ValueError:
        return g.lower() == o.lower()


def compare(table: str, head: list[str], grows: list[list[str]], data_dir: Path) -> str | None:
    d = data_dir / "clean" / table
    if not d.exists():
        return f"{table}: missing"
    t = ds.dataset(str(d), format="parquet").to_table()
    cols = []
    for h in head:
        match = [c for c in t.column_names if c == h] or [c for c in t.column_names if c.startswith(h)]
        if not match:
            return f"{table}: no column for {h!r}"
        cols.append(match[0])
    orows = [[norm(v) for v in r] for r in zip(*[t.column(c).to_pylist() for c in cols], strict=True)]
    if len(orows) != len(grows):
        return f"{table}: {len(orows)} rows, golden has {len(grows)}"
    used = [False] * len(orows)
    for g in grows:
        g = g + [""] * (len(head) - len(g))
        for i, o in enumerate(orows):
            if not used[i] and all(same(a, b) for a, b in zip(g, o, strict=True)):
                used[i] = True
                break
        else:
            return f"{table}: golden row not found: {' | '.join(g)}"
    return None


@pytest.fixture(scope="module")
def built(reference_data: Path) -> dict[str, int]:
    con = ibis.duckdb.connect()
    return build_clean(con, reference_data, "1910", "2019-01", "2019-02")


def test_every_golden_clean_table_is_equal(
    built: dict[str, int], reference_data: Path, reference_dir: Path
) -> None:
    goldens = sorted((reference_dir / "golden").glob("test-export.clean_*.golden.txt"))
    names = [p.name.removesuffix(".golden.txt").split(".")[-1] for p in goldens]
    checked = [n for n in names if n not in SKIP]
    assert len(checked) == 9
    problems = []
    for path, name in zip(goldens, names, strict=True):
        if name in SKIP:
            continue
        head, rows = read_golden(path)
        p = compare(name, head, rows, reference_data)
        if p:
            problems.append(p)
    assert problems == [], problems


def test_every_relation_is_published(built: dict[str, int], reference_data: Path) -> None:
    expected = {
        "clean_ap",
        "clean_ccsf",
        "clean_cotisation",
        "clean_debit",
        "clean_delai",
        "clean_effectif",
        "clean_effectif_ent",
        "clean_filter",
        "clean_procol",
        "clean_procol_at_date",
        "clean_sirene",
        "clean_sirene_histo",
        "clean_sirene_ul",
    }
    assert expected <= set(built)
    assert {p.name for p in (reference_data / "clean").iterdir()} == set(built)
    assert not (reference_data / ".clean.tmp").exists()
    assert (
        built["clean_debit"] == 3 and built["clean_ap"] == 9 and built["clean_effectif"] == 317
    )  # every stg_effectif row


def test_rebuild_replaces_the_previous_tables(built: dict[str, int], reference_data: Path) -> None:
    (reference_data / "clean" / "stale_table").mkdir()
    again = build_clean(ibis.duckdb.connect(), reference_data, "1910", "2019-01", "2019-02")
    assert again == built
    assert not (reference_data / "clean" / "stale_table").exists()
