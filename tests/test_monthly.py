"""``signaux-faibles monthly``: input guards, the run log, skipping what is done, and resuming after ``kill -9``.

The kill test runs three monthly batches of a twin, then the fourth one uninterrupted (the reference) and, from
the same starting state, the fourth one killed at each step in turn (and twice at random moments, inside a step)
then run again: the published lists, list changes and score histories must equal the reference's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from signaux_faibles.config import Settings
from signaux_faibles.monthly import STEPS, Refused, check_batch_code, run_monthly

SF = str(Path(sys.executable).parent / "signaux-faibles")


@pytest.mark.parametrize("code", ["9999", "2613", "2600", "26O9", "209", "2701", "3001"])
def test_batch_code_must_be_a_real_month_not_after_this_one(code: str) -> None:
    with pytest.raises(Refused):
        check_batch_code(code, today=dt.date(2026, 12, 5))


def test_batch_code_of_this_month_or_before() -> None:
    assert check_batch_code("2612", today=dt.date(2026, 12, 5)) == dt.date(2026, 12, 1)
    assert check_batch_code("1910", today=dt.date(2026, 12, 5)) == dt.date(2019, 10, 1)


def test_empty_or_unrecognised_folder_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    empty = tmp_path / "2609"
    empty.mkdir()
    res = run_monthly(settings, empty, "2609", log=lambda s: None)
    assert res.exit_code == 2 and "vide" in res.summary[0] and "sigfaible_debits" in res.summary[0]
    (empty / "notes.txt").write_text("bonjour")
    res = run_monthly(settings, empty, "2609", log=lambda s: None)
    assert res.exit_code == 2 and "sans fichier reconnu" in res.summary[0]
    assert not (tmp_path / "data" / "lists").exists()


def _monthly(data: Path, folder: Path, batch: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    e = {**os.environ, "SF_DATA_DIR": str(data), **(env or {})}
    return subprocess.Popen([SF, "monthly", str(folder), "--batch", batch, *extra], env=e, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip


def _run(data: Path, folder: Path, batch: str, *extra: str) -> tuple[int, str]:
    p = _monthly(data, folder, batch, *extra)
    out, _ = p.communicate(timeout=600)
    return p.returncode, out


@pytest.fixture(scope="module")
def three_batches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """A twin with an initial batch and three monthly ones; the first three through ``monthly``."""
    root = tmp_path_factory.mktemp("monthly")
    twin = root / "twin"
    r = subprocess.run([SF, "twin", "--out", str(twin), "--companies", "600", "--months", "36", "--seed", "3",
                        "--monthly-batches", "3"], capture_output=True, text=True, check=False)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    batches = sorted(p.name for p in twin.iterdir() if p.name.isdigit())
    assert len(batches) == 4
    data = root / "data"
    for b in batches[:3]:
        code, out = _run(data, twin / b, b)
        assert code in (0, 1), out  # published (1: with warnings, e.g. the small twin's degenerate thresholds)
    return twin, data, batches


def _snapshot(data: Path) -> dict[str, pd.DataFrame]:
    """What agents see of the lists: lists, scores (the score histories), list changes."""
    with sqlite3.connect(data / "platform.db") as con:
        lists = pd.read_sql("SELECT id, batch, algo, label, periode, threshold_high, threshold_moderate, "
                            "previous_batch FROM lists ORDER BY id", con)  # fmt: skip
        scores = pd.read_sql("SELECT * FROM scores ORDER BY list_id, siren", con)
        changes = pd.read_sql("SELECT * FROM list_changes ORDER BY list_id, siren", con)
    return {"lists": lists, "scores": scores, "changes": changes}


def _same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame], what: str) -> None:
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=False, rtol=1e-9, obj=f"{what}: {name}")


def _wait_running(data: Path, batch: str, step: str, proc: subprocess.Popen[str], timeout: float = 300) -> None:
    path = data / "runs" / batch / "run.json"
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        assert proc.poll() is None, f"the run ended before step {step}: {proc.stdout.read() if proc.stdout else ''}"
        try:
            run = json.loads(path.read_text(encoding="utf-8"))
            if run["started"] and {s["name"]: s["status"] for s in run["steps"]}.get(step) == "running":
                return
        except (FileNotFoundError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"step {step} never started")


def _copy(base: Path, work: Path) -> Path:
    """A copy of the data directory ``base`` (its published symbolic links kept as links), ``work/data``."""
    data = work / "data"
    shutil.copytree(base, data, symlinks=True)
    return data


def _kill_then_rerun(base: Path, folder: Path, batch: str, work: Path, when: Any, extra: tuple[str, ...]) -> Path:
    """From a copy of ``base``: the run of ``batch`` killed (at the start of step ``when``, or after ``when``
    seconds), then run again to the end; returns the data directory."""
    data = work / f"killed-{str(when).replace('.', '-')}"
    shutil.copytree(base, data, symlinks=True)
    if isinstance(when, str):  # paused at the start of the step, then killed
        proc = _monthly(data, folder, batch, *extra, env={"SF_MONTHLY_TEST_PAUSE": f"{when}:60"})
        _wait_running(data, batch, when, proc)
    else:  # somewhere inside a step
        proc = _monthly(data, folder, batch, *extra)
        time.sleep(when)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stdout:
        proc.stdout.close()
    code, out = _run(data, folder, batch, *extra)
    assert code in (0, 1), (when, out)
    run = json.loads((data / "runs" / batch / "run.json").read_text(encoding="utf-8"))
    assert run["status"].startswith("published") and run["exit_code"] == code, (when, run)
    return data


def _reference(base: Path, folder: Path, batch: str, work: Path, extra: tuple[str, ...]) -> tuple[Path, dict[str, pd.DataFrame]]:
    ref = work / f"reference{'-'.join(extra)}"
    shutil.copytree(base, ref, symlinks=True)
    code, out = _run(ref, folder, batch, *extra)
    assert code in (0, 1), out
    return ref, _snapshot(ref)


def test_kill_at_each_step_then_rerun_ends_as_an_uninterrupted_run(
    three_batches: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    twin, base, batches = three_batches
    batch, folder = batches[3], twin / batches[3]
    ref_data, reference = _reference(base, folder, batch, tmp_path, ())
    assert sorted(reference["lists"].batch) == sorted(batches)  # one list per batch
    assert len(reference["changes"][reference["changes"].list_id == reference["lists"].id.max()]) > 0
    # killed at the start of each step (training is not due: the model in service scores), and inside a step
    rng = random.Random(4)
    for when in (*(s for s in STEPS if s != "train"), round(rng.uniform(3, 9), 1)):
        data = _kill_then_rerun(base, folder, batch, tmp_path, when, ())
        _same(reference, _snapshot(data), str(when))
        pd.testing.assert_frame_equal(pd.read_parquet(ref_data / "lists" / batch / "scores.parquet"),
                                      pd.read_parquet(data / "lists" / batch / "scores.parquet"), obj=str(when))  # fmt: skip
        shutil.rmtree(data)
    # the training step, killed while it runs (--retrain makes it due)
    _, retrained = _reference(base, folder, batch, tmp_path, ("--retrain",))
    data = _kill_then_rerun(base, folder, batch, tmp_path, "train", ("--retrain",))
    _same(retrained, _snapshot(data), "train")


def test_rerun_skips_what_is_done_and_from_forces(three_batches: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    twin, base, batches = three_batches
    data, b = _copy(base, tmp_path), batches[2]
    before = _snapshot(data)
    code, out = _run(data, twin / b, b)
    assert code in (0, 1), out
    run = json.loads((data / "runs" / b / "run.json").read_text(encoding="utf-8"))
    assert {s["name"]: s["status"] for s in run["steps"]} == {
        "ingest": "skipped", "panel": "skipped", "train": "skipped", "score": "skipped", "exports": "skipped",
        "publish": "skipped",
    }  # fmt: skip
    assert run["code_version"] and run["started"] and run["ended"]
    _same(before, _snapshot(data), "re-run")
    code, out = _run(data, twin / b, b, "--from", "score")
    assert code in (0, 1), out
    run = json.loads((data / "runs" / b / "run.json").read_text(encoding="utf-8"))
    status = {s["name"]: s["status"] for s in run["steps"]}
    assert [status[s] for s in STEPS] == ["skipped", "skipped", "skipped", "done", "done", "done"]
    assert "publié" in out and "Résumé" in out
    _same(before, _snapshot(data), "--from score")


def test_one_run_at_a_time(three_batches: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    twin, base, batches = three_batches
    data, b = _copy(base, tmp_path), batches[2]
    first = _monthly(data, twin / b, b, "--from", "ingest", env={"SF_MONTHLY_TEST_PAUSE": "ingest:30"})
    _wait_running(data, b, "ingest", first)
    code, out = _run(data, twin / b, b)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    if first.stdout:
        first.stdout.close()
    assert code == 2 and "autre passage mensuel" in out, out


def test_example_settings_file_documents_the_monthly_settings() -> None:
    """``signaux-faibles.example.toml`` is a valid settings file naming every setting of the monthly run."""
    import tomllib

    path = Path(__file__).resolve().parents[1] / "signaux-faibles.example.toml"
    values = tomllib.loads(path.read_text(encoding="utf-8"))
    text = path.read_text(encoding="utf-8")
    Settings(**values)  # type-checked by the settings model
    for key in ("adjustments", "retrain_months", "quarantine_warning_share", "open_regions", "perimeter_filter"):
        assert key in text, key


def test_operations_page_shows_runs_quarantine_and_models(
    three_batches: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    """The national admin's page: the runs, the quarantine by source and reason (downloadable), the models."""
    import csv
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from signaux_faibles.platform import accounts
    from signaux_faibles.platform.models import User
    from signaux_faibles.platform.web import create_app

    _, base, batches = three_batches
    data = _copy(base, tmp_path)
    q = data / "quarantine" / "stg_debit"
    q.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"batch": [batches[2]] * 2, "file": ["sigfaible_debits.csv"] * 2, "source": ["debit"] * 2,
                             "line": [12, 40], "column": [None, "Mt_PO"], "raw_value": ["=1+1;x", "12a"],
                             "reason": ["malformed line", "not a number"], "level": ["row", "field"]}),
                   q / f"{batches[2]}.parquet")  # fmt: skip
    app = create_app(Settings(data_dir=data, secret_key="test-secret-key"))
    with app.state.sessions() as db:
        accounts.add_user(db, "admin@beta.gouv.fr", organisation="Équipe nationale", territory="FR", rights="",
                          role="admin", password="Correct-Horse-9-Battery")  # fmt: skip
        token = accounts.issue_token(db, db.scalars(select(User)).one())
        db.commit()
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    page = client.get("/admin/exploitation")
    assert page.status_code == 200, page.text
    for b in batches[:3]:
        assert f"?lot={b}" in page.text
    assert "publié" in page.text and "en service" in page.text and "not a number" in page.text
    rows = list(csv.reader(io.StringIO(client.get(f"/admin/exploitation/quarantaine/{batches[2]}.csv").text.lstrip("\ufeff")),
                           delimiter=";"))  # fmt: skip
    assert rows[0][:3] == ["Lot", "Fichier", "Source"] and len(rows) == 3
    assert "'=1+1;x" in [c for r in rows for c in r]  # a formula stays text
    app.state.engine.dispose()
