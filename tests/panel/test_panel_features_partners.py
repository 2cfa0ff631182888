"""Hand-computed cases for the FPI, CCSF and group features of the panel (DuckDB)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pyarrow as pa
import pytest

from signaux_faibles.panel.company_month import company_month

D = dt.date
SIREN = "123456789"
HEAD = "999999999"


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def mt(rows: list[dict[str, Any]], schema: dict[str, pa.DataType]) -> ibis.Table:
    return ibis.memtable(pa.Table.from_pylist(rows, schema=pa.schema(list(schema.items()))))


def paydex_every_month(first: dt.date, months: int) -> ibis.Table:
    """A paydex each month: keeps the company active at every month of the window."""
    rows = [
        {"siren": SIREN, "periode": D(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1),
         "nb_jours": 1}
        for k in range(months)
    ]  # fmt: skip
    for r in rows:
        r["date_valeur"] = r["periode"]
    return mt(
        rows,
        {"siren": pa.string(), "periode": pa.date32(), "date_valeur": pa.date32(), "nb_jours": pa.int32()},
    )


def panel(
    con: ibis.BaseBackend, clean: dict[str, ibis.Table], first: dt.date, months: int
) -> list[dict[str, Any]]:
    clean = {"clean_paydex": paydex_every_month(first, months), **clean}
    last = D(first.year + (first.month - 1 + months - 1) // 12, (first.month - 1 + months - 1) % 12 + 1, 1)
    out = con.to_pyarrow(company_month(clean, first, last).order_by("periode")).to_pylist()
    return [r for r in out if r["siren"] == SIREN]


def test_fpi_clipped_scaled_and_carried_12_months(con: ibis.BaseBackend) -> None:
    fpi = mt(
        [
            {"siren": SIREN, "periode": D(2021, 2, 1), "date_valeur": D(2021, 2, 15), "fpi_30": 40.0, "fpi_90": None},
            {"siren": SIREN, "periode": D(2021, 4, 1), "date_valeur": D(2021, 4, 15), "fpi_30": 130.0, "fpi_90": -5.0},
        ],
        {"siren": pa.string(), "periode": pa.date32(), "date_valeur": pa.date32(), "fpi_30": pa.float64(),
         "fpi_90": pa.float64()},
    )  # fmt: skip
    rows = panel(con, {"clean_fpi": fpi}, D(2021, 1, 1), 18)
    assert [r["fpi_30"] for r in rows] == [None, 0.4, 0.4] + [1.0] * 12 + [None] * 3
    assert [r["fpi_90"] for r in rows][:5] == [None, None, None, 0.0, 0.0]


def test_ccsf_recent_and_months_since(con: ibis.BaseBackend) -> None:
    ccsf = mt(
        [
            {"siren": SIREN, "siret": SIREN + "00011", "date_traitement": D(2021, 3, 10), "stade": "DEBUT"},
            {"siren": SIREN, "siret": SIREN + "00011", "date_traitement": D(2021, 5, 28), "stade": "APPROB"},
            {"siren": SIREN, "siret": SIREN + "00011", "date_traitement": D(2021, 9, 2), "stade": "FIN"},
        ],
        {"siren": pa.string(), "siret": pa.string(), "date_traitement": pa.date32(), "stade": pa.string()},
    )
    rows = panel(con, {"clean_ccsf": ccsf}, D(2021, 1, 1), 20)
    assert [r["ccsf_recent"] for r in rows] == [0.0] * 4 + [1.0] * 12 + [0.0] * 4
    assert [r["ccsf_mois_depuis"] for r in rows] == [None] * 4 + list(range(16))


def test_group_and_head_in_proceedings(con: ibis.BaseBackend) -> None:
    groups = mt(
        [
            {"siren": SIREN, "code_groupe": "G1", "siren_tete": HEAD, "raison_sociale_groupe": "G",
             "niveau_detention": 1, "part_financiere": 60.0},
            {"siren": HEAD, "code_groupe": "G1", "siren_tete": HEAD, "raison_sociale_groupe": "G",
             "niveau_detention": 0, "part_financiere": None},
        ],
        {"siren": pa.string(), "code_groupe": pa.string(), "siren_tete": pa.string(),
         "raison_sociale_groupe": pa.string(), "niveau_detention": pa.int32(), "part_financiere": pa.float64()},
    )  # fmt: skip
    procol = mt(
        [{"siren": HEAD, "date_effet": D(2021, 4, 12), "action_procol": "redressement", "stade_procol": "ouverture",
          "libelle_procol": "Redressement judiciaire"}],
        {"siren": pa.string(), "date_effet": pa.date32(), "action_procol": pa.string(), "stade_procol": pa.string(),
         "libelle_procol": pa.string()},
    )  # fmt: skip
    rows = panel(con, {"clean_ellisphere": groups, "clean_procol": procol}, D(2021, 1, 1), 6)
    assert [r["groupe"] for r in rows] == [1.0] * 6
    # clean_procol_at_date: a judgment counts from the first month that starts after it (12 April → May)
    assert [r["groupe_tete_en_procol"] for r in rows] == [0.0] * 4 + [1.0] * 2
    assert [r["etat_proc_collective"] for r in rows] == ["in_bonis"] * 6  # the head's, not the member's
    alone = panel(con, {"clean_ellisphere": groups.filter(groups.siren == HEAD)}, D(2021, 1, 1), 2)
    assert [(r["groupe"], r["groupe_tete_en_procol"]) for r in alone] == [(0.0, None)] * 2
