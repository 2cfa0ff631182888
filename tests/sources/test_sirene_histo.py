"""sirene_histo: INSEE SIRENE history of establishments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from signaux_faibles.sources.sirene_histo import SIRENE_HISTO

FIXTURE = Path(__file__).parent / "data" / "sirene_histo" / "StockEtablissementHistorique_utf8.csv"


def test_reference_matches_expected_and_golden(reference: Path, con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(SIRENE_HISTO, reference / "osf/sirene/sireneHistoTestData.csv", con)
    assert result.read == 4 and result.rejections.num_rows == 0
    expected = h.tuples(reference / "osf/sirene/expectedSireneHisto.json")
    h.assert_expected(result.rows, expected)
    h.assert_golden(result.rows, reference / "osf/golden/test-import.sql.stg_sirene_histo.golden.txt")


def test_corrupted_fixture(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(SIRENE_HISTO, FIXTURE, con)
    assert result.rows.column("_line").to_pylist() == [2, 3]
    assert h.rejected(result) == {
        4: ["filtered: both dateDebut and dateFin are missing"],
        5: ["dateDebut is not a valid YYYY-MM-DD date"],
        6: ["etatAdministratifEtablissement must be A or F"],
        7: ["changementEtatAdministratifEtablissement is not a boolean"],
        8: ["SIRET must be 14 digits"],
        9: ["duplicate of line 2"],
    }


def test_whole_file_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_fatal_cases(SIRENE_HISTO, con, tmp_path, "StockEtablissementHistorique_utf8.csv", FIXTURE.read_bytes())


def test_gzip(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_gzip_same(SIRENE_HISTO, con, tmp_path, FIXTURE)
