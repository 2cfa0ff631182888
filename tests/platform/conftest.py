"""Fixtures of the platform database tests.

``twin_data``: a small twin, ingested, with its clean relations and panel, and a list following the contract of
``lists/<AAMM>/scores.parquet``. ``db_url``: a fresh database per test, on SQLite (a file) and on PostgreSQL
(127.0.0.1:5432, user postgres; one throwaway database per session, its schema reset for each test). When the
server cannot be reached the PostgreSQL cases fail in CI (``CI=true``) and are skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from needs import unavailable

PG_SERVER = os.environ.get("SF_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
ALERTS = ("Alerte seuil F1", "Alerte seuil F2", "Pas d'alerte")


def _write_list(data_dir: Path, batch: str, seed: int = 0, previous: str | None = None) -> pd.DataFrame:
    """A ``scores.parquet`` (and ``diff.parquet``) following the list contract, for the panel's last month."""
    panel = pd.read_parquet(
        data_dir / "panel" / "company_month", columns=["siren", "periode", "in_perimeter"]
    )
    last = panel.periode.max()
    sirens = np.sort(panel.loc[(panel.periode == last) & panel.in_perimeter.fillna(False), "siren"].unique())
    ul = pd.read_parquet(data_dir / "clean" / "clean_sirene_ul", columns=["siren", "siret_siege"])
    siege = dict(zip(ul.siren, ul.siret_siege, strict=True))
    rng = np.random.default_rng(seed)
    p = rng.beta(0.5, 8, size=len(sirens))
    alert = np.where(p > 0.3, ALERTS[0], np.where(p > 0.1, ALERTS[1], ALERTS[2]))
    alerted = alert != ALERTS[2]
    month = pd.Timestamp(last).date().replace(day=1)
    df = pd.DataFrame({
        "siren": sirens.astype(str),
        "siret": [siege.get(s) for s in sirens],
        "periode": month,
        "batch": batch,
        "algo": "lightgbm-test",
        "id_liste": f"Liste {batch}",
        "probability": p,
        "probability_3m": p * 0.2,  # the term structure (issue 19)
        "probability_6m": p * 0.4,
        "probability_12m": p * 0.7,
        "alert": alert,
        "alert_pre_adjustment": alert,
        "adjustments": ["[]" if i % 7 else json.dumps(["urssaf_2021"]) for i in range(len(sirens))],
        "threshold_high": 0.3,
        "threshold_moderate": 0.1,
        "base_probability": 0.05,
        "macro_expl": [json.dumps({"dette URSSAF": float(x), "emploi": -0.1}) for x in p],
        "micro_expl": [json.dumps({"ratio_dette": float(x)}) if a else None for x, a in zip(p, alerted, strict=True)],
        "what_if": [json.dumps({"dette URSSAF": float(x) / 2}) if a else None for x, a in zip(p, alerted, strict=True)],
        "first_alert": alerted,
        "first_high_alert": alert == ALERTS[0],
        "hausse_urssaf": rng.uniform(size=len(sirens)) < 0.1,
        "ap_12m": rng.uniform(size=len(sirens)) < 0.05,
        "etat_proc_collective": None,
        "dette_urssaf": np.where(rng.uniform(size=len(sirens)) < 0.2, rng.uniform(0, 1e5, len(sirens)), np.nan),
    })  # fmt: skip
    df = df.sort_values("probability", ascending=False).reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1, dtype=np.int64)
    folder = data_dir / "lists" / batch
    folder.mkdir(parents=True, exist_ok=True)
    df.to_parquet(folder / "scores.parquet", index=False)
    diff = df.loc[df.alert != ALERTS[2], ["siren", "alert"]].assign(
        alert_previous=None, change="entrée", previous_batch=previous
    )
    diff[["siren", "alert_previous", "alert", "change", "previous_batch"]].astype(object).to_parquet(
        folder / "diff.parquet", index=False
    )
    return df


@pytest.fixture(scope="session")
def twin_data(
    tmp_path_factory: pytest.TempPathFactory, twin_builder: Callable[[Path, int, int, int], tuple[Path, str]]
) -> tuple[Path, str]:
    """A twin of 300 companies × 24 months, ingested, clean relations and panel, and a list: ``(data dir, batch)``."""
    data, batch = twin_builder(tmp_path_factory.mktemp("platform_twin") / "data", 300, 24, 7)
    _write_list(data, batch)
    return data, batch


@pytest.fixture(scope="session")
def write_list() -> Callable[..., pd.DataFrame]:
    """``write_list(data_dir, batch, seed=0, previous=None)``: a list following the contract (see ``_write_list``)."""
    return _write_list


def _pg_admin_url() -> str:
    return f"{PG_SERVER}/postgres"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for the session, dropped at the end."""
    from sqlalchemy import create_engine, text

    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text("SELECT 1"))
    except Exception as e:  # the server is not there
        admin.dispose()
        unavailable(f"PostgreSQL at {PG_SERVER}", f"unreachable: {type(e).__name__}")
    name = f"sf_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or the session's PostgreSQL database with its schema reset."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'platform.db'}"
    from sqlalchemy import create_engine

    url: str = request.getfixturevalue("pg_url")
    engine = create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql("DROP SCHEMA public CASCADE")
        c.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


# ------------------------------------------------------------------------------------------ web application

#: The seeded companies: (siren, [(siret, département, région)], alert on the list or None).
SEED_COMPANIES = {
    "in_alerted": ("111111111", [("11111111100011", "21", "27")], "Alerte seuil F1"),
    "in_quiet": ("222222222", [("22222222200011", "21", "27")], "Pas d'alerte"),
    "out_alerted": ("333333333", [("33333333300011", "75", "11")], "Alerte seuil F2"),
    "out_followed": ("444444444", [("44444444400011", "75", "11")], "Pas d'alerte"),
    "both_alerted": (
        "555555555",
        [("55555555500011", "75", "11"), ("55555555500029", "21", "27")],
        "Alerte seuil F1",
    ),
    "closed_region": ("666666666", [("66666666600011", "13", "93")], "Alerte seuil F1"),
}
#: The seeded accounts: kind -> (e-mail, organisation, territory, rights, role).
SEED_USERS = {
    "agent_a": ("agent.a@urssaf.fr", "URSSAF", "21", "score,urssaf,dgefp,bdf", "agent"),
    "agent_b": ("agent.b@urssaf.fr", "URSSAF", "75", "score,urssaf,dgefp,bdf", "agent"),
    "no_rights": ("sans.droit@dreets.gouv.fr", "DREETS/DDETS", "21", "", "agent"),
    "org_admin": ("admin.a@urssaf.fr", "URSSAF", "21", "score", "org-admin"),
    "admin": ("admin@beta.gouv.fr", "Équipe nationale", "FR", "", "admin"),
}
SEED_PASSWORD = "Correct-Horse-9-Battery"


def seed_platform(url: str) -> dict[str, int]:
    """A small platform database: the companies and accounts above, one list, agent A follows ``out_followed``.

    The platform is open in régions 27 and 11 only (``closed_region`` is in 93). Returns the users' ids by kind.
    """
    import datetime as dt

    from signaux_faibles.platform import accounts
    from signaux_faibles.platform import db as platform_db
    from signaux_faibles.platform.models import Company, CompanyMonth, Establishment, List, Score

    engine = platform_db.get_engine(url)
    platform_db.upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    with platform_db.sessions(engine)() as db:
        li = List(batch="2609", algo="test", label="Septembre 2026", periode=dt.date(2026, 9, 1), published_at=now,
                  threshold_high=0.3, threshold_moderate=0.1)  # fmt: skip
        db.add(li)
        db.flush()
        for rank, (kind, (siren, etabs, alert)) in enumerate(SEED_COMPANIES.items(), start=1):
            d0, r0 = etabs[0][1], etabs[0][2]
            db.add(Company(siren=siren, raison_sociale=f"SOCIETE {kind.upper()}", departement=d0, region=r0,
                           siret_siege=etabs[0][0], snapshot_batch="2609", libelle_activite_principale="Test"))  # fmt: skip
            db.flush()
            for siret, d, r in etabs:
                db.add(Establishment(siret=siret, siren=siren, departement=d, region=r, siege=siret == etabs[0][0],
                                     snapshot_batch="2609", est_actif=True))  # fmt: skip
            for m in range(1, 10):
                db.add(CompanyMonth(siren=siren, periode=dt.date(2026, m, 1), cotisation=1000.0 * m, effectif=10,
                                    montant_part_ouvriere=50.0 * m, montant_part_patronale=100.0 * m,
                                    apart_heures_autorisees=20.0))  # fmt: skip
            p = {"Alerte seuil F1": 0.5, "Alerte seuil F2": 0.2}.get(alert, 0.01)
            db.add(Score(list_id=li.id, siren=siren, siret=etabs[0][0], algo="test", rank=rank, probability=p,
                         alert=alert, alert_pre_adjustment=alert, adjustments=[], first_alert=alert != "Pas d'alerte",
                         first_high_alert=alert == "Alerte seuil F1", base_probability=0.01,
                         macro_expl={"dette URSSAF": p - 0.01}, what_if={"dette URSSAF": p / 2},
                         dette_urssaf=1234.0, hausse_urssaf=True, ap_12m=False,
                         probability_3m=p * 0.15, probability_6m=p * 0.35, probability_12m=p * 0.7))  # fmt: skip
        ids = {}
        for kind, (email, org, territory, rights, role) in SEED_USERS.items():
            u = accounts.add_user(db, email, organisation=org, territory=territory, rights=rights, role=role,
                                  password=SEED_PASSWORD)  # fmt: skip
            ids[kind] = u.id
        accounts.follow(
            db, db.get(accounts.User, ids["agent_a"]), SEED_COMPANIES["out_followed"][0], "Veille"
        )  # type: ignore[attr-defined]
        accounts.close_regions(db, "FR")
        accounts.open_region_codes(db, "R27,R11", by="test")
        db.commit()
    engine.dispose()
    return ids


def seed_history(url: str) -> None:
    """An earlier list (August 2026, id 2) for the seeded companies, and list 1's changes against it."""
    import datetime as dt

    from signaux_faibles.platform import db as platform_db
    from signaux_faibles.platform.models import List, ListChange, Score

    engine = platform_db.get_engine(url)
    with platform_db.sessions(engine)() as db:
        li = List(batch="2608", algo="test", label="Août 2026", periode=dt.date(2026, 8, 1),
                  published_at=dt.datetime.now(dt.UTC), threshold_high=0.3, threshold_moderate=0.1)  # fmt: skip
        db.add(li)
        db.flush()
        before = {"in_alerted": "Alerte seuil F2", "in_quiet": "Alerte seuil F2", "both_alerted": "Alerte seuil F1"}
        for rank, (kind, alert) in enumerate(before.items(), start=1):
            siren, etabs, now = SEED_COMPANIES[kind]
            db.add(Score(list_id=li.id, siren=siren, siret=etabs[0][0], algo="test", rank=rank,
                         probability={"Alerte seuil F1": 0.4, "Alerte seuil F2": 0.15}[alert], alert=alert,
                         alert_pre_adjustment=alert, adjustments=[], first_alert=True,
                         first_high_alert=alert == "Alerte seuil F1"))  # fmt: skip
            change = "hausse" if now == "Alerte seuil F1" and alert == "Alerte seuil F2" else (
                "sortie" if now == "Pas d'alerte" else None)  # fmt: skip
            if change:
                db.add(ListChange(list_id=1, siren=siren, alert_previous=alert,
                                  alert=None if change == "sortie" else now, change=change, previous_batch="2608"))  # fmt: skip
        db.add(ListChange(list_id=1, siren=SEED_COMPANIES["out_alerted"][0], alert_previous=None,
                          alert="Alerte seuil F2", change="entrée", previous_batch="2608"))  # fmt: skip
        db.get(List, 1).previous_batch = "2608"  # type: ignore[union-attr]
        db.commit()
    engine.dispose()


@pytest.fixture
def seeded(db_url: str) -> tuple[str, dict[str, int]]:
    """``(database URL, user ids by kind)`` of a fresh seeded platform database (SQLite and PostgreSQL)."""
    return db_url, seed_platform(db_url)


@pytest.fixture
def web_app(seeded: tuple[str, dict[str, int]], tmp_path: Path) -> Any:
    """The platform application on the seeded database."""
    from signaux_faibles.config import Settings
    from signaux_faibles.platform.web import create_app

    app = create_app(
        Settings(data_dir=tmp_path / "data", database_url=seeded[0], secret_key="test-secret-key")
    )
    yield app
    app.state.engine.dispose()
