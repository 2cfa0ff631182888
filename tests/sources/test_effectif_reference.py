"""Conformance of the effectif parsers with the real system's parsed rows (``test-import.effectif*.golden``)."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from signaux_faibles.sources.effectif import EFFECTIF, EFFECTIF_ENT, urssaf_period


def _golden(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text(encoding="utf-8").splitlines()))


def test_effectif_ent_equals_golden(reference_dir: Path) -> None:
    res = EFFECTIF_ENT.parse(reference_dir / "effectif" / "effectifEntTestData.csv", duckdb.connect())
    rows = _golden(reference_dir / "golden" / "test-import.effectif_ent.golden.txt")
    body = [r for r in rows[2:] if r]  # first line: "==== effectif_ent.csv ====", then the header
    got = [[r["siren"], r["periode"].isoformat(), str(r["effectif_ent"])] for r in res.rows.to_pylist()]
    assert sorted(got) == sorted(body)
    assert res.read == 1


def test_effectif_equals_golden(reference_dir: Path) -> None:
    res = EFFECTIF.parse(reference_dir / "effectif" / "effectifTestData.csv", duckdb.connect())
    rows = _golden(reference_dir / "golden" / "test-import.effectif.golden.txt")
    body = [r for r in rows[2:] if r]
    got = [[r["siret"], r["numero_compte"], r["periode"].isoformat(), str(r["effectif"])]
           for r in res.rows.to_pylist()]
    assert sorted(got) == sorted(body)
    assert res.read == 3 and res.rejections.num_rows == 0


def test_urssaf_period_rules() -> None:
    import datetime as dt

    assert urssaf_period("201631") == (dt.date(2016, 7, 1), dt.date(2016, 8, 1))
    assert urssaf_period("1062") == (dt.date(2010, 1, 1), dt.date(2011, 1, 1))
    assert urssaf_period("201620") == (dt.date(2016, 4, 1), dt.date(2016, 7, 1))
    assert urssaf_period("9941") == (dt.date(1999, 10, 1), dt.date(1999, 11, 1))
    assert urssaf_period("199904") == (dt.date(1999, 1, 1), dt.date(1999, 2, 1))  # Go rolls months over
    assert urssaf_period("20x631") is None
