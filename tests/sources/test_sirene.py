"""sirene: INSEE geo-SIRENE établissements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from signaux_faibles.sources.sirene import SIRENE

FIXTURE = Path(__file__).parent / "data" / "sirene" / "StockEtablissement_utf8_geo.csv"


def test_reference_matches_expected_and_golden(reference: Path, con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(SIRENE, reference / "osf/sirene/sireneTestData.csv", con)
    assert result.read == 5 and result.rows.num_rows == 4
    assert h.rejected(result) == {5: ["filtered: activity nomenclature is not NAFRev2"]}
    expected = h.tuples(reference / "osf/sirene/expectedSirene.json")
    # the real system emits the (partly rejected) line 6 as well: same order once sorted by SIREN
    rows = result.rows.sort_by("siren")
    h.assert_expected(rows, sorted(expected, key=lambda t: t["siren"]))
    h.assert_golden(result.rows, reference / "osf/golden/test-import.sql.stg_sirene.golden.txt")
    fields = {(r["line"], r["column"], r["raw_value"]) for r in result.rejections.to_pylist() if r["level"] == "field"}
    assert fields == {(6, "longitude", "NOT_VALID"), (6, "latitude", "NOT_VALID")}


def test_datapi_sample(reference: Path, con: duckdb.DuckDBPyConnection, h: Any) -> None:
    """The datapi sample keeps every row; ours keeps the NAFRev2 (or unclassified) ones, with the same values."""
    imports = reference / "datapi/imports"
    result = h.parsed(SIRENE, imports / "test_StockEtablissement_utf8_geo.csv.gz", con)
    expected = json.loads((imports / "test_expectedGeoSirene.json").read_text(encoding="utf-8"))
    kept = [e for e in expected if e["NomenclatureActivitePrincipaleEtablissement"] in ("", "NAFRev2")]
    assert result.rows.column("siret").to_pylist() == [e["Siret"] for e in kept]
    for row, e in zip(result.rows.to_pylist(), kept, strict=True):
        assert row["code_commune"] == (e["CodeCommuneEtablissement"] or None)
        assert row["est_actif"] == (e["EtatAdministratifEtablissement"] == "A")
        assert row["siege"] == e["EtablissementSiege"]


def test_corrupted_fixture(con: duckdb.DuckDBPyConnection, h: Any) -> None:
    result = h.parsed(SIRENE, FIXTURE, con)
    rows = {r["_line"]: r for r in result.rows.to_pylist()}
    assert sorted(rows) == [2, 3, 6]
    assert rows[2]["departement"] == "2A" and rows[2]["type_voie"] == "AVENUE" and rows[2]["indrep"] == "BIS"
    assert rows[3]["departement"] == "971" and rows[3]["est_actif"] is False
    assert rows[6]["ape"] is None and rows[6]["code_activite"] == "4711D"
    assert rows[6]["nomenclature_activite"] == "NAFRev2"
    assert rows[6]["date_creation"] is None and rows[6]["siege"] is None and rows[6]["longitude"] == 0.0
    assert rows[6]["siret"] == "33333333700015"
    rej = h.rejected(result)
    assert sorted(rej) == [4, 5, 7, 8, 9]
    assert rej[4][0].startswith("filtered:")
    assert rej[5] == ["SIREN must be 9 digits"]
    assert "UTF-8" in rej[7][0] and "wrong number of fields" in rej[8][0]
    assert rej[9] == ["duplicate of line 2"]
    assert {r["column"] for r in result.rejections.to_pylist() if r["level"] == "field"} == {
        "longitude", "dateCreationEtablissement", "etablissementSiege", "activitePrincipaleEtablissement"
    }


def test_whole_file_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_fatal_cases(SIRENE, con, tmp_path, "StockEtablissement_utf8_geo.csv", FIXTURE.read_bytes())


def test_gzip(con: duckdb.DuckDBPyConnection, tmp_path: Path, h: Any) -> None:
    h.assert_gzip_same(SIRENE, con, tmp_path, FIXTURE)


def test_not_filtered_by_perimeter() -> None:
    assert SIRENE.key is None and SIRENE.kind == "stock"
