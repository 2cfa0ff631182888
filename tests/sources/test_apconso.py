"""apconso: DGEFP consommations d'activité partielle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from signaux_faibles.sources.apconso import APCONSO

FIXTURE = Path(__file__).parent / "data" / "apconso" / "consommation_ap.csv"


def test_reference_matches_golden_staging(reference: Path, con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(APCONSO, reference / "osf/activite_partielle/apconsoTestData.csv", con)
    assert result.fatal is None and result.read == 3 and result.rejections.num_rows == 0
    h.assert_golden(result.rows, reference / "osf/golden/test-import.sql.stg_apconso.golden.txt")


def test_corrupted_fixture(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(APCONSO, FIXTURE, con)
    assert result.rows.column("_line").to_pylist() == [2, 13, 15, 17]
    assert result.rows.column("heures").to_pylist() == [10.5, 1.0, 5.0, 1.0]
    rows = h.rejected(result)
    assert sorted(rows) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16]
    assert rows[3] == ["SIRET must be 14 digits"] and rows[4] == ["SIRET must be 14 digits"]
    assert rows[7] == ["SIRET is empty"]
    assert rows[5] == rows[6] == ["MOIS (YYYY-MM-DD) is not valid"]
    assert rows[8] == ["duplicate of line 2"]
    assert "UTF-8" in rows[9][0]
    # a quote running over a line break: that line is rejected, the next one read on its own (issue 18)
    assert "stray double quote" in rows[11][0] and "line 11 to line 12" in rows[11][0]
    assert "wrong number of fields" in rows[12][0]
    assert "stray double quote" in rows[16][0]
    assert result.read == 16  # physical records: every data line is accepted or rejected


def test_luhn_is_flagged_not_rejected(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = APCONSO.parse(FIXTURE, con)
    assert result.rows.column("siret_luhn_ok").to_pylist() == [False, False, False, False]


def test_whole_file_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_fatal_cases(APCONSO, con, tmp_path, "consommation_ap.csv", FIXTURE.read_bytes())
    utf16 = tmp_path / "consommation_ap.csv"
    utf16.write_bytes(FIXTURE.read_text(encoding="latin-1").encode("utf-16"))
    assert "UTF-16" in (APCONSO.parse(utf16, con).fatal or "")


def test_gzip(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_gzip_same(APCONSO, con, tmp_path, FIXTURE)


def test_patterns() -> None:
    assert any(p.search("consommation_ap.csv") for p in APCONSO.patterns)
    assert not any(p.search("demande_ap.csv") for p in APCONSO.patterns)
