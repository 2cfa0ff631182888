"""ellisphere: Ellisphere company groups (legacy, xlsx read by position)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import openpyxl

from signaux_faibles.sources.ellisphere import ELLISPHERE

FIXTURE = Path(__file__).parent / "data" / "ellisphere" / "Ellisphère-Tête de groupe-test.xlsx"


def test_reference_matches_expected(reference: Path, con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    path = tmp_path / "Ellisphère-Tête de groupe-1910.xlsx"
    path.write_bytes((reference / "osf-legacy/ellisphere/ellisphereTestData.excel").read_bytes())
    result = h.parsed(ELLISPHERE, path, con)
    assert result.read == 6 and result.rejections.num_rows == 0
    expected = h.tuples(reference / "osf-legacy/ellisphere/expectedEllisphere.json")
    h.assert_expected(result.rows, expected)
    assert result.rows.column("siren").to_pylist()[0] == "151515151"  # the filiale's SIREN is the key


def test_corrupted_fixture(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(ELLISPHERE, FIXTURE, con)
    rows = result.rows.to_pylist()
    assert [r["_line"] for r in rows] == [2, 3]
    assert rows[0]["code_groupe"] == "1000001" and rows[0]["part_financiere"] == 75.5
    assert rows[1]["siren_groupe"] is None
    assert h.rejected(result) == {
        4: ["Niveau de détention (whole number) is not valid"],
        5: ["SIREN is empty"],
        6: ["duplicate of line 2"],
    }


def test_whole_file_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    name = "Ellisphère-Tête de groupe-x.xlsx"
    for data in (b"", b"not a zip at all", FIXTURE.read_bytes()[:300]):
        path = tmp_path / name
        path.write_bytes(data)
        result = ELLISPHERE.parse(path, con)
        assert result.fatal is not None and name in result.fatal
        h.check_contract(ELLISPHERE, result)
    wb = openpyxl.Workbook()
    wb.create_sheet("second")
    wb.save(tmp_path / name)
    assert "sheets" in (ELLISPHERE.parse(tmp_path / name, con).fatal or "")
    wb = openpyxl.Workbook()
    ws = wb.worksheets[0]
    ws.append(["a", "b", "c"])
    ws.append([1, 2, 3])
    wb.save(tmp_path / name)
    assert "FIL SIREN 9" in (ELLISPHERE.parse(tmp_path / name, con).fatal or "")
