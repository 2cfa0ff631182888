"""The registry: every source has patterns, a fixture (tests/sources/data/<name>/) and a section in docs/data.md."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from signaux_faibles.sources._base import ARROW_TYPES, Source, rows_schema
from signaux_faibles.sources.registry import SOURCES, source_for

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
DOC = ROOT / "docs" / "data.md"


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_source_is_complete(source: Source) -> None:
    assert source.table.startswith("stg_")
    assert source.kind in ("stock", "flux")
    assert source.patterns and all(isinstance(p, re.Pattern) for p in source.patterns)
    assert all(c.type in ARROW_TYPES for c in source.columns)
    assert len({c.name for c in source.columns}) == len(source.columns)
    fixtures = sorted(p for p in (DATA / source.name).glob("*") if p.is_file()) if (DATA / source.name).is_dir() else []
    assert fixtures, f"source {source.name!r} has no fixture under tests/sources/data/{source.name}/"
    headings = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    assert any(f"`{source.name}`" in h for h in headings), f"docs/data.md has no section for `{source.name}`"


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_fixture_parses_under_the_contract(source: Source) -> None:
    con = duckdb.connect()
    for path in sorted(p for p in (DATA / source.name).glob("*") if p.is_file()):
        assert source_for(path.name) is source, f"{path.name} is not recognised as {source.name}"
        res = source.parse(path, con)
        assert res.fatal is None, res.fatal
        assert res.rows.schema.equals(rows_schema(source.columns))
        kept = len(set(res.rows.column("_line").to_pylist()))
        assert res.read >= kept + res.rejected_rows  # wide sources: a record may yield no row


def test_names_are_unique() -> None:
    assert len({s.name for s in SOURCES}) == len(SOURCES)


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("sigfaible_cotisdues.csv", "cotisation"),
        ("sigfaible_cotisdues.csv.gz", "cotisation"),
        ("sigfaible_debits.csv", "debit"),
        ("sigfaible_delais.csv", "delai"),
        ("sigfaible_ccsf.csv.gz", "ccsf"),
        ("sigfaible_pcoll.csv", "procol"),
        ("sigfaible_effectif_siren.csv", "effectif_ent"),
        ("sigfaible_effectif_siret.csv", "effectif"),
        ("bfc_effectif_2019.csv", "effectif"),
    ],
)
def test_file_names(filename: str, name: str) -> None:
    source = source_for(filename)
    assert source is not None and source.name == name
    assert source_for("README.txt") is None
