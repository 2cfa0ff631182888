"""paydex: Altares paydex retro file (legacy, ISO-8859-15, flux)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from signaux_faibles.sources.paydex import PAYDEX

FIXTURE = Path(__file__).parent / "data" / "paydex" / "E_201901010000_Retro-Paydex_20190101.csv"


def test_reference_matches_expected(reference: Path, con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    path = tmp_path / "E_000000000000_Retro-Paydex_20190101.csv"
    path.write_bytes((reference / "osf-legacy/paydex/paydexTestData.csv").read_bytes())
    result = h.parsed(PAYDEX, path, con)
    assert result.read == 6
    assert h.rejected(result) == {4: ["DATE_VALEUR (dd/mm/yyyy) is not valid"]}  # 01/15/2019
    expected = h.tuples(reference / "osf-legacy/paydex/expectedPaydex.json")
    h.assert_expected(result.rows, expected)


def test_corrupted_fixture(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(PAYDEX, FIXTURE, con)
    rows = result.rows.to_pylist()
    assert [r["_line"] for r in rows] == [2, 7]
    assert rows[0]["nb_jours_lib"] == "12 jours (€ payé)"  # ISO-8859-15
    assert rows[1]["nb_jours"] == -2
    rej = h.rejected(result)
    assert sorted(rej) == [3, 4, 5, 6, 8]
    assert rej[8] == ["duplicate of line 2"]


def test_whole_file_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_fatal_cases(PAYDEX, con, tmp_path, FIXTURE.name, FIXTURE.read_bytes())


def test_gzip_and_kind(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_gzip_same(PAYDEX, con, tmp_path, FIXTURE)
    assert PAYDEX.kind == "flux" and PAYDEX.key == "siren"
