"""Hand-computed cases for ``clean_fpi``, ``clean_paydex`` fed by the Altares files, and ``clean_ellisphere``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pyarrow as pa
import pytest

from signaux_faibles.panel.build import relations
from signaux_faibles.panel.clean import clean_ellisphere, clean_fpi, clean_paydex, month_calendar

D = dt.date


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def rows(con: ibis.BaseBackend, t: ibis.Table, *order: str) -> list[dict[str, Any]]:
    return con.to_pyarrow(t.order_by(list(order))).to_pylist()


def altares(
    recs: list[tuple[str, dt.date, int | None, float | None, float | None]], extra: bool = False
) -> ibis.Table:
    """A staging Altares table: (siren, date_valeur, nbr_jrs_retard, fpi_30, fpi_90)."""
    cols: dict[str, pa.Array] = {
        "siren": pa.array([r[0] for r in recs], pa.string()),
        "date_valeur": pa.array([r[1] for r in recs], pa.date32()),
        "etat_organisation": pa.array(["Actif"] * len(recs), pa.string()),
        "nbr_jrs_retard": pa.array([r[2] for r in recs], pa.int32()),
        "fpi_30": pa.array([r[3] for r in recs], pa.float64()),
        "fpi_90": pa.array([r[4] for r in recs], pa.float64()),
        "siren_luhn_ok": pa.array([True] * len(recs)),
    }
    if extra:  # the increment's own columns
        cols["code_mouvement"] = pa.array(["X"] * len(recs), pa.string())
    return ibis.memtable(pa.table(cols))


def test_fpi_latest_of_the_month_across_files(con: ibis.BaseBackend) -> None:
    stock = altares([
        ("111111118", D(2023, 1, 5), 3, 10.0, 2.0),
        ("111111118", D(2023, 1, 20), 4, 12.0, 3.0),  # later in January: wins
        ("111111118", D(2023, 2, 15), 5, None, None),  # no FPI: not a row of clean_fpi
        ("222222226", D(2023, 2, 15), 0, 55.0, None),
    ])  # fmt: skip
    increment = altares([
        ("111111118", D(2023, 3, 15), 6, 40.0, 20.0),
        ("111111118", D(2023, 1, 20), 4, 12.0, 3.0),  # delivered again: collapses
    ], extra=True)  # fmt: skip
    out = rows(con, clean_fpi([stock, increment]), "siren", "periode")
    assert [(r["siren"], r["periode"], r["date_valeur"], r["fpi_30"], r["fpi_90"]) for r in out] == [
        ("111111118", D(2023, 1, 1), D(2023, 1, 20), 12.0, 3.0),
        ("111111118", D(2023, 3, 1), D(2023, 3, 15), 40.0, 20.0),
        ("222222226", D(2023, 2, 1), D(2023, 2, 15), 55.0, None),
    ]
    assert list(clean_fpi([stock]).columns) == ["siren", "periode", "date_valeur", "fpi_30", "fpi_90"]


def test_paydex_from_the_retro_file_and_the_altares_files(con: ibis.BaseBackend) -> None:
    retro = ibis.memtable(pa.table({
        "siren": ["111111118", "111111118"],
        "date_valeur": pa.array([D(2022, 12, 15), D(2023, 1, 20)], pa.date32()),
        "nb_jours": pa.array([7, 4], pa.int32()),
    }))  # fmt: skip
    stock = altares([
        ("111111118", D(2023, 1, 20), 4, 12.0, 3.0),  # the same value as the retro file
        ("111111118", D(2023, 2, 15), 9, None, None),
        ("111111118", D(2023, 3, 15), None, 1.0, 1.0),  # no paydex: ignored
    ])  # fmt: skip
    out = rows(con, clean_paydex(retro, altares=[stock]), "periode")
    assert [(r["periode"], r["nb_jours"]) for r in out] == [
        (D(2022, 12, 1), 7), (D(2023, 1, 1), 4), (D(2023, 2, 1), 9),
    ]  # fmt: skip
    only_altares = rows(con, clean_paydex(None, altares=[stock]), "periode")
    assert [(r["periode"], r["nb_jours"]) for r in only_altares] == [(D(2023, 1, 1), 4), (D(2023, 2, 1), 9)]


def ellisphere(recs: list[tuple[str, str | None, str | None, str, int | None, float | None]]) -> ibis.Table:
    """stg_ellisphere rows: (siren, code_groupe, siren_groupe, raison_sociale_groupe, niveau, part)."""
    return ibis.memtable(pa.table({
        "siren": [r[0] for r in recs],
        "code_groupe": pa.array([r[1] for r in recs], pa.string()),
        "siren_groupe": pa.array([r[2] for r in recs], pa.string()),
        "raison_sociale_groupe": [r[3] for r in recs],
        "niveau_detention": pa.array([r[4] for r in recs], pa.int32()),
        "part_financiere": pa.array([r[5] for r in recs], pa.float64()),
    }))  # fmt: skip


def test_ellisphere_members_and_head(con: ibis.BaseBackend) -> None:
    stg = ellisphere([
        ("111111118", "G1", "999999999", "GROUPE UN", 1, 80.0),
        ("222222226", "G1", "999999999", "GROUPE UN", 2, 60.0),
        ("222222226", "G1", "999999999", "GROUPE UN", 1, 30.0),  # listed twice: the closest holding stays
        ("333333334", "G2", None, "FOREIGN GROUP", 1, 100.0),  # foreign head: no head row
        ("444444442", None, "888888888", "SANS CODE", 1, 51.0),  # no code: the head's SIREN
    ])  # fmt: skip
    out = rows(con, clean_ellisphere(stg), "code_groupe", "niveau_detention", "siren")
    assert list(clean_ellisphere(stg).columns) == [
        "siren", "code_groupe", "siren_tete", "raison_sociale_groupe", "niveau_detention", "part_financiere",
    ]  # fmt: skip
    got = [
        (r["code_groupe"], r["siren"], r["siren_tete"], r["niveau_detention"], r["part_financiere"])
        for r in out
    ]
    assert got == [
        ("888888888", "888888888", "888888888", 0, None),
        ("888888888", "444444442", "888888888", 1, 51.0),
        ("G1", "999999999", "999999999", 0, None),
        ("G1", "111111118", "999999999", 1, 80.0),
        ("G1", "222222226", "999999999", 1, 30.0),
        ("G2", "333333334", None, 1, 100.0),
    ]


def test_relations_builds_the_partner_views() -> None:
    stock = altares([("111111118", D(2023, 1, 20), 4, 12.0, 3.0)])
    cal = month_calendar(D(2023, 1, 1), D(2023, 2, 1))
    out = relations({"stg_altares_stock": stock}, cal)
    assert {"clean_fpi", "clean_paydex"} <= set(out) and "clean_ellisphere" not in out
    out = relations({"stg_ellisphere": ellisphere([("111111118", "G1", None, "G", 1, 50.0)])}, cal)
    assert "clean_ellisphere" in out and "clean_fpi" not in out and "clean_paydex" not in out
