"""The twin's defects land in quarantine with a fitting reason, and clean rows never do (synthetic fixtures)."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

from signaux_faibles.sources.effectif import EFFECTIF, EFFECTIF_ENT
from signaux_faibles.sources.urssaf import CCSF, COTISATION, DEBIT, DELAI, PROCOL

DEBIT_HEADER = ("Urssaf_gestion;Dep;num_cpte;Siren;Siret;Dt_immat;Etat_cpte;Cd_pro_col;Periode;Num_Ecn;"
                "Num_Hist_Ecn;Dt_trt_ecn;Mt_PO;Mt_PP;Cd_op_ecn;Motif_ecn;Recours_en_cours")


def debit_line(siret: str = "12345678900011", dt_trt: str = "1190315", periode: str = "201911", po: str = "12345",
               num_ecn: str = "1") -> str:
    return f"117;21;123456789012345678;{siret[:9]};{siret};20050501;1;0;{periode};{num_ecn};1;{dt_trt};{po};0;1;0;0"


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def reasons(res) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return {r["line"]: r["reason"] for r in res.rejections.to_pylist()}


def test_debit_defects(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    lines = [
        DEBIT_HEADER,
        debit_line(),                                   # 2 ok
        debit_line(siret="1234567890001"),              # 3 13 digits
        debit_line(siret="1234567890001A"),             # 4 letters
        debit_line(dt_trt="1190231"),                   # 5 31 February
        "117;21;123;456",                               # 6 wrong field count
        debit_line(num_ecn='"broken'),                  # 7 quoted field broken across two lines…
        'rest";1',                                      # 8 …second half
        debit_line(num_ecn="2"),                        # 9 ok
        debit_line(num_ecn="2"),                        # 10 exact duplicate of 9
        debit_line(po="12a"),                           # 11 bad amount
        debit_line(periode="2019"),                     # 12 YYQM accepted: 2020 Q1 M9 → rolls over
        debit_line(num_ecn="3", dt_trt="1191221"),      # 13 day 21 → next month
    ]
    res = DEBIT.parse(write(tmp_path / "sigfaible_debits.csv", lines), con)
    r = reasons(res)
    assert set(r) == {3, 4, 5, 6, 7, 8, 10, 11}
    assert r[3].startswith("siret") and r[4].startswith("siret")
    assert "impossible date" in r[5]
    assert "wrong number of fields" in r[6]
    assert "quote" in r[7] or "fields" in r[7]
    assert r[10].startswith("duplicate")
    assert r[11].startswith("mt_po")
    assert res.rows.column("_line").to_pylist() == [2, 9, 12, 13]
    assert res.read == 12 == res.rows.num_rows + res.rejected_rows
    row13 = res.rows.to_pylist()[-1]
    assert str(row13["periode_prise_en_compte"]) == "2020-01-01"
    assert row13["part_ouvriere"] == pytest.approx(123.45)


def test_latin1_row_in_utf8_file(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    header = ("Urssaf_gestion;Dep;Siret;Numero_compte_externe;Numero_structure;Date_creation;Date_echeance;"
              "Duree_delai;Denomination_premiere_ligne;Indic_6M;Annee_creation;Montant_global_echeancier;"
              "Code_externe_stade;Code_externe_action")
    ok = "117;21;12345678900011;1;2;01/02/2019;01/03/2020;{d};Société {n};INF;2019;1234,5;APPROB;DEL"
    body = (header + "\n" + ok.format(d=30, n="A") + "\n").encode() + ok.format(d=30, n="B").encode("latin-1")
    body += ("\n" + ok.format(d="x", n="C") + "\n" + ok.replace("01/02/2019", "31/02/2019").format(d=1, n="D")
             + "\n").encode()
    path = tmp_path / "sigfaible_delais.csv"
    path.write_bytes(body)
    res = DELAI.parse(path, con)
    r = {(x["line"], x["level"]): x for x in res.rejections.to_pylist()}
    assert r[(3, "row")]["reason"].startswith("encoding")
    assert "Société B" in r[(3, "row")]["raw_value"]
    assert r[(4, "field")]["column"] == "duree_delai"          # kept, value dropped
    assert "impossible date" in r[(5, "row")]["reason"]
    rows = res.rows.to_pylist()
    assert [x["_line"] for x in rows] == [2, 4]
    assert rows[0]["denomination"] == "Société A" and rows[0]["montant_echeancier"] == 1234.5
    assert rows[1]["duree_delai"] is None
    assert res.read == 4 and res.rejected_rows == 2


def test_unknown_codes(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    ccsf = write(tmp_path / "sigfaible_ccsf.csv", [
        "Urssaf_gestion;Dep;Siret;Compte;Date_de_traitement;Code_externe_stade;Code_externe_action",
        "1;2;12345678900011;9;1190420;REFUS;CCSF",
        "1;2;12345678900011;9;1190420;PAUSE;CCSF",
    ])
    res = CCSF.parse(ccsf, con)
    assert reasons(res) == {3: reasons(res)[3]} and "unknown code" in reasons(res)[3]
    procol = write(tmp_path / "sigfaible_pcoll.csv", [
        "Siret;Siren;Dt_effet;Cat_v2;Lib_actx_stdx",
        "12345678900011;123456789;26MAY2014;1;Ouverture_liquidation",
        "12345678900011;123456789;26MAY2014;1;Plan_continuation_redressement",
        "12345678900011;123456789;26may2014;1;Inclusion_autre_procedure_redressement",
        "12345678900011;123456789;27MAY2014;1;Ouverture_faillite",
    ])
    res = PROCOL.parse(procol, con)
    assert list(reasons(res)) == [5]
    got = [(r["action_procol"], r["stade_procol"]) for r in res.rows.to_pylist()]
    assert got == [("liquidation", "ouverture"), ("redressement", "plan_continuation"),
                   ("redressement", "inclusion_autre_procedure")]


def test_cotisation_decimal_comma_and_gzip(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    text = ("Urssaf_gestion;Dep;Siret;Compte;periode;mer;enc_direct;cotis_due\n"
            "1;2;12345678900011;9;1962;5;1234,56;-7,5\n1;2;12345678900011;9;1940;5;1;2\n")
    path = tmp_path / "sigfaible_cotisdues.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    res = COTISATION.parse(path, con)
    rows = res.rows.to_pylist()
    assert [(str(r["periode_debut"]), str(r["periode_fin"]), r["encaisse"], r["du"]) for r in rows] == [
        ("2019-01-01", "2020-01-01", 1234.56, -7.5), ("2019-10-01", "2020-01-01", 1.0, 2.0)]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"\x1f\x8b\x08\x00\x00\x00", "gzip"),
        (b"\xff\xfeS\x00i\x00", "UTF-16"),
        (b"\x00\x01\x02binary", "binary"),
        (b"Siret;Compte\n1;2\n", "missing column"),
        (b"Siret,Compte,periode\n1,2,3\n", "single field"),
    ],
)
def test_whole_file_errors(tmp_path: Path, con: duckdb.DuckDBPyConnection, content: bytes, expected: str) -> None:
    path = tmp_path / "sigfaible_cotisdues.csv"
    path.write_bytes(content)
    res = COTISATION.parse(path, con)
    assert res.fatal is not None and expected in res.fatal and "sigfaible_cotisdues.csv" in res.fatal
    assert res.read == 0 and res.rows.num_rows == 0


def test_truncated_gzip_is_fatal(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    lines = [DEBIT_HEADER] + [debit_line(num_ecn=str(i)) for i in range(20000)]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "sigfaible_ccsf.csv.gz"
    path = tmp_path / "sigfaible_debits.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    res = DEBIT.parse(path, con)
    assert res.fatal is not None and "gzip" in res.fatal


def test_effectif_cleanup(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "sigfaible_effectif_siret.csv", [
        "compte;siret;rais_soc;ape_ins;dep;eff201911;eff201912;eff201913;base;UR_EMET",
        "1;12345678900011;A;1234Z;21;1 234;;abc;x;y",
        "1;1234567890001;B;1234Z;21;5;6;7;x;y",
        "1;12345678900029;C;1234Z;21;-3;0;12;x;y",
    ])
    res = EFFECTIF.parse(path, con)
    got = [(r["siret"], str(r["periode"]), r["effectif"]) for r in res.rows.to_pylist()]
    assert got == [("12345678900011", "2019-01-01", 1234), ("12345678900029", "2019-02-01", 0),
                   ("12345678900029", "2019-03-01", 12)]
    levels = {(r["line"], r["level"]) for r in res.rejections.to_pylist()}
    assert levels == {(2, "field"), (3, "row"), (4, "field")}
    assert res.read == 3 and res.rejected_rows == 1
    ent = write(tmp_path / "sigfaible_effectif_siren.csv", ["siren;eff201911;rais_soc", "123456789;15;A"])
    assert EFFECTIF_ENT.parse(ent, con).rows.num_rows == 1
