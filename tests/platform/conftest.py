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
from seed import seed_platform

from needs import unavailable
from signaux_faibles.contract import ALERT_LEVELS

PG_SERVER = os.environ.get("SF_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


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
    alert = np.where(p > 0.3, ALERT_LEVELS[0], np.where(p > 0.1, ALERT_LEVELS[1], ALERT_LEVELS[2]))
    alerted = alert != ALERT_LEVELS[2]
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
        "first_high_alert": alert == ALERT_LEVELS[0],
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
    diff = df.loc[df.alert != ALERT_LEVELS[2], ["siren", "alert"]].assign(
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
