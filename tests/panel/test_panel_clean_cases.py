"""Hand-computed cases for the clean relations, on tiny synthetic staging tables (DuckDB)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pyarrow as pa
import pytest
from panel_rows import debit_row, stg_debit

from signaux_faibles.panel.clean import (
    clean_ap,
    clean_bdf,
    clean_debit,
    clean_procol,
    clean_procol_at_date,
    clean_sirene_histo,
    month_calendar,
    siren_blacklist,
)

D = dt.date
SIRET = "12345678900011"


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def rows(con: ibis.BaseBackend, t: ibis.Table, *order: str) -> list[dict[str, Any]]:
    return con.to_pyarrow(t.order_by(list(order))).to_pylist()


def debit_event(
    debt: str, hist: int, treated: dt.date, po: float, pp: float, siret: str = SIRET
) -> dict[str, Any]:
    return debit_row(debt, hist, treated, po, pp, siret=siret)


def test_debit_events_after_the_20th_count_next_month(con: ibis.BaseBackend) -> None:
    t = stg_debit(
        [
            debit_event("A", 1, D(2019, 1, 20), 100.0, 200.0),  # January
            debit_event("B", 1, D(2019, 1, 21), 10.0, 20.0),  # after the 20th: February
            debit_event("A", 2, D(2019, 2, 25), 0.0, 50.0),  # March: A partly paid
        ]
    )
    out = rows(con, clean_debit(t), "periode")
    assert [(r["periode"], r["part_ouvriere"], r["part_patronale"], r["is_last"]) for r in out] == [
        (D(2019, 1, 1), 100.0, 200.0, False),
        (D(2019, 2, 1), 110.0, 220.0, False),  # A (Jan state) + B
        (D(2019, 3, 1), 10.0, 70.0, True),  # A latest state + B
    ]


def test_debit_paid_then_reopened(con: ibis.BaseBackend) -> None:
    t = stg_debit(
        [
            debit_event("A", 1, D(2019, 1, 5), 100.0, 100.0),
            debit_event("A", 2, D(2019, 3, 5), 0.0, 0.0),  # paid
            debit_event("A", 3, D(2019, 6, 5), 40.0, 60.0),  # re-opened (e.g. payment cancelled)
            debit_event("A", 3, D(2019, 6, 5), 40.0, 60.0),  # the same event delivered again (flux)
        ]
    )
    out = rows(con, clean_debit(t), "periode")
    assert [(r["periode"], r["part_ouvriere"] + r["part_patronale"], r["is_last"]) for r in out] == [
        (D(2019, 1, 1), 200.0, False),
        (D(2019, 3, 1), 0.0, False),
        (D(2019, 6, 1), 100.0, True),
    ]


def test_debit_highest_history_number_wins_within_a_period(con: ibis.BaseBackend) -> None:
    t = stg_debit(
        [
            debit_event("A", 2, D(2019, 1, 10), 5.0, 5.0),
            debit_event("A", 1, D(2019, 1, 3), 50.0, 50.0),
            debit_event("X", 1, D(2019, 1, 3), 1.0, 1.0, siret="99999999900011"),
        ]
    )
    out = rows(con, clean_debit(t), "siret", "periode")
    assert [(r["siret"], r["part_ouvriere"]) for r in out] == [(SIRET, 5.0), ("99999999900011", 1.0)]


def ap_tables(demandes: list[dict[str, Any]], conso: list[dict[str, Any]]) -> tuple[ibis.Table, ibis.Table]:
    dem = pa.Table.from_pylist(
        demandes,
        schema=pa.schema(
            [
                ("siret", pa.string()),
                ("periode_debut", pa.date32()),
                ("periode_fin", pa.date32()),
                ("heures", pa.float64()),
                ("motif_recours", pa.int32()),
            ]
        ),
    )
    con_ = pa.Table.from_pylist(
        conso, schema=pa.schema([("siret", pa.string()), ("periode", pa.date32()), ("heures", pa.float64())])
    )
    return ibis.memtable(con_), ibis.memtable(dem)


def test_ap_request_spanning_months(con: ibis.BaseBackend) -> None:
    conso, dem = ap_tables(
        [
            {
                "siret": SIRET,
                "periode_debut": D(2020, 3, 16),
                "periode_fin": D(2020, 5, 15),
                "heures": 1516.7,
                "motif_recours": 1,
            },
            {
                "siret": SIRET,
                "periode_debut": D(2020, 5, 1),
                "periode_fin": D(2020, 5, 31),
                "heures": 151.67,
                "motif_recours": 3,
            },
        ],
        [
            {"siret": SIRET, "periode": D(2020, 4, 1), "heures": 303.34},
            {"siret": SIRET, "periode": D(2020, 6, 1), "heures": 151.67},
        ],
    )
    out = rows(con, clean_ap(conso, dem), "periode")
    got = [
        (
            r["periode"],
            round(r["etp_autorise"], 6),
            round(r["etp_consomme"], 6),
            r["motif_recours"],
            r["is_last"],
        )
        for r in out
    ]
    assert got == [
        (D(2020, 3, 1), 10.0, 0.0, "Conjoncture économique", False),
        (D(2020, 4, 1), 10.0, 2.0, "Conjoncture économique", False),
        (
            D(2020, 5, 1),
            11.0,
            0.0,
            "Conjoncture économique; Sinistre ou intempéries de caractère exceptionnel",
            False,
        ),
        (D(2020, 6, 1), 0.0, 1.0, None, True),
    ]
    assert {r["siren"] for r in out} == {SIRET[:9]}


def procol_table(events: list[tuple[str, dt.date, str, str]]) -> ibis.Table:
    return ibis.memtable(
        pa.Table.from_pylist(
            [{"siret": s, "date_effet": d, "action_procol": a, "stade_procol": st} for s, d, a, st in events],
            schema=pa.schema(
                [
                    ("siret", pa.string()),
                    ("date_effet", pa.date32()),
                    ("action_procol", pa.string()),
                    ("stade_procol", pa.string()),
                ]
            ),
        )
    )


def test_procol_at_date_a_procedure_that_ends(con: ibis.BaseBackend) -> None:
    p = clean_procol(
        procol_table(
            [
                (SIRET, D(2019, 2, 10), "redressement", "ouverture"),
                (SIRET, D(2019, 4, 1), "redressement", "plan_continuation"),
                (SIRET, D(2019, 6, 15), "redressement", "fin_procedure"),
                (SIRET, D(2019, 7, 1), "redressement", "solde_procedure"),  # administrative closing: dropped
            ]
        )
    )
    assert {r["libelle_procol"] for r in rows(con, p, "date_effet")} == {
        "Redressement judiciaire",
        "Plan de redressement",
        "In bonis",
    }
    out = rows(con, clean_procol_at_date(p, month_calendar(D(2019, 1, 1), D(2019, 8, 1))), "periode")
    assert [(r["periode"], r["stade_procol"], r["libelle_procol"]) for r in out] == [
        (D(2019, 3, 1), "ouverture", "Redressement judiciaire"),  # judged 10 Feb: open from March 1st's view
        (D(2019, 4, 1), "plan_continuation", "Plan de redressement"),
        (D(2019, 5, 1), "plan_continuation", "Plan de redressement"),
        (D(2019, 6, 1), "plan_continuation", "Plan de redressement"),
        # 15 June: fin_procedure → no row from July on (in bonis)
    ]
    assert {r["siren"] for r in out} == {SIRET[:9]}


def test_procol_at_date_most_severe_wins_and_old_plans_expire(con: ibis.BaseBackend) -> None:
    p = clean_procol(
        procol_table(
            [
                (SIRET, D(2008, 1, 10), "sauvegarde", "plan_continuation"),
                (SIRET, D(2018, 3, 1), "sauvegarde", "ouverture"),
                (SIRET, D(2018, 5, 2), "liquidation", "ouverture"),
                ("22222222200011", D(2008, 1, 10), "sauvegarde", "plan_continuation"),
            ]
        )
    )
    out = rows(
        con, clean_procol_at_date(p, month_calendar(D(2017, 12, 1), D(2018, 6, 1))), "siren", "periode"
    )
    assert (
        [(r["siren"], r["periode"], r["action_procol"]) for r in out]
        == [
            (SIRET[:9], D(2017, 12, 1), "sauvegarde"),  # the 2008 plan is < 10 years old until 2018-01-10
            (SIRET[:9], D(2018, 1, 1), "sauvegarde"),
            (SIRET[:9], D(2018, 3, 1), "sauvegarde"),  # a new sauvegarde opens on 1 March
            (SIRET[:9], D(2018, 4, 1), "sauvegarde"),
            (SIRET[:9], D(2018, 5, 1), "sauvegarde"),
            (SIRET[:9], D(2018, 6, 1), "liquidation"),  # both open: the liquidation (2 May) is more severe
            ("222222222", D(2017, 12, 1), "sauvegarde"),
            ("222222222", D(2018, 1, 1), "sauvegarde"),
        ]
    )


def test_sirene_histo_keeps_changes_of_state(con: ibis.BaseBackend) -> None:
    h = ibis.memtable(
        pa.Table.from_pylist(
            [
                {
                    "siret": SIRET,
                    "date_debut": D(2000, 1, 1),
                    "est_actif": True,
                    "changement_statut_actif": False,
                },
                {
                    "siret": SIRET,
                    "date_debut": D(2005, 1, 1),
                    "est_actif": True,
                    "changement_statut_actif": False,
                },
                {
                    "siret": SIRET,
                    "date_debut": D(2010, 3, 1),
                    "est_actif": False,
                    "changement_statut_actif": True,
                },
            ],
            schema=pa.schema(
                [
                    ("siret", pa.string()),
                    ("date_debut", pa.date32()),
                    ("est_actif", pa.bool_()),
                    ("changement_statut_actif", pa.bool_()),
                ]
            ),
        )
    )
    out = rows(con, clean_sirene_histo(h), "date_debut")
    assert [(r["date_debut"], r["date_fin"], r["est_actif"]) for r in out] == [
        (D(2000, 1, 1), D(2010, 2, 28), True),
        (D(2010, 3, 1), None, False),
    ]


def test_bdf_publication_lag(con: ibis.BaseBackend) -> None:
    b = ibis.memtable(
        pa.table(
            {
                "siren": ["123456789"],
                "annee_bdf": pa.array([2018], pa.int32()),
                "arrete_bilan_bdf": pa.array([D(2018, 12, 31)], pa.date32()),
                **{
                    k: [1.0]
                    for k in (
                        "poids_frng",
                        "taux_marge",
                        "delai_fournisseur",
                        "dette_fiscale",
                        "financier_court_terme",
                        "frais_financier",
                    )
                },
            }
        )
    )
    (r,) = rows(con, clean_bdf(b), "siren")
    assert (r["date_publication"], r["date_fin_validite"]) == (D(2019, 8, 1), D(2020, 9, 1))


def test_blacklist_only_from_the_filter(con: ibis.BaseBackend) -> None:
    f = ibis.memtable({"siren": ["111111111", "222222222", "333333333"]})
    ul = ibis.memtable(
        {
            "siren": ["111111111", "222222222", "444444444"],
            "categorie_juridique": ["7210", "5710", "7210"],
            "activite_principale": ["01.11Z", "64.19Z", "01.11Z"],
        }
    )
    sirene = ibis.memtable(
        {
            "siren": ["111111111", "222222222", "333333333"],
            "siege": [True, True, True],
            "departement": ["21", "21", None],
        }
    )
    out = rows(con, siren_blacklist(f, ul, sirene), "siren")
    # 111: legal category 7210, 222: NAF 64, 333: head office without département; 444 not in the filter
    assert [r["siren"] for r in out] == ["111111111", "222222222", "333333333"]
