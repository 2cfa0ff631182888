"""Hand-computed cases for the company panel (features and target), on tiny synthetic tables (DuckDB)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pyarrow as pa
import pytest
from panel_rows import DEBIT_SCHEMA, debit_row

from signaux_faibles.panel.clean import clean_ap, clean_bdf, clean_debit, clean_procol
from signaux_faibles.panel.company_month import company_month, feature_columns
from signaux_faibles.panel.features.registry import GROUPS, data_dictionary_markdown, registry

D = dt.date
SIREN = "123456789"
S1, S2, S3 = SIREN + "00011", SIREN + "00029", SIREN + "00037"


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def mt(rows: list[dict[str, Any]], schema: dict[str, pa.DataType]) -> ibis.Table:
    return ibis.memtable(pa.Table.from_pylist(rows, schema=pa.schema(list(schema.items()))))


def debit(debt: str, hist: int, treated: dt.date, po: float, pp: float, siret: str = S1) -> dict[str, Any]:
    return debit_row(debt, hist, treated, po, pp, siret=siret)


def panel(
    con: ibis.BaseBackend, clean: dict[str, ibis.Table], first: dt.date, last: dt.date
) -> dict[dt.date, Any]:
    out = con.to_pyarrow(company_month(clean, first, last).order_by("periode")).to_pylist()
    assert {r["siren"] for r in out} <= {SIREN}
    return {r["periode"]: r for r in out}


def col(p: dict[dt.date, Any], name: str) -> list[Any]:
    return [p[m][name] for m in sorted(p)]


def test_debts_after_the_20th_and_paid_then_reopened(con: ibis.BaseBackend) -> None:
    stg = mt(
        [
            debit("A", 1, D(2020, 3, 25), 100.0, 200.0),  # after the 20th: counts from April
            debit("B", 1, D(2020, 4, 10), 10.0, 0.0),
            debit("B", 2, D(2020, 5, 5), 0.0, 0.0),  # B paid in May
            debit("B", 3, D(2020, 8, 10), 50.0, 5.0),  # B re-opened in August
        ],
        DEBIT_SCHEMA,
    )
    p = panel(con, {"clean_debit": clean_debit(stg)}, D(2020, 3, 1), D(2020, 9, 1))
    # forward-filled between events (June, July, September have no event)
    # March: no debt yet and no other data, so not an active month of the spine (no SIRENE either)
    assert sorted(p) == [D(2020, m, 1) for m in range(4, 10)]
    assert col(p, "montant_part_ouvriere") == [110.0, 100.0, 100.0, 100.0, 150.0, 150.0]
    assert col(p, "montant_part_patronale") == [200.0, 200.0, 200.0, 200.0, 205.0, 205.0]
    assert col(p, "montant_part_ouvriere_past_1") == [0.0, 110.0, 100.0, 100.0, 100.0, 150.0]
    assert col(p, "montant_part_ouvriere_past_3") == [0.0, 0.0, 0.0, 110.0, 100.0, 100.0]
    assert p[D(2020, 9, 1)]["montant_part_patronale_past_6"] == 0.0  # March: nothing yet
    assert all(v is None for v in col(p, "ratio_dette"))  # no cotisation file: no ratio


def test_cotisation_spread_mean_and_ratio_dette(con: ibis.BaseBackend) -> None:
    cotis = mt(
        [
            {
                "siret": S1,
                "periode": D(2019, 1 + 3 * q, 1),
                "du": 3000.0,
                "periode_fin": D(2019 + (q == 3), (4 + 3 * q - 1) % 12 + 1, 1),
            }
            for q in range(4)
        ]
        + [{"siret": S2, "periode": D(2019, 1, 1), "du": 1200.0, "periode_fin": D(2020, 1, 1)}],
        {"siret": pa.string(), "periode": pa.date32(), "du": pa.float64(), "periode_fin": pa.date32()},
    )
    stg = mt([debit("A", 1, D(2019, 12, 5), 550.0, 550.0)], DEBIT_SCHEMA)
    p = panel(
        con, {"clean_cotisation": cotis, "clean_debit": clean_debit(stg)}, D(2019, 1, 1), D(2019, 12, 1)
    )
    assert col(p, "cotisation") == [1100.0] * 12  # 3000 / 3 + 1200 / 12, summed over the two SIRETs
    assert col(p, "cotisation_moy12m") == [None] * 11 + [1100.0]  # requires the 12 months
    assert p[D(2019, 12, 1)]["ratio_dette"] == pytest.approx(1.0)
    assert p[D(2019, 12, 1)]["tag_debit"] is True and p[D(2019, 12, 1)]["tag_default"] is False


def test_ap_request_spanning_months(con: ibis.BaseBackend) -> None:
    dem = mt(
        [
            {
                "siret": S1,
                "periode_debut": D(2020, 3, 16),
                "periode_fin": D(2020, 5, 15),
                "heures": 1516.7,
                "motif_recours": 1,
            }
        ],
        {
            "siret": pa.string(),
            "periode_debut": pa.date32(),
            "periode_fin": pa.date32(),
            "heures": pa.float64(),
            "motif_recours": pa.int32(),
        },
    )
    conso = mt(
        [
            {"siret": S1, "periode": D(2020, 3, 1), "heures": 100.0},
            {"siret": S1, "periode": D(2020, 4, 1), "heures": 50.0},
        ],
        {"siret": pa.string(), "periode": pa.date32(), "heures": pa.float64()},
    )
    eff = mt(
        [{"siret": S1, "siren": SIREN, "periode": D(2020, 3, 1), "effectif": 10}],
        {"siret": pa.string(), "siren": pa.string(), "periode": pa.date32(), "effectif": pa.int64()},
    )
    p = panel(con, {"clean_ap": clean_ap(conso, dem), "clean_effectif": eff}, D(2020, 2, 1), D(2020, 6, 1))
    assert sorted(p)[0] == D(2020, 3, 1)  # February: no data yet, not in the spine
    # March → June (June: the head count carried forward keeps the company in the spine)
    assert col(p, "apart_heures_autorisees") == [1516.7, 1516.7, 1516.7, 0.0]
    assert col(p, "apart_heures_consommees") == [100.0, 50.0, 0.0, 0.0]
    assert col(p, "apart_heures_consommees_cumulees") == [100.0, 150.0, 150.0, 0.0]
    assert p[D(2020, 3, 1)]["ratio_apart"] == pytest.approx(100.0 / (10 * 151.67))
    assert p[D(2020, 4, 1)]["effectif"] == 10 and p[D(2020, 4, 1)]["effectif_reporte"] is True


def test_ap_authorisation_decided_after_its_start_counts_from_its_decision_month(con: ibis.BaseBackend) -> None:
    # a request for March..May 2020 decided (date_statut) on 2020-04-20: at March, nothing was authorised yet
    dem = mt(
        [
            {
                "siret": S1,
                "periode_debut": D(2020, 3, 1),
                "periode_fin": D(2020, 5, 31),
                "heures": 1516.7,
                "motif_recours": 1,
                "date_statut": D(2020, 4, 20),
            }
        ],
        {
            "siret": pa.string(),
            "periode_debut": pa.date32(),
            "periode_fin": pa.date32(),
            "heures": pa.float64(),
            "motif_recours": pa.int32(),
            "date_statut": pa.date32(),
        },
    )
    conso = mt(
        [
            {"siret": S1, "periode": D(2020, 3, 1), "heures": 100.0},
            {"siret": S1, "periode": D(2020, 4, 1), "heures": 50.0},
        ],
        {"siret": pa.string(), "periode": pa.date32(), "heures": pa.float64()},
    )
    ap = clean_ap(conso, dem)
    rows = {r["periode"]: r for r in con.to_pyarrow(ap.order_by("periode")).to_pylist()}
    # the real view's columns are unchanged: the whole amount on every month of the period
    assert [rows[m]["etp_autorise"] for m in sorted(rows)] == pytest.approx([10.0, 10.0, 10.0])
    assert [rows[m]["etp_autorise_decide"] for m in sorted(rows)] == pytest.approx([0.0, 10.0, 10.0])
    p = panel(con, {"clean_ap": ap}, D(2020, 2, 1), D(2020, 6, 1))
    assert sorted(p) == [D(2020, 3, 1), D(2020, 4, 1), D(2020, 5, 1)]  # March: consumption only
    assert col(p, "apart_heures_autorisees") == [0.0, 1516.7, 1516.7]
    assert col(p, "apart_heures_consommees") == [100.0, 50.0, 0.0]
    # March is not in an authorised run (nothing decided yet); the run starts in April
    assert col(p, "apart_heures_consommees_cumulees") == [0.0, 50.0, 50.0]


def test_procol_that_ends_and_the_target(con: ibis.BaseBackend) -> None:
    stg = mt(
        [
            {
                "siret": S1,
                "date_effet": D(2020, 2, 10),
                "action_procol": "redressement",
                "stade_procol": "ouverture",
            },
            {
                "siret": S1,
                "date_effet": D(2020, 6, 15),
                "action_procol": "redressement",
                "stade_procol": "fin_procedure",
            },
        ],
        {
            "siret": pa.string(),
            "date_effet": pa.date32(),
            "action_procol": pa.string(),
            "stade_procol": pa.string(),
        },
    )
    # a monthly head count 10, 11, 12… from 2018-01 keeps the company in the spine
    eff = mt(
        [
            {"siren": SIREN, "periode": D(2018 + k // 12, k % 12 + 1, 1), "effectif_ent": 10 + k}
            for k in range(32)
        ],
        {"siren": pa.string(), "periode": pa.date32(), "effectif_ent": pa.int64()},
    )
    p = panel(
        con, {"clean_procol": clean_procol(stg), "clean_effectif_ent": eff}, D(2018, 8, 1), D(2020, 8, 1)
    )
    # the judgment applies from the first month starting after it, until the month after its end
    months = [D(2020, m, 1) for m in range(1, 9)]
    assert [p[m]["etat_proc_collective"] for m in months] == [
        "in_bonis",
        "in_bonis",
        "plan_redressement",
        "plan_redressement",
        "plan_redressement",
        "plan_redressement",
        "in_bonis",
        "in_bonis",
    ]
    assert p[D(2020, 3, 1)]["date_proc_collective"] == D(2020, 2, 10)
    # target: first judgment 2020-02-10, within 18 months from 2018-09 on; signaux forts from February 2020
    assert p[D(2018, 8, 1)]["failure"] == 0 and p[D(2018, 9, 1)]["failure"] == 1
    assert p[D(2020, 8, 1)]["failure"] == 1  # after the judgment: still positive (first-judgment rule)
    assert [p[m]["time_til_failure"] for m in months[:3]] == [1, 0, -1]
    assert [p[m]["signal_fort"] for m in months[:3]] == [False, True, True]
    assert p[D(2018, 9, 1)]["time_til_failure"] == 17
    # lags of the head count, including months before the window
    assert p[D(2019, 6, 1)]["effectif_ent_past_6"] == 21 and p[D(2020, 8, 1)]["effectif_ent_past_24"] == 17
    assert p[D(2018, 8, 1)]["effectif_ent_past_12"] is None  # before the first value


def test_balance_sheet_published_late(con: ibis.BaseBackend) -> None:
    ratios = (
        "poids_frng",
        "taux_marge",
        "delai_fournisseur",
        "dette_fiscale",
        "financier_court_terme",
        "frais_financier",
    )
    stg = mt(
        [
            {
                "siren": SIREN,
                "annee_bdf": y,
                "arrete_bilan_bdf": D(y, 12, 31),
                **{k: float(y - 2017) for k in ratios},
            }
            for y in (2018, 2019)
        ],
        {
            "siren": pa.string(),
            "annee_bdf": pa.int32(),
            "arrete_bilan_bdf": pa.date32(),
            **{k: pa.float64() for k in ratios},
        },
    )
    eff = mt(
        [{"siren": SIREN, "periode": D(2019, m, 1), "effectif_ent": 5} for m in range(1, 13)]
        + [{"siren": SIREN, "periode": D(2020, m, 1), "effectif_ent": 5} for m in range(1, 13)],
        {"siren": pa.string(), "periode": pa.date32(), "effectif_ent": pa.int64()},
    )
    p = panel(con, {"clean_bdf": clean_bdf(stg), "clean_effectif_ent": eff}, D(2019, 6, 1), D(2020, 9, 1))
    # closing 2018-12-31: usable from 2019-08-01 only; the 2019 sheet from 2020-08-01 (2018's becomes past_1)
    assert p[D(2019, 7, 1)]["taux_marge"] is None
    assert p[D(2019, 8, 1)]["taux_marge"] == 1.0 and p[D(2020, 7, 1)]["taux_marge"] == 1.0
    assert p[D(2019, 8, 1)]["taux_marge_past_1"] is None
    assert p[D(2020, 8, 1)]["taux_marge"] == 2.0 and p[D(2020, 8, 1)]["taux_marge_past_1"] == 1.0


def test_company_with_three_establishments_in_two_departements(con: ibis.BaseBackend) -> None:
    eff = mt(
        [
            {"siret": s, "siren": SIREN, "periode": D(2021, 1, 1), "effectif": n}
            for s, n in ((S1, 10), (S2, 20), (S3, 5))
        ]
        + [
            {"siret": s, "siren": SIREN, "periode": D(2021, 2, 1), "effectif": n}
            for s, n in ((S1, 11), (S2, 20))
        ],
        {"siret": pa.string(), "siren": pa.string(), "periode": pa.date32(), "effectif": pa.int64()},
    )
    sirene = mt(
        [{"siren": SIREN, "siret": s, "departement": d} for s, d in ((S1, "75"), (S2, "75"), (S3, "92"))],
        {"siren": pa.string(), "siret": pa.string(), "departement": pa.string()},
    )
    ul = mt(
        [
            {
                "siren": SIREN,
                "activite_principale": "56.10A",
                "naf_section": "I",
                "categorie_juridique": "5710",
                "departement": "75",
                "libelle_region": "Île-de-France",
                "creation": D(2015, 6, 15),
                "est_actif": True,
            }
        ],
        {
            "siren": pa.string(),
            "activite_principale": pa.string(),
            "naf_section": pa.string(),
            "categorie_juridique": pa.string(),
            "departement": pa.string(),
            "libelle_region": pa.string(),
            "creation": pa.date32(),
            "est_actif": pa.bool_(),
        },
    )
    filt = mt([{"siren": "999999999"}], {"siren": pa.string()})
    clean = {"clean_effectif": eff, "clean_sirene": sirene, "clean_sirene_ul": ul, "clean_filter": filt}
    p = panel(con, clean, D(2020, 12, 1), D(2021, 2, 1))
    assert col(p, "effectif") == [None, 35, 36]  # S3 carried forward in February
    assert col(p, "effectif_reporte") == [False, False, True]
    assert col(p, "nb_etablissements") == [3, 3, 3] and col(p, "nb_departements") == [2, 2, 2]
    assert col(p, "departement") == ["75"] * 3 and col(p, "code_ape") == ["56.10A"] * 3
    assert col(p, "age_entreprise") == [5, 5, 5] and col(p, "taille") == [None, "10-49", "10-49"]
    assert col(p, "in_perimeter") == [False] * 3  # not in the filter: a column, not a filter
    # December 2020: no data but SIRENE says active (created 2015): in the spine


def test_paydex_carried_forward_lagged_and_averaged(con: ibis.BaseBackend) -> None:
    """Monthly paydex values with a gap: carried forward, lags, 3/6/12-month means of the carried values."""
    values = {D(2020, 1, 1): 10.0, D(2020, 2, 1): 20.0, D(2020, 3, 1): 30.0, D(2020, 6, 1): 60.0}
    pay = mt(
        [{"siren": SIREN, "periode": m, "date_valeur": m, "nb_jours": v} for m, v in values.items()],
        {"siren": pa.string(), "periode": pa.date32(), "date_valeur": pa.date32(), "nb_jours": pa.float64()},
    )
    p = panel(con, {"clean_paydex": pay}, D(2020, 1, 1), D(2020, 7, 1))
    # April and May carry March's value; July carries June's
    assert col(p, "paydex_nb_jours") == [10.0, 20.0, 30.0, 30.0, 30.0, 60.0, 60.0]
    assert col(p, "paydex_nb_jours_past_3") == [None, None, None, 10.0, 20.0, 30.0, 30.0]
    assert col(p, "paydex_nb_jours_moy3m") == [10.0, 15.0, 20.0, 80 / 3, 30.0, 40.0, 50.0]
    assert col(p, "paydex_nb_jours_moy6m")[-2:] == [30.0, 230 / 6]  # Jan..Jun, Feb..Jul
    assert col(p, "paydex_nb_jours_moy12m")[-1] == 240 / 7  # the 7 months with a value since January
    assert col(p, "paydex_diff_12m") == [None] * 7  # no value a year before
    assert col(p, "paydex_bin") == ["0-15", "15-30", "15-30", "15-30", "15-30", "30-60", "30-60"]


def test_registry_covers_every_column_and_the_dictionary_is_current() -> None:
    from pathlib import Path

    names = [f.name for f in registry()]
    assert names == feature_columns()
    assert {f.group for f in registry()} <= set(GROUPS)
    doc = Path(__file__).parents[2] / "docs" / "data_dictionary.md"
    assert doc.read_text(encoding="utf-8") == data_dictionary_markdown(), (
        "run the registry module to regenerate"
    )
