"""``signaux-faibles publish``: contents, history and re-publication, atomicity under ``kill -9``, migrations.

Every test runs on SQLite and on PostgreSQL (see ``conftest.py``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from signaux_faibles.platform import models as m
from signaux_faibles.platform.store.db import current_revision, get_engine, head_revision, sessions, upgrade
from signaux_faibles.platform.store.publish import PUBLISH_TEST_PAUSE, publish

WriteList = Callable[..., pd.DataFrame]


def _data_dir(tmp: Path, twin: tuple[Path, str], keep: float = 1.0) -> Path:
    """A data directory sharing the twin's clean relations; its panel keeps the first ``keep`` share of SIRENs."""
    src, _ = twin
    data = tmp / f"data_{int(keep * 100)}"
    (data / "panel" / "company_month").mkdir(parents=True)
    (data / "clean").symlink_to(src / "clean")
    panel = pd.read_parquet(src / "panel" / "company_month")
    if keep < 1.0:
        sirens = sorted(panel.siren.unique())
        panel = panel[panel.siren.isin(sirens[: int(len(sirens) * keep)])]
    panel.to_parquet(data / "panel" / "company_month" / "part-00000.parquet", index=False)
    return data


def _state(url: str) -> dict[str, Any]:
    """What a reader sees: counts per table, the lists, a checksum of the series and of the scores."""
    engine = get_engine(url)
    try:
        with engine.connect() as c:
            counts = {
                t.name: c.execute(select(func.count()).select_from(t)).scalar_one()
                for t in m.Base.metadata.sorted_tables
            }
            lists = c.execute(select(m.List.id, m.List.batch, m.List.algo).order_by(m.List.id)).all()
            cotis = c.execute(select(func.sum(m.CompanyMonth.cotisation))).scalar_one()
            proba = c.execute(select(func.sum(m.Score.probability))).scalar_one()
    finally:
        engine.dispose()
    return {"counts": counts, "lists": [tuple(r) for r in lists], "cotisation": cotis, "probability": proba}


def test_publish_contents(db_url: str, twin_data: tuple[Path, str]) -> None:
    data, batch = twin_data
    res = publish(data, batch, db_url)
    panel = pd.read_parquet(data / "panel" / "company_month")
    scores = pd.read_parquet(data / "lists" / batch / "scores.parquet")
    diff = pd.read_parquet(data / "lists" / batch / "diff.parquet")
    assert res.rows["company_months"] == len(panel)
    assert res.rows["scores"] == len(scores)
    assert res.rows["list_changes"] == len(diff)
    sirene = pd.read_parquet(data / "clean" / "clean_sirene_ul", columns=["siren"])
    assert res.rows["companies"] == len(set(panel.siren) | set(scores.siren) | set(sirene.siren))
    assert (
        res.rows["establishments"] > 0 and res.rows["diane_statements"] > 0 and res.rows["procol_events"] > 0
    )
    engine = get_engine(db_url)
    try:
        assert current_revision(engine) == head_revision()
        with sessions(engine)() as s:
            lst = s.execute(select(m.List)).scalar_one()
            assert (lst.batch, lst.algo, lst.label) == (batch, "lightgbm-test", f"Liste {batch}")
            assert lst.periode == scores.periode.iloc[0]
            top = (
                s.execute(select(m.Score).where(m.Score.list_id == lst.id).order_by(m.Score.rank))
                .scalars()
                .first()
            )
            assert top is not None
            row = scores.iloc[0]
            assert (top.siren, top.rank, top.alert) == (row.siren, 1, row.alert)
            assert top.probability == pytest.approx(row.probability)
            assert (top.probability_3m, top.probability_6m, top.probability_12m) == pytest.approx(
                (row.probability_3m, row.probability_6m, row.probability_12m)
            )
            assert top.macro_expl == json.loads(row.macro_expl)
            assert top.micro_expl == json.loads(row.micro_expl)
            assert isinstance(top.adjustments, list)
            # series equal the panel's, SIREN by SIREN
            siren = panel.groupby("siren").cotisation.count().idxmax()
            got = s.execute(
                select(m.CompanyMonth.periode, m.CompanyMonth.cotisation, m.CompanyMonth.effectif)
                .where(m.CompanyMonth.siren == siren)
                .order_by(m.CompanyMonth.periode)
            ).all()
            want = panel[panel.siren == siren].sort_values("periode")
            assert [r.periode for r in got] == list(want.periode)
            assert [float("nan") if r.cotisation is None else r.cotisation for r in got] == pytest.approx(
                list(want.cotisation.astype(float)), nan_ok=True
            )
            # identity and head office
            company = s.get(m.Company, row.siren)
            assert company is not None and company.raison_sociale
            assert company.siret_siege is None or s.get(m.Establishment, company.siret_siege) is not None
            assert s.execute(select(func.count()).select_from(m.Publication)).scalar_one() == 1
    finally:
        engine.dispose()


def test_history_and_republication(
    db_url: str, twin_data: tuple[Path, str], tmp_path: Path, write_list: WriteList
) -> None:
    data = _data_dir(tmp_path, twin_data)
    write_list(data, "2607", seed=1)
    write_list(data, "2608", seed=2, previous="2607")
    first = publish(data, "2607", db_url)
    second = publish(data, "2608", db_url)
    assert first.list_id != second.list_id
    before = _state(db_url)
    assert before["lists"] == [
        (first.list_id, "2607", "lightgbm-test"),
        (second.list_id, "2608", "lightgbm-test"),
    ]
    # re-publishing a batch replaces its list (same id), the other list stays
    new = write_list(data, "2607", seed=3)
    again = publish(data, "2607", db_url)
    assert again.list_id == first.list_id
    after = _state(db_url)
    assert after["lists"] == before["lists"]
    assert after["counts"]["scores"] == before["counts"]["scores"]
    assert after["counts"]["publications"] == 3
    engine = get_engine(db_url)
    try:
        with engine.connect() as c:
            got = dict(
                c.execute(
                    select(m.Score.siren, m.Score.probability).where(m.Score.list_id == first.list_id)
                ).all()
            )
            prev = (
                c.execute(select(m.ListChange.previous_batch).where(m.ListChange.list_id == second.list_id))
                .scalars()
                .first()
            )
    finally:
        engine.dispose()
    assert got == pytest.approx(dict(zip(new.siren, new.probability, strict=True)))
    assert prev == "2607"


def test_kill_during_publication_leaves_previous_state(
    db_url: str, twin_data: tuple[Path, str], tmp_path: Path, write_list: WriteList
) -> None:
    """A publication killed (SIGKILL) inside its transaction: readers see the previous state, before and after."""
    small = _data_dir(tmp_path, twin_data, keep=0.5)  # the previous state: half the companies
    write_list(small, "2608", seed=1)
    publish(small, "2608", db_url)
    previous = _state(db_url)
    full = _data_dir(tmp_path, twin_data)  # the killed publication: every company, another list
    write_list(full, "2609", seed=2)
    marker = tmp_path / "paused"
    env = {**os.environ, PUBLISH_TEST_PAUSE: str(marker)}
    code = f"from signaux_faibles.platform.store.publish import publish; publish({str(full)!r}, '2609', {db_url!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the publication ended before its pause"
            assert time.monotonic() < deadline, "the publication never reached its pause"
            time.sleep(0.1)
        # inside the transaction: companies upserted, series deleted, company_months partly inserted
        assert _state(db_url) == previous
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _state(db_url) == previous
    # the database is usable: the next publication goes through (lock released, SQLite journal recovered)
    res = publish(full, "2609", db_url)
    after = _state(db_url)
    assert (
        after["counts"]["company_months"] == res.rows["company_months"] > previous["counts"]["company_months"]
    )
    assert [r[1] for r in after["lists"]] == ["2608", "2609"]


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = get_engine(db_url)
    try:
        upgrade(engine)
        with engine.connect() as c:
            diffs = compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), m.Base.metadata
            )
        assert diffs == []
        if engine.dialect.name == "postgresql":  # the name search's trigram index (migrations 0004, 0009)
            with engine.connect() as c:
                found = c.exec_driver_sql(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_companies_raison_sociale_folded'"
                ).scalar()
            assert found is not None and "gin" in found and "gin_trgm_ops" in found
        from alembic import command

        from signaux_faibles.platform.store.db import _alembic_config

        with engine.begin() as c:
            command.downgrade(_alembic_config(c), "base")
        with engine.connect() as c:
            left = [t for t in m.Base.metadata.tables if c.dialect.has_table(c, t)]
        assert left == []
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_cli_publish_default_sqlite(
    twin_data: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_list: WriteList
) -> None:
    from signaux_faibles.cli import app

    data = _data_dir(tmp_path, twin_data)
    write_list(data, "2609")
    monkeypatch.setenv("SF_DATA_DIR", str(data))
    monkeypatch.delenv("SF_DATABASE_URL", raising=False)
    monkeypatch.setenv("SF_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("SF_DUCKDB_MEMORY_LIMIT", "300MB")  # the setting bounds the publication's DuckDB too
    result = CliRunner().invoke(app, ["publish", "--batch", "2609"])
    assert result.exit_code == 0, result.output
    assert (data / "platform.db").is_file()
    assert not list(data.glob(".publish-spill-*"))
    assert "Liste 2609" in result.output
    missing = CliRunner().invoke(app, ["publish", "--batch", "2610"])
    assert missing.exit_code == 2 and "score" in missing.output


@pytest.mark.parametrize(
    "breakage",
    ["duplicate", "alert", "nan_json", "missing_column"],
)
def test_list_contract_checked_before_writing(
    breakage: str, twin_data: tuple[Path, str], tmp_path: Path, write_list: WriteList
) -> None:
    data = _data_dir(tmp_path, twin_data)
    df = write_list(data, "2609")
    if breakage == "duplicate":
        df = pd.concat([df, df.head(1)])
    elif breakage == "alert":
        df.loc[0, "alert"] = "Alerte"
    elif breakage == "nan_json":
        df.loc[0, "macro_expl"] = '{"emploi": NaN}'
    else:
        df = df.drop(columns="what_if")
    df.to_parquet(data / "lists" / "2609" / "scores.parquet", index=False)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    with pytest.raises(ValueError):
        publish(data, "2609", url)
    assert not (tmp_path / "p.db").exists()
    assert not list(data.glob(".publish-spill-*"))  # the DuckDB spill folder removed on every path
