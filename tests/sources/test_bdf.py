"""bdf: Banque de France ratios (legacy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from signaux_faibles.sources.bdf import BDF

FIXTURE = Path(__file__).parent / "data" / "bdf" / "bdf_ratios.csv"


def test_reference_matches_expected(reference: Path, con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(BDF, reference / "osf-legacy/bdf/bdfTestData.csv", con)
    assert result.read == 3 and result.rejections.num_rows == 0
    expected = h.tuples(reference / "osf-legacy/bdf/expectedBdfOutput.json")
    h.assert_expected(result.rows, expected)


def test_corrupted_fixture(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(BDF, FIXTURE, con)
    rows = result.rows.to_pylist()
    assert [r["_line"] for r in rows] == [2, 3]
    assert rows[0]["siren"] == "666666661" and rows[0]["arrete_bilan_bdf"].isoformat() == "2015-12-31"
    assert rows[0]["poids_frng"] == 12.5 and rows[0]["taux_marge"] == -3.1
    assert rows[1]["arrete_bilan_bdf"].isoformat() == "2017-06-30"
    rej = h.rejected(result)
    assert sorted(rej) == [4, 5, 6, 7, 8, 9]
    assert rej[4] == ["SIREN must be 9 digits"]
    assert "ARRETE_BILAN" in rej[5][0] and "ARRETE_BILAN" in rej[9][0]  # unknown month; 30 February
    assert "ANNEE" in rej[6][0] and "TX_MARGE" in rej[7][0] and "wrong number of fields" in rej[8][0]


def test_whole_file_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_fatal_cases(BDF, con, tmp_path, "bdf_ratios.csv", FIXTURE.read_bytes())


def test_gzip_and_patterns(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_gzip_same(BDF, con, tmp_path, FIXTURE)
    for name in ("bdf_2019.csv", "BDF.csv", "ratios_bdf_1910.csv.gz"):
        assert any(p.search(name) for p in BDF.patterns)
