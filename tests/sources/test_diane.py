"""diane: DIANE export (legacy, UTF-16, one column per year)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import duckdb

from signaux_faibles.sources.diane import DIANE, DIANE_FIELDS

FIXTURE = Path(__file__).parent / "data" / "diane" / "Diane_export_test.txt"


def test_reference_matches_expected(reference: Path, con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    path = tmp_path / "Diane_test.txt"
    path.write_bytes((reference / "osf-legacy/diane/dianeTestData.txt").read_bytes())
    result = h.parsed(DIANE, path, con)
    assert result.fatal is None and result.rows.num_rows == 18 and result.rejections.num_rows == 0
    expected = h.tuples(reference / "osf-legacy/diane/expectedDiane.json")
    h.assert_expected(result.rows, expected, {"numero_siren": "siren", "frais_de_RetD": "frais_de_retd"})


def test_reference_matches_converted_csv(reference: Path, con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """Every value of the real awk/Go projection (expectedDianeConvert.csv) is found in our rows."""
    path = tmp_path / "Diane_test.txt"
    path.write_bytes((reference / "osf-legacy/diane/dianeTestData.txt").read_bytes())
    rows = DIANE.parse(path, con).rows.to_pylist()
    with (reference / "osf-legacy/diane/expectedDianeConvert.csv").open(encoding="utf-8") as f:
        converted = list(csv.DictReader(f))
    assert len(converted) == len(rows)
    label = {lbl: name for name, lbl, _ in DIANE_FIELDS}
    for row, conv in zip(rows, converted, strict=True):
        assert row["exercice_diane"] == int(conv["Annee"]) and row["siren"] == conv["Numéro Siren"]
        for lbl, raw in conv.items():
            name = label.get(lbl)
            kind = next((k for n, _, k in DIANE_FIELDS if n == name), None)
            if kind == "float":
                value = row[name]
                assert (value is None) == (raw == ""), (lbl, raw, value)
                if raw:
                    assert math.isclose(value, float(raw.replace(",", "."))), (lbl, raw, value)


def test_corrupted_fixture(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(DIANE, FIXTURE, con)
    rows = result.rows.to_pylist()
    assert [(r["_line"], r["exercice_diane"]) for r in rows] == [(2, 2017), (2, 2018), (4, 2017), (4, 2018)]
    assert rows[1]["ca"] == 1234.5 and rows[1]["concours_bancaire_courant"] == 3.5
    assert rows[1]["procedure_collective"] is False and rows[3]["procedure_collective"] is True
    assert rows[3]["effectif_consolide"] is None and rows[3]["arrete_bilan_diane"] is None
    assert h.rejected(result) == {3: ["SIREN must be 9 digits"], 5: ["wrong number of fields: 4, expected 13"],
                                  6: ["duplicate of line 2"]}
    fields = {(r["line"], r["raw_value"]) for r in result.rejections.to_pylist() if r["level"] == "field"}
    assert fields == {(4, "2018: x"), (4, "2018: 30/02/2018")}
    assert result.read == 7  # 4 (siren, year) rows + 3 rejected lines


def test_whole_file_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_fatal_cases(DIANE, con, tmp_path, "Diane_x.txt", FIXTURE.read_bytes())
    utf8 = tmp_path / "diane_utf8.csv"
    utf8.write_bytes(FIXTURE.read_bytes().decode("utf-16").encode("utf-8"))
    assert "UTF-16" in (DIANE.parse(utf8, con).fatal or "")


def test_gzip(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_gzip_same(DIANE, con, tmp_path, FIXTURE)
