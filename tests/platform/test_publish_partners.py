"""``publish`` loads the partners' data and the establishment series (issue 23): ``payment_records`` (paydex
full-joined with FPI), ``ccsf_events``, ``group_members``, ``establishment_months`` (effectif, cotisation spread
over its period, URSSAF debt carried forward, activité partielle; the panel's last 36 months) and ``delais``, from
parquet fixtures written here after the clean views' contracts; replaced at each publication; every source optional.

Every test runs on SQLite and on PostgreSQL (``db_url``, see ``conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from signaux_faibles.platform import models as m
from signaux_faibles.platform.store.db import get_engine, sessions
from signaux_faibles.platform.store.publish import SCORE_COLUMNS, publish

BATCH = "2609"
A, B, OUTSIDE = "100000001", "100000002", "900000009"  # two published companies, one unknown to the panel
SIRET_A, SIRET_B = A + "00011", B + "00011"
#: The panel covers 40 months (2023-06 … 2026-09): the establishment series keep the last 36 (from 2023-10).
MONTHS = pd.date_range("2023-06-01", "2026-09-01", freq="MS").date
D = dt.date


def _parquet(data: Path, name: str, rows: list[dict[str, Any]]) -> None:
    folder = data / "clean" / name
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(folder / "part-0.parquet", index=False)


def _scores() -> pd.DataFrame:
    row: dict[str, Any] = dict.fromkeys(SCORE_COLUMNS)
    row.update(periode=D(2026, 9, 1), batch=BATCH, algo="test", id_liste="Liste 2609", probability=0.2,
               alert="Pas d'alerte", alert_pre_adjustment="Pas d'alerte", adjustments="[]", threshold_high=0.3,
               threshold_moderate=0.1, first_alert=False, first_high_alert=False, dette_urssaf=0.0)  # fmt: skip
    return pd.DataFrame(
        [{**row, "siren": s, "siret": s + "00011", "rank": i} for i, s in enumerate((A, B), 1)]
    )


def _data_dir(tmp: Path) -> Path:
    """A data directory: a panel (A and B over ``MONTHS``), a list, and every clean view of the series."""
    data = tmp / "data"
    (data / "panel" / "company_month").mkdir(parents=True)
    pd.DataFrame([{"siren": s, "periode": p} for s in (A, B) for p in MONTHS]).to_parquet(
        data / "panel" / "company_month" / "part-0.parquet", index=False
    )
    (data / "lists" / BATCH).mkdir(parents=True)
    _scores().to_parquet(data / "lists" / BATCH / "scores.parquet", index=False)
    _parquet(data, "clean_paydex", [
        {"siren": A, "periode": D(2026, 7, 1), "date_valeur": D(2026, 7, 15), "nb_jours": 12.0},
        {"siren": A, "periode": D(2026, 8, 1), "date_valeur": D(2026, 8, 15), "nb_jours": 25.0},
        {"siren": OUTSIDE, "periode": D(2026, 8, 1), "date_valeur": D(2026, 8, 15), "nb_jours": 3.0},
    ])  # fmt: skip
    _parquet(data, "clean_fpi", [
        {"siren": A, "periode": D(2026, 8, 1), "date_valeur": D(2026, 8, 15), "fpi_30": 40.0, "fpi_90": 10.0},
        {"siren": A, "periode": D(2026, 9, 1), "date_valeur": D(2026, 9, 15), "fpi_30": 55.0, "fpi_90": 20.0},
    ])  # fmt: skip
    _parquet(data, "clean_ccsf", [
        {"siret": SIRET_A, "siren": A, "numero_compte": "123", "date_traitement": D(2025, 3, 4), "stade": "APPROB",
         "action": "CCSF"},
        {"siret": OUTSIDE + "00011", "siren": OUTSIDE, "numero_compte": "9", "date_traitement": D(2025, 3, 4),
         "stade": "DEBUT", "action": "CCSF"},
    ])  # fmt: skip
    _parquet(data, "clean_ellisphere", [
        {"siren": A, "code_groupe": "G1", "siren_tete": OUTSIDE, "raison_sociale_groupe": "GROUPE UN",
         "niveau_detention": 1, "part_financiere": 75.0},
        {"siren": OUTSIDE, "code_groupe": "G1", "siren_tete": OUTSIDE, "raison_sociale_groupe": "GROUPE UN",
         "niveau_detention": 0, "part_financiere": 100.0},
        {"siren": "800000008", "code_groupe": "G2", "siren_tete": "800000008", "raison_sociale_groupe": "AUTRE",
         "niveau_detention": 0, "part_financiere": 100.0},
    ])  # fmt: skip
    _parquet(data, "clean_effectif", [
        {"siret": SIRET_A, "siren": A, "numero_compte": c, "periode": D(2026, 9, 1), "effectif": n,
         "is_latest": True} for c, n in (("1", 10), ("2", 5))
    ] + [{"siret": SIRET_B, "siren": B, "numero_compte": "3", "periode": D(2023, 6, 1), "effectif": 7,
          "is_latest": False}])  # fmt: skip
    _parquet(data, "clean_cotisation", [
        {"siret": SIRET_A, "periode": D(2026, 4, 1), "du": 3000.0, "periode_fin": D(2026, 7, 1)},
    ])  # fmt: skip
    _parquet(data, "clean_debit", [
        {"siret": SIRET_A, "periode": D(2026, 5, 1), "part_ouvriere": 100.0, "part_patronale": 200.0,
         "is_last": False},
        {"siret": SIRET_A, "periode": D(2026, 8, 1), "part_ouvriere": 0.0, "part_patronale": 50.0, "is_last": True},
    ])  # fmt: skip
    _parquet(data, "clean_ap", [
        {"siret": SIRET_B, "siren": B, "periode": D(2026, 2, 10), "etp_autorise": 2.5, "etp_consomme": 1.0,
         "motif_recours": None, "is_last": True, "etp_autorise_decide": 2.5},
    ])  # fmt: skip
    _parquet(data, "clean_delai", [
        {"siret": SIRET_A, "siren": A, "numero_compte": "123", "numero_contentieux": "C1",
         "date_creation": D(2026, 1, 5), "date_echeance": D(2026, 12, 5), "duree_delai": 334,
         "denomination": "A", "indic_6m": "SUP", "annee_creation": 2026, "montant_echeancier": 4800.0,
         "stade": "APPROB", "action": "DELAI"},
    ])  # fmt: skip
    return data


def _tables(url: str) -> dict[str, list[Any]]:
    engine = get_engine(url)
    try:
        with sessions(engine)() as s:
            return {
                model.__tablename__: list(s.scalars(select(model)))
                for model in (m.PaymentRecord, m.CcsfEvent, m.GroupMember, m.EstablishmentMonth, m.Delai)
            }
    finally:
        engine.dispose()


def test_publish_fills_the_partner_tables(db_url: str, tmp_path: Path) -> None:
    data = _data_dir(tmp_path)
    res = publish(data, BATCH, db_url)
    t = _tables(db_url)
    pay = {(r.siren, r.date_valeur): (r.paydex_jours, r.fpi_30, r.fpi_90) for r in t["payment_records"]}
    assert pay == {  # paydex only, both, FPI only; the company outside the platform is left out
        (A, D(2026, 7, 15)): (12.0, None, None),
        (A, D(2026, 8, 15)): (25.0, 40.0, 10.0),
        (A, D(2026, 9, 15)): (None, 55.0, 20.0),
    }
    assert [(c.siret, c.date_traitement, c.stade, c.action) for c in t["ccsf_events"]] == [
        (SIRET_A, D(2025, 3, 4), "APPROB", "CCSF")
    ]
    groups = {(g.code_groupe, g.siren): (g.siren_tete, g.niveau_detention, g.part_financiere)
              for g in t["group_members"]}  # fmt: skip
    assert groups == {
        ("G1", A): (OUTSIDE, 1, 75.0),
        ("G1", OUTSIDE): (OUTSIDE, 0, 100.0),
    }  # G2: no company of ours
    assert [(d.siret, d.numero_contentieux, d.duree_delai, d.montant_echeancier) for d in t["delais"]] == [
        (SIRET_A, "C1", 334, 4800.0)
    ]
    assert res.rows["payment_records"] == 3 and res.rows["establishment_months"] == len(
        t["establishment_months"]
    )


def test_establishment_months(db_url: str, tmp_path: Path) -> None:
    publish(_data_dir(tmp_path), BATCH, db_url)
    rows = {(r.siret, r.periode): r for r in _tables(db_url)["establishment_months"]}
    assert min(p for _, p in rows) >= D(2023, 10, 1)  # the panel's last 36 months only
    assert (SIRET_B, D(2023, 6, 1)) not in rows
    a = {p: r for (s, p), r in rows.items() if s == SIRET_A}
    assert a[D(2026, 9, 1)].effectif == 15 and a[D(2026, 9, 1)].siren == A  # two URSSAF accounts summed
    assert [a[D(2026, mo, 1)].cotisation for mo in (4, 5, 6)] == [
        1000.0,
        1000.0,
        1000.0,
    ]  # spread over 3 months
    assert a[D(2026, 7, 1)].cotisation is None
    debt = [(a[D(2026, mo, 1)].part_ouvriere, a[D(2026, mo, 1)].part_patronale) for mo in (5, 6, 7, 8, 9)]
    assert debt == [(100.0, 200.0)] * 3 + [(0.0, 50.0)] * 2  # carried forward until the next event, and after
    assert a[D(2026, 4, 1)].part_ouvriere is None  # before the first event: no debt known
    b = rows[(SIRET_B, D(2026, 2, 1))]  # a consumption dated the 10th counts in its month
    assert (b.etp_autorise, b.etp_consomme, b.siren) == (2.5, 1.0, B)


def test_republication_replaces_and_sources_are_optional(db_url: str, tmp_path: Path) -> None:
    data = _data_dir(tmp_path)
    publish(data, BATCH, db_url)
    first = {k: len(v) for k, v in _tables(db_url).items()}
    publish(data, BATCH, db_url)
    assert {k: len(v) for k, v in _tables(db_url).items()} == first  # replaced, not appended
    for name in ("clean_paydex", "clean_ccsf", "clean_ellisphere", "clean_effectif", "clean_cotisation",
                 "clean_debit", "clean_delai"):  # fmt: skip
        shutil.rmtree(data / "clean" / name)
    res = publish(data, BATCH, db_url)
    t = _tables(db_url)
    assert [(r.paydex_jours, r.fpi_30) for r in t["payment_records"]] == [(None, 40.0), (None, 55.0)]
    assert t["ccsf_events"] == [] and t["group_members"] == [] and t["delais"] == []
    assert {(r.siret, r.effectif, r.cotisation, r.part_ouvriere) for r in t["establishment_months"]} == {
        (SIRET_B, None, None, None)
    }
    shutil.rmtree(data / "clean")
    res = publish(data, BATCH, db_url)
    assert all(res.rows[k] == 0 for k in first) and all(v == [] for v in _tables(db_url).values())
