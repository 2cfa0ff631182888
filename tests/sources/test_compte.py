"""compte: URSSAF account → SIRET mapping (legacy admin_urssaf)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb

from signaux_faibles.sources.compte import COMPTE, NEVER_CLOSED, comptes_at, siret_for

FIXTURE = Path(__file__).parent / "data" / "admin_urssaf" / "Sigfaible_etablissement_utf8.csv"


def test_reference_matches_expected(reference: Path, con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(COMPTE, reference / "osf-legacy/urssaf_comptes/comptesTestData.csv", con)
    assert result.read == 3 and result.rows.num_rows == 3
    assert result.rows.column("date_creation_siret").to_pylist()[0] == dt.date(2013, 8, 28)
    assert result.rows.column("date_disparition_siret").to_pylist() == [NEVER_CLOSED, NEVER_CLOSED, dt.date(2011, 8, 1)]
    expected = h.tuples(reference / "osf-legacy/urssaf_comptes/expectedComptes.json")
    periode = dt.date(2018, 12, 1)
    h.assert_expected(comptes_at(result.rows, periode), expected)
    assert siret_for(result.rows, "450359886246036238", periode) is None  # closed in 2011: "filter error"


def test_corrupted_fixture_and_siret_for(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(COMPTE, FIXTURE, con)
    assert result.rows.column("_line").to_pylist() == [2, 3, 7]
    assert result.rows.column("date_creation_siret").to_pylist()[2] == dt.date(1999, 6, 12)
    rej = h.rejected(result)
    assert rej == {
        4: ["SIRET must be 14 digits"],
        5: ["Date_disp_siret is not a valid (A)AAMMJJ date"],
        6: ["Compte (account number) is empty"],
    }
    account = "210000000000000001"
    assert siret_for(result.rows, account, dt.date(2015, 6, 1)) == "88888888100011"
    assert siret_for(result.rows, account, dt.date(2015, 7, 1)) == "88888888100029"  # first closed after
    assert siret_for(result.rows, "unknown", dt.date(2015, 7, 1)) is None


def test_whole_file_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_fatal_cases(COMPTE, con, tmp_path, FIXTURE.name, FIXTURE.read_bytes())


def test_gzip(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_gzip_same(COMPTE, con, tmp_path, FIXTURE)
