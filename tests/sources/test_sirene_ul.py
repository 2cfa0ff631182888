"""sirene_ul: INSEE SIRENE unités légales."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from signaux_faibles.sources.sirene_ul import SIRENE_UL

FIXTURE = Path(__file__).parent / "data" / "sirene_ul" / "sireneUL.csv"
NAMES = {"ape": "activite_principale", "ape_naf25": "activite_principale_naf25", "date_creation": "creation"}


def test_reference_matches_expected_and_golden(reference: Path, con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(SIRENE_UL, reference / "osf/sirene/sireneULTestData.csv", con)
    assert result.read == 4 and result.rows.num_rows == 3
    assert h.rejected(result) == {4: ["filtered: activity nomenclature is not NAFRev2"]}
    expected = h.tuples(reference / "osf/sirene/expectedSireneUL.json")
    h.assert_expected(result.rows, expected, NAMES)
    h.assert_golden(result.rows, reference / "osf/golden/test-import.sql.stg_sirene_ul.golden.txt")


def test_datapi_sample(reference: Path, con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    import zipfile

    with zipfile.ZipFile(reference / "datapi/imports/test_StockUniteLegale_utf8.zip") as z:
        path = tmp_path / "sireneUL.csv"
        path.write_bytes(z.read(z.namelist()[0]))
    result = h.parsed(SIRENE_UL, path, con)
    expected = json.loads((reference / "datapi/imports/test_expectedSireneUL.json").read_text(encoding="utf-8"))
    kept = [e for e in expected if e["NomenclatureActivitePrincipaleUniteLegale"] in ("", "NAFRev2")]
    assert result.rows.column("siren").to_pylist() == [e["Siren"] for e in kept]
    for row, e in zip(result.rows.to_pylist(), kept, strict=True):
        assert row["raison_sociale"] == (e["DenominationUniteLegale"] or None)
        assert row["categorie_juridique"] == (e["CategorieJuridiqueUniteLegale"] or None)


def test_corrupted_fixture(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(SIRENE_UL, FIXTURE, con)
    rows = {r["_line"]: r for r in result.rows.to_pylist()}
    assert sorted(rows) == [2, 3, 6, 8]
    assert rows[2]["est_actif"] is True and rows[2]["activite_principale_naf25"] == "62.01Y"
    assert rows[3]["creation"] is None and rows[3]["est_actif"] is False
    assert rows[6]["activite_principale"] is None
    rej = h.rejected(result)
    assert sorted(rej) == [4, 5, 7]
    assert rej[4][0].startswith("filtered:") and rej[5] == ["SIREN must be 9 digits"]
    assert "stray double quote" in rej[7][0]
    fields = {(r["line"], r["column"]) for r in result.rejections.to_pylist() if r["level"] == "field"}
    assert fields == {(3, "dateCreationUniteLegale"), (6, "activitePrincipaleUniteLegale")}


def test_whole_file_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_fatal_cases(SIRENE_UL, con, tmp_path, "sireneUL.csv", FIXTURE.read_bytes())


def test_gzip(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_gzip_same(SIRENE_UL, con, tmp_path, FIXTURE)
