"""apdemande: DGEFP demandes d'activité partielle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from signaux_faibles.sources.apdemande import APDEMANDE

FIXTURE = Path(__file__).parent / "data" / "apdemande" / "demande_ap.csv"
NAMES = {
    "effectif": "effectif_etablissement",
    "effectif_autorise": "effectif",
    "hta": "heures",
    "mta": "montant",
    "motif_recours_se": "motif_recours",
}


def test_reference_matches_expected_and_golden(reference: Path, con: duckdb.DuckDBPyConnection, h: Any) -> None:
    ap = reference / "osf/activite_partielle"
    expected = h.tuples(ap / "expectedApdemande.json")
    for name in ("apdemandeTestData.csv", "apdemandeParserTestData.csv"):
        result = h.parsed(APDEMANDE, ap / name, con)
        assert result.fatal is None and result.read == 3 and result.rejections.num_rows == 0
        h.assert_expected(result.rows, expected, NAMES)
        h.assert_golden(result.rows, reference / "osf/golden/test-import.sql.stg_apdemande.golden.txt")
    # blank lines between records: physical lines are kept
    assert APDEMANDE.parse(ap / "apdemandeTestData.csv", con).rows.column("_line").to_pylist() == [3, 5, 7]


def test_corrupted_fixture(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(APDEMANDE, FIXTURE, con)
    assert result.rows.column("_line").to_pylist() == [2, 3, 8, 9]
    assert result.rows.column("montant").to_pylist()[0] == 8150.5  # decimal comma
    assert result.rows.column("montant_consomme").to_pylist()[0] == 4075.25
    assert result.rows.column("motif_recours").to_pylist() == [1, None, None, 7]
    assert h.rejected(result) == {
        4: ["SIRET is empty"],
        5: ["DATE_STATUT (YYYY-MM-DD) is not valid"],
        6: ["SIRET must be 14 digits"],
        10: ["duplicate of line 3"],
    }
    fields = [(r["line"], r["column"], r["raw_value"]) for r in result.rejections.to_pylist() if r["level"] == "field"]
    assert fields == [(3, "MOTIF_RECOURS_SE", "9"), (8, "MOTIF_RECOURS_SE", "x")]
    assert result.read == 8


def test_whole_file_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_fatal_cases(APDEMANDE, con, tmp_path, "demande_ap.csv", FIXTURE.read_bytes())


def test_gzip(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_gzip_same(APDEMANDE, con, tmp_path, FIXTURE)
