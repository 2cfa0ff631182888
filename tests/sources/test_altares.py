"""altares_stock, altares_increment, altares_datapi: Altares paydex and FPI (stock, monthly increment, datapi zip)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import duckdb

from signaux_faibles.sources.altares import ALTARES_DATAPI, ALTARES_INCREMENT, ALTARES_STOCK
from signaux_faibles.sources.registry import source_for

DATA = Path(__file__).parent / "data"
STOCK = DATA / "altares_stock" / "SF_DATA_20230706.txt"
INCREMENT = DATA / "altares_increment" / "S_202011095834-3_202311010315.csv"
DATAPI = DATA / "altares_datapi" / "altares_paydex_202301.zip"


def test_file_names() -> None:
    assert source_for("SF_DATA_20230706.txt") is ALTARES_STOCK
    assert source_for("SF_DATA_20230706.csv.gz") is ALTARES_STOCK
    assert source_for("S_202011095834-3_202311010315.csv") is ALTARES_INCREMENT
    assert source_for("test_paydex.zip") is ALTARES_DATAPI
    assert source_for("E_201901010000_Retro-Paydex_20190101.csv").name == "paydex"  # type: ignore[union-attr]
    assert (
        ALTARES_STOCK.kind == "stock" and ALTARES_INCREMENT.kind == "flux" and ALTARES_DATAPI.kind == "stock"
    )


def test_stock(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(ALTARES_STOCK, STOCK, con)
    rows = result.rows.to_pylist()
    assert [r["_line"] for r in rows] == [2, 3, 4, 7]
    first = rows[0]
    assert (first["siren"], first["nbr_jrs_retard"], first["fpi_30"], first["fpi_90"]) == (
        "552100554",
        3,
        11.0,
        4.0,
    )
    assert first["date_valeur"].isoformat() == "2023-01-15"
    assert rows[1]["fpi_30"] is None and rows[1]["fpi_90"] is None  # absent: NULL
    assert rows[2]["etat_organisation"] == "Fermé" and rows[2]["date_valeur"].isoformat() == "2022-11-15"
    assert rows[3]["nbr_jrs_retard"] is None and rows[3]["fpi_30"] is None and rows[3]["fpi_90"] == 4.0
    assert h.rejected(result) == {
        5: ["SIREN must be 9 digits"],
        6: ["DATE_VALEUR (dd/mm/yyyy) is not valid"],
        8: ["wrong number of fields: 6, expected 11"],
    }
    assert sorted(h.rejected(result, "field")[7]) == [
        "NBR_JRS_RETARD (whole number of days) is not valid",
        "NOTE100_ALERTEUR_PLUS_30 (number) is not valid",
    ]


def test_stock_whole_file_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_fatal_cases(ALTARES_STOCK, con, tmp_path, STOCK.name, STOCK.read_bytes())
    h.assert_gzip_same(ALTARES_STOCK, con, tmp_path, STOCK)


def test_increment_trailer_is_not_a_record(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(ALTARES_INCREMENT, INCREMENT, con)
    assert result.read == 6  # the trailer is not counted
    rows = result.rows.to_pylist()
    assert [r["_line"] for r in rows] == [2, 3, 4]
    assert rows[0]["encours_etudies"] == 1045.5 and rows[0]["libelle_mouvement"] == "Mise à jour du paydex"
    assert rows[0]["date_valeur"].isoformat() == "2023-10-15" and rows[0]["fpi_90"] == 4.0
    assert rows[2]["fpi_30"] is None and rows[2]["nbr_jrs_retard"] == 45
    rej = h.rejected(result)
    assert sorted(rej) == [5, 6, 7]
    assert rej[7] == ["wrong number of fields: 3, expected 32"]


def test_increment_truncated_is_refused(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    lines = INCREMENT.read_bytes().split(b"\r\n")
    no_trailer = tmp_path / "a" / INCREMENT.name
    no_trailer.parent.mkdir()
    no_trailer.write_bytes(b"\r\n".join(lines[:-3]) + b"\r\n")
    result = h.parsed(ALTARES_INCREMENT, no_trailer, con)
    assert result.fatal is not None and "Fin du fichier" in result.fatal
    wrong_count = tmp_path / "b" / INCREMENT.name
    wrong_count.parent.mkdir()
    wrong_count.write_bytes(b"\r\n".join([*lines[:3], *lines[-2:]]))
    result = h.parsed(ALTARES_INCREMENT, wrong_count, con)
    assert result.fatal is not None and "announces 6 line(s), the file holds 2" in result.fatal
    h.assert_fatal_cases(ALTARES_INCREMENT, con, tmp_path, INCREMENT.name, INCREMENT.read_bytes())
    h.assert_gzip_same(ALTARES_INCREMENT, con, tmp_path, INCREMENT)


def test_datapi_reference_zip(
    reference: Path, con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any
) -> None:
    path = tmp_path / "test_paydex.zip"
    shutil.copyfile(reference / "datapi/imports/test_paydex.zip", path)
    result = h.parsed(ALTARES_DATAPI, path, con)
    assert result.read == 4 and result.rejections.num_rows == 0
    got = [(r["siren"], r["date_valeur"].isoformat(), r["nbr_jrs_retard"], r["fpi_30"], r["fpi_90"])
           for r in result.rows.to_pylist()]  # fmt: skip
    assert got == [
        ("000000000", "2023-01-15", 3, None, None),
        ("000000000", "2022-12-15", 3, None, None),
        ("111111111", "2022-11-15", 3, 11.0, 11.0),
        ("111111111", "2022-10-15", 3, 11.0, 11.0),
    ]


def test_datapi_fixture_and_bad_zips(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    result = h.parsed(ALTARES_DATAPI, DATAPI, con)
    assert result.rows.num_rows == 2 and h.rejected(result) == {4: ["date_valeur (YYYY-MM-DD) is not valid"]}
    not_zip = tmp_path / "altares.zip"
    not_zip.write_bytes(b"siren,date\n")
    assert "not a readable zip" in str(h.parsed(ALTARES_DATAPI, not_zip, con).fatal)
    two = tmp_path / "paydex_two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.csv", "siren\n")
        z.writestr("b.csv", "siren\n")
    assert "expected exactly one CSV" in str(h.parsed(ALTARES_DATAPI, two, con).fatal)
