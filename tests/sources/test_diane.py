"""diane: DIANE export (legacy, UTF-16, one column per year)."""

from __future__ import annotations

import csv
import math
from datetime import date
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


def _diane_line(*values: str) -> str:
    return ";".join(f'"{v}"' for v in values) + "\r\n"


def test_defects_exact(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    """Every row and every rejection of a small export full of defects, in order (the columnar reader, issue 24).

    A year-less numeric column (one value for every year), a column for one year only (NULL for the other),
    padded SIREN, unreadable numbers and dates in several years (one field-level rejection per year, by year),
    empty and short SIREN, a short line, a quote left open, a NUL byte, a blank line, duplicates of a kept line
    and of a rejected one.
    """
    header = ["Marquée", "Nom de l'entreprise", "Numéro Siren", "Procédure collective", "Effectif consolidé",
              "Chiffre d'affaires net (H.T.) kEUR 2019", "Chiffre d'affaires net (H.T.) kEUR 2018",
              "Date de clôture 2019", "Date de clôture 2018", "Nombre de mois 2019"]
    alpha = _diane_line("1", "ALPHA", "999999991", "Non", "12", "1 234,5", "1000", "31/12/2019", "31/12/2018", "12")
    delta = _diane_line("4", "DELTA", "12345", "Non", "x", "1", "2", "", "", "")
    text = (_diane_line(*header) + alpha
            + _diane_line("2", "BETA", " 999999992 ", "Oui", "x", "-3,5", "abc", "30/02/2019", "31/12/2018", "12.0")
            + "\r\n"
            + _diane_line("3", "GAMMA", "", "Non", "x", "1", "2", "", "", "")
            + delta
            + _diane_line("5", "EPSILON", "999999995", "Oui")
            + _diane_line("6", "ZETA", "999999996", "Non", "1", "1", "2", "", "", "")[:-3] + "\r\n"
            + _diane_line("7", "ET\x00A", "999999997", "Non", "1", "1", "2", "", "", "")
            + alpha + delta)
    path = tmp_path / "Diane_defects.txt"
    path.write_bytes(text.encode("utf-16"))
    result = h.parsed(DIANE, path, con)
    assert result.fatal is None and result.read == 11  # 4 (siren, year) rows + 7 rejected lines
    names = ["_line", "exercice_diane", "siren", "nom_entreprise", "procedure_collective", "effectif_consolide",
             "ca", "arrete_bilan_diane", "nombre_mois", "siren_luhn_ok"]
    assert [tuple(r.values()) for r in result.rows.select(names).to_pylist()] == [
        (2, 2018, "999999991", "ALPHA", False, 12, 1000.0, date(2018, 12, 31), None, False),
        (2, 2019, "999999991", "ALPHA", False, 12, None, date(2019, 12, 31), 12, False),
        (3, 2018, "999999992", "BETA", True, None, None, date(2018, 12, 31), None, False),
        (3, 2019, "999999992", "BETA", True, None, -3.5, None, 12, False),
    ]
    ca, nan, eff = "Chiffre d'affaires net (H.T.) kEUR", "Nom de l'entreprise", "Effectif consolidé"
    assert [tuple(r.values()) for r in result.rejections.to_pylist()] == [
        (2, ca, "2019: 1 234,5", f"{ca}: not a valid float", "field"),
        (3, ca, "2018: abc", f"{ca}: not a valid float", "field"),
        (3, "Date de clôture", "2019: 30/02/2019", "Date de clôture: not a valid date", "field"),
        (3, eff, "2018: x", f"{eff}: not a valid int", "field"),
        (3, eff, "2019: x", f"{eff}: not a valid int", "field"),
        (5, "Numéro Siren", None, "SIREN is empty", "row"),
        (6, "Numéro Siren", "12345", "SIREN must be 9 digits", "row"),
        (7, None, '"5";"EPSILON";"999999995";"Oui"', "wrong number of fields: 4, expected 10", "row"),
        (8, "Nombre de mois 2019", '"6";"ZETA";"999999996";"Non";"1";"1";"2";"";"";"',
         "malformed line: unbalanced or stray double quote in field 10 (Nombre de mois 2019); a quoted field runs "
         'from line 8 to line 9; expected 10 fields on one line, a double quote only around a whole field ("...", '
         'a quote inside written "")', "row"),
        (9, nan, '"7";"ET\\0A";"999999997";"Non";"1";"1";"2";"";"";""',
         f"binary content: the line holds a NUL byte in field 2 ({nan}) (shown as \\0), expected text", "row"),
        (10, None, None, "duplicate of line 2", "row"),
        (11, None, None, "duplicate of line 6", "row"),
    ]
    # a connection that does not keep the insertion order (as the ingest's) gives the same result
    other = duckdb.connect()
    other.execute("SET preserve_insertion_order = false")
    again = DIANE.parse(path, other)
    assert again.rows.equals(result.rows) and again.rejections.equals(result.rejections)


def test_plain_file_same_as_line_by_line(con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: Any) -> None:
    """A file whose lines are all plain (every field quoted, no quote inside) is read by Arrow's CSV reader: same
    rows and rejections as the line-by-line reading (bad numbers and dates, bad SIREN, duplicates, LF endings)."""
    import signaux_faibles.sources.diane as diane

    header = ["Marquée", "Nom de l'entreprise", "Numéro Siren", "Procédure collective", "Effectif consolidé 2019",
              "Effectif consolidé 2018", "Chiffre d'affaires net (H.T.) kEUR 2019", "Date de clôture 2018",
              "Dettes fiscales et sociales kEUR"]
    lines = [header,
             ["1", "A;B", "999999991", "Oui", "12", "x", "1,5", "31/12/2018", "7"],
             ["2", "", " 999999992 ", "", "", "3.0", "1 000", "29/02/2018", "abc"],
             ["3", "C", "12345", "Non", "1", "2", "3", "", ""],
             ["4", "D", "", "Non", "1", "2", "3", "", ""],
             ["1", "A;B", "999999991", "Oui", "12", "x", "1,5", "31/12/2018", "7"],
             ["5", "E", "999999995", "Oui", " 7 ", "-0", "+.5e1", "01/01/2018", "-,5"]]
    text = "\n".join(";".join(f'"{v}"' for v in line) for line in lines)
    path = tmp_path / "Diane_plain.txt"
    path.write_bytes(text.encode("utf-16"))
    plain = DIANE.parse(path, con)
    assert diane._read_plain(diane.utf16_text(path), path) is not None
    monkeypatch.setattr(diane, "_read_plain", lambda text, path: None)
    by_line = DIANE.parse(path, con)
    assert plain.fatal is None and plain.rows.num_rows == 6 and plain.read == 9
    assert plain.rows.equals(by_line.rows) and plain.rejections.equals(by_line.rejections)
    assert plain.read == by_line.read
