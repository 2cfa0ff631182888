"""``signaux-faibles monthly DIR --batch AAMM``: the monthly cycle in one command, resumable, logged.

Steps, in order: **ingest** the batch folder → build the **panel** → **train** when due (no model yet, the model in
service at least ``retrain_months`` old, or ``--retrain``) → **score** the list (with the adjustments in force,
from the settings) → write the **exports** (sf-json, CSV, XLSX under ``DATA_DIR/exports/<AAMM>/``) → **publish**
to the platform database.

Each step records its outcome in the run log ``DATA_DIR/runs/<AAMM>/run.json`` (written atomically after every
change): status, start and end, a **fingerprint** of its inputs, counts, warnings; the run records its code
version and exit code. A re-run skips each step already done with the same fingerprint (its inputs unchanged:
the batch folder's files, the outputs of the steps before it, the settings that matter to it) and whose outputs
are still there; a step that changes makes every step after it run again. ``--from STEP`` forces that step and
those after it. Every step writes its outputs atomically (a complete new version replaces the old one in one
``rename``, or one database transaction), so a run killed anywhere (even ``kill -9``) and started again ends in
the state an uninterrupted run gives.

One run at a time per data directory: a second one is refused while the first holds ``runs/.lock``.

Exit codes: **0** published; **1** published with warnings that need a look (a file in error, a quarantine
above ``quarantine_warning_share``, a source missing from the batch, degenerate thresholds); **2** refused,
nothing published (a bad batch code, an empty or unrecognised folder, a failed step, another run in progress).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .config import Settings
from .layout import DataDir, batch_month

__all__ = ["STEPS", "MonthlyResult", "RunLog", "check_batch_code", "run_monthly"]

STEPS = ("ingest", "panel", "train", "score", "exports", "publish")
EXPORTS = (("sf-json", "liste_{batch}.json"), ("csv", "liste_{batch}.csv"), ("xlsx", "liste_{batch}.xlsx"))
PARIS = ZoneInfo("Europe/Paris")
#: A pause in seconds at the start of each step, for the kill tests (``SF_MONTHLY_TEST_PAUSE=step:seconds``).
TEST_PAUSE = "SF_MONTHLY_TEST_PAUSE"


class Refused(Exception):
    """The run cannot go on; nothing (more) is published. The message is for the operator, in French."""


def check_batch_code(batch: str, today: dt.date | None = None) -> dt.date:
    """``AAMM`` → the batch's month; a real month (01–12), not after the current one (Europe/Paris)."""
    m = re.fullmatch(r"(\d{2})(\d{2})", batch)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise Refused(
            f"code de lot {batch!r} invalide : attendu AAMM, un mois réel (par exemple 2609 pour septembre 2026)"
        )
    month = dt.date(2000 + int(m.group(1)), int(m.group(2)), 1)
    today = today or dt.datetime.now(PARIS).date()
    if month > today.replace(day=1):
        raise Refused(
            f"code de lot {batch} : le mois {month:%m/%Y} est postérieur au mois en cours ({today:%m/%Y})"
        )
    return month


@dataclass
class Step:
    name: str
    status: str = "pending"  # pending, running, done, skipped, not_due, failed
    started: str | None = None
    ended: str | None = None
    fingerprint: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    message: str | None = None


@dataclass
class RunLog:
    """``runs/<AAMM>/run.json``: the run's steps and outcome, rewritten atomically at every change."""

    path: Path
    batch: str
    directory: str
    code_version: str
    started: str
    ended: str | None = None
    status: str = "running"  # running, published, published_with_warnings, refused
    exit_code: int | None = None
    steps: dict[str, Step] = field(default_factory=dict)
    previous: dict[str, Step] = field(default_factory=dict)  # the last run's steps (what may be skipped)

    @classmethod
    def start(cls, data_dir: Path, batch: str, directory: Path) -> RunLog:
        path = DataDir(data_dir).run_journal(batch)
        previous: dict[str, Step] = {}
        if path.is_file():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                old = json.loads(path.read_text(encoding="utf-8"))
                previous = {s["name"]: Step(**s) for s in old.get("steps", [])}
        log = cls(path, batch, str(directory), code_version(), _now(), previous=previous)
        log.steps = {name: Step(name) for name in STEPS}
        log.save()
        return log

    def warnings(self) -> list[str]:
        return [f"{s.name} : {w}" for s in self.steps.values() for w in s.warnings]

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "directory": self.directory,
            "code_version": self.code_version,
            "started": self.started,
            "ended": self.ended,
            "status": self.status,
            "exit_code": self.exit_code,
            "warnings": self.warnings(),
            "steps": [asdict(s) for s in self.steps.values()],
        }

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(self.as_dict(), fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.path)


@dataclass
class MonthlyResult:
    exit_code: int
    log: RunLog
    summary: list[str]


def _now() -> str:
    return dt.datetime.now(PARIS).isoformat(timespec="seconds")


def code_version() -> str:
    """The package version, and the git commit when the code runs from a clone."""
    from . import __version__

    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
            check=False,
        )
        sha = out.stdout.strip() if out.returncode == 0 else ""
    except OSError:
        sha = ""
    return f"{__version__}+{sha}" if sha else __version__


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def _files_digest(paths: list[Path]) -> str:
    """The files' names, sizes and modification times (a changed delivery changes it; contents are not read)."""
    return _digest([(p.name, (st := p.stat()).st_size, st.st_mtime_ns) for p in sorted(paths) if p.is_file()])


@contextlib.contextmanager
def _lock(data_dir: Path) -> Iterator[None]:
    path = DataDir(data_dir).run_lock
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Refused(
                "un autre passage mensuel est en cours sur ce répertoire de données (runs/.lock)"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _pause(step: str) -> None:
    spec = os.environ.get(TEST_PAUSE, "")
    if spec.startswith(f"{step}:"):
        time.sleep(float(spec.split(":", 1)[1]))


# ------------------------------------------------------------------------------------------------- the steps


class Monthly:
    """One run: the settings, the batch, the log; one method per step returning (fingerprint-ready) counts."""

    def __init__(
        self,
        settings: Settings,
        directory: Path,
        batch: str,
        *,
        retrain: bool,
        engine: str | None,
        log: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.paths = DataDir(self.data_dir)
        self.directory = Path(directory)
        self.batch = batch
        self.retrain = retrain
        self.engine = engine
        self.say = log
        self.files = sorted(p for p in self.directory.iterdir() if p.is_file() or p.is_symlink())

    # inputs of each step, for its fingerprint -----------------------------------------------------------
    def inputs(self, step: str, before: dict[str, str | None]) -> Any:
        s = self.settings
        if step == "ingest":
            return (self.batch, _files_digest(self.files), s.perimeter_filter)
        if step == "panel":
            return (before["ingest"], self.engine or s.engine)
        if step == "train":
            return (before["panel"], self.retrain)
        if step == "score":
            return (before["panel"], before["train"], self._model_stamp(), sorted(s.adjustments))
        if step == "exports":
            return (before["score"],)
        return (before["score"], s.database_url, s.open_regions)

    def outputs_exist(self, step: str) -> bool:
        """The step's outputs are there, for this batch (a later batch's panel is not this one's)."""
        exports = [self.paths.exports(self.batch) / n.format(batch=self.batch) for _, n in EXPORTS]
        checks: dict[str, Callable[[], bool]] = {
            "ingest": lambda: bool(self._import_log()),
            "panel": self._panel_is_this_batch,
            "train": lambda: self._model_path() is not None,
            "score": lambda: (self.paths.list(self.batch) / "scores.parquet").is_file(),
            "exports": lambda: all(p.is_file() for p in exports),
            "publish": self._published,
        }
        return checks[step]()

    def _panel_is_this_batch(self) -> bool:
        import duckdb

        folder = self.paths.panel
        if not folder.is_dir():
            return False
        with duckdb.connect() as con:
            last = con.execute(f"SELECT max(periode) FROM read_parquet('{folder}/*.parquet')").fetchone()
        return last is not None and last[0] == batch_month(self.batch).to_timestamp().date()

    def _published(self) -> bool:
        from sqlalchemy import select

        from .platform.models import List
        from .platform.store import db as platform_db

        url = platform_db.resolve_url(self.settings.database_url, self.data_dir)
        engine = platform_db.get_engine(url)
        try:
            with platform_db.sessions(engine)() as db:
                return db.scalar(select(List.id).where(List.batch == self.batch).limit(1)) is not None
        except Exception:  # no database or no schema yet: not published
            return False
        finally:
            engine.dispose()

    def _model_path(self) -> Path | None:
        try:
            return self.paths.model_for(self.batch)
        except FileNotFoundError:
            return None

    def _model_stamp(self) -> Any:
        p = self._model_path()
        return None if p is None else (str(p.relative_to(self.data_dir)), p.stat().st_size, p.stat().st_mtime_ns)

    # the steps ------------------------------------------------------------------------------------------
    def ingest(self, step: Step) -> None:
        from .ingest import run_ingest

        code = run_ingest(
            self.directory, self.batch, self.settings, no_filter=not self.settings.perimeter_filter,
            engine=self.engine,
        )
        if code == 2:
            raise Refused("l'ingestion a refusé le lot (voir les messages ci-dessus)")
        rows = self._import_log()
        if not rows:
            raise Refused("l'ingestion n'a enregistré aucun fichier pour ce lot")
        step.counts = {
            "files": len(rows),
            "read": sum(r["read"] or 0 for r in rows),
            "accepted": sum(r["accepted"] or 0 for r in rows),
            "quarantined": sum(r["quarantined"] or 0 for r in rows),
            "filtered": sum(r["filtered"] or 0 for r in rows),
            "by_source": {
                r["source"] or r["file"]: {k: r[k] for k in ("read", "accepted", "quarantined", "status")}
                for r in rows
            },
        }
        for r in rows:
            if r["status"] == "error":
                step.warnings.append(f"fichier en erreur : {r['file']} ({r['message']})")
            elif r["read"] and (r["quarantined"] or 0) / r["read"] > self.settings.quarantine_warning_share:
                share = r["quarantined"] / r["read"]
                step.warnings.append(
                    f"{r['file']} : {_fr_pct(share)} des lignes en quarantaine "
                    f"(seuil {_fr_pct(self.settings.quarantine_warning_share)})"
                )
        seen = {r["source"] for r in rows if r["source"]}
        usual = self._previous_sources()
        for name in sorted(usual - seen):
            step.warnings.append(f"source absente du lot (livrée au lot précédent) : {name}")

    def _previous_sources(self) -> set[str]:
        """The sources of the latest earlier batch in the import log (what the partners usually deliver)."""
        import pyarrow.parquet as pq

        path = self.paths.import_log
        if not path.exists():
            return set()
        rows = pq.read_table(path, columns=["batch", "source", "status"]).to_pylist()
        earlier = sorted({r["batch"] for r in rows if r["batch"] < self.batch})
        if not earlier:
            return set()
        return {
            r["source"] for r in rows if r["batch"] == earlier[-1] and r["source"] and r["status"] != "error"
        }

    def _import_log(self) -> list[dict[str, Any]]:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        path = self.paths.import_log
        if not path.exists():
            return []
        t = pq.read_table(path)
        return t.filter(pc.equal(t.column("batch"), self.batch)).to_pylist()

    def panel(self, step: Step) -> None:
        from .panel import run_panel

        code = run_panel(self.settings, self.batch, None, None, self.engine, None)
        if code:
            raise Refused(f"le panel n'a pas pu être construit (code {code})")
        import pyarrow.dataset as ds

        step.counts = {
            "rows": ds.dataset(self.paths.panel, format="parquet").count_rows()
        }

    def train_due(self) -> tuple[bool, str]:
        path = self._model_path()
        if self.retrain:
            return True, "réentraînement demandé (--retrain)"
        if path is None:
            return True, "aucun modèle en service"
        age = (batch_month(self.batch) - batch_month(path.parent.name)).n
        if age >= self.settings.retrain_months:
            return (
                True,
                f"modèle du lot {path.parent.name} âgé de {age} mois (seuil {self.settings.retrain_months})",
            )
        return (
            False,
            f"modèle du lot {path.parent.name} en service ({age} mois, réentraînement à {self.settings.retrain_months})",
        )

    def train(self, step: Step) -> None:
        from .model.train import run_train

        due, why = self.train_due()
        step.message = why
        if not due:
            step.status = "not_due"
            return
        try:
            out = run_train(self.data_dir, self.batch, log=self.say)
        except (ValueError, FileNotFoundError) as e:
            raise Refused(f"l'entraînement a échoué : {e}") from e
        step.counts = {"model": str(Path("models") / self.batch)}
        selected = (out.metrics.get("selection") or {}).get("selected", out.model.kind)
        published = out.metrics.get(selected, {})
        fallback = (published.get("list_model", {}).get("thresholds") or published.get("thresholds") or {}).get("fallback")
        step.counts["selected"] = selected
        if fallback:
            step.warnings.append(f"seuils dégénérés ({selected}), règle de repli appliquée : {fallback}")

    def score(self, step: Step) -> None:
        from .lists.score import score as run_score

        try:
            res = run_score(
                self.data_dir,
                self.batch,
                adjustments=list(self.settings.adjustments),
                engine=self.engine or self.settings.engine,
                chunk_companies=self.settings.score_chunk_companies,
                log=self.say,
            )
        except (ValueError, FileNotFoundError) as e:
            raise Refused(f"la liste n'a pas pu être calculée : {e}") from e
        s = res.summary
        step.counts = {
            "companies": s["companies"],
            "alerts": s["alerts"],
            "diff": s.get("diff", {}),
            "previous_batch": s.get("previous_batch"),
            "id_liste": s["id_liste"],
        }
        fallback = (s.get("thresholds") or {}).get("fallback")
        if fallback:
            step.warnings.append(f"seuils dégénérés, règle de repli appliquée : {fallback}")

    def exports(self, step: Step) -> None:
        from .lists.export import export_list

        out = self.paths.exports(self.batch)
        for fmt, name in EXPORTS:
            export_list(self.data_dir, self.batch, fmt, out / name.format(batch=self.batch))  # type: ignore[arg-type]
        step.counts = {"folder": str(out)}

    def publish(self, step: Step) -> None:
        from sqlalchemy.exc import OperationalError

        from .platform.store.publish import publish as run_publish

        try:
            res = run_publish(
                self.data_dir, self.batch, self.settings.database_url, log=self.say,
                memory_limit=self.settings.duckdb_memory_limit,
            )  # fmt: skip
        except (ValueError, FileNotFoundError, OperationalError) as e:
            raise Refused(f"la publication a échoué : {e}") from e
        if self.settings.open_regions:
            self._apply_open_regions()
        step.counts = {"list_id": res.list_id, "label": res.label, "rows": res.rows}

    def _apply_open_regions(self) -> None:
        from .platform import accounts
        from .platform.store import db as platform_db

        engine = platform_db.get_engine(platform_db.resolve_url(self.settings.database_url, self.data_dir))
        try:
            with platform_db.sessions(engine)() as db:
                wanted = set(accounts._region_codes(self.settings.open_regions or ""))
                have = accounts.open_regions(db)
                if have - wanted:
                    accounts.close_regions(db, ",".join(sorted(have - wanted)))
                if wanted - have:
                    accounts.open_region_codes(db, ",".join(sorted(wanted - have)), by="monthly")
                db.commit()
        finally:
            engine.dispose()


def _fr_pct(x: float) -> str:
    from babel.numbers import format_percent

    return format_percent(x, "#,##0.0 %", locale="fr_FR")


def _fr_int(n: int) -> str:
    from babel.numbers import format_decimal

    return format_decimal(n, locale="fr_FR")


def _check_folder(directory: Path) -> None:
    """An existing folder holding at least one file a source recognises; else the list of what is expected."""
    from .sources.registry import SOURCES, source_for

    if not directory.is_dir():
        raise Refused(f"{directory} n'est pas un dossier de lot")
    files = [p for p in directory.iterdir() if p.is_file()]
    if not any(source_for(p.name) for p in files):
        expected = "; ".join(f"{s.name} ({', '.join(p.pattern for p in s.patterns)})" for s in SOURCES)
        what = "vide" if not files else f"sans fichier reconnu ({', '.join(p.name for p in files[:5])})"
        raise Refused(f"le dossier {directory} est {what} ; fichiers attendus : {expected}")


def run_monthly(
    settings: Settings,
    directory: Path,
    batch: str,
    *,
    retrain: bool = False,
    start_from: str | None = None,
    engine: str | None = None,
    log: Callable[[str], None] = print,
) -> MonthlyResult:
    """Run the monthly cycle for ``batch`` from ``directory``; see the module's docstring."""
    if start_from is not None and start_from not in STEPS:
        raise ValueError(f"--from {start_from!r}: expected one of {', '.join(STEPS)}")
    data_dir = Path(settings.data_dir)
    try:
        check_batch_code(batch)
        _check_folder(Path(directory))
        with _lock(data_dir):
            run = RunLog.start(data_dir, batch, Path(directory))
            return _run(
                run,
                Monthly(settings, Path(directory), batch, retrain=retrain, engine=engine, log=log),
                start_from,
            )
    except Refused as e:
        dummy = RunLog(
            DataDir(data_dir).run_journal(batch),
            batch,
            str(directory),
            code_version(),
            _now(),
            status="refused",
            exit_code=2,
        )
        return MonthlyResult(2, dummy, [f"Lot {batch} refusé : {e}"])


def _run(run: RunLog, m: Monthly, start_from: str | None) -> MonthlyResult:
    fps: dict[str, str | None] = {}
    forced = False
    try:
        for name in STEPS:
            step = run.steps[name]
            forced = forced or name == start_from
            fp = _digest(name, m.inputs(name, fps))
            prev = run.previous.get(name)
            if (
                not forced
                and prev is not None
                and prev.status in ("done", "skipped", "not_due")
                and prev.fingerprint == fp
                and m.outputs_exist(name)
            ):
                step.status, step.fingerprint = "skipped", fp
                step.counts, step.warnings, step.message = prev.counts, prev.warnings, prev.message
                step.started = step.ended = _now()
                fps[name] = fp
                m.say(f"[{name}] déjà fait pour les mêmes entrées : passé")
                run.save()
                continue
            step.status, step.started, step.fingerprint = "running", _now(), None
            run.save()
            _pause(name)
            getattr(m, name)(step)
            if step.status == "running":
                step.status = "done"
            step.ended, step.fingerprint = _now(), fp
            fps[name] = fp
            run.save()
    except Refused as e:
        step.status, step.ended, step.message = "failed", _now(), str(e)
        run.status, run.exit_code, run.ended = "refused", 2, _now()
        run.save()
        return MonthlyResult(
            2, run, [f"Lot {run.batch} : étape « {step.name} » en échec, rien de plus n'est publié : {e}"]
        )
    warnings = run.warnings()
    run.exit_code = 1 if warnings else 0
    run.status = "published_with_warnings" if warnings else "published"
    run.ended = _now()
    run.save()
    return MonthlyResult(run.exit_code, run, summary(run))


STATUS_FR = {
    "published": "publié",
    "published_with_warnings": "publié, avec des points à vérifier",
    "refused": "refusé, rien n'est publié",
    "running": "en cours",
}


def summary(run: RunLog) -> list[str]:
    """The operator's French summary of a run: loaded, quarantined, model, list, who entered and left."""
    from .contract import ALERT_WORDS

    s = run.steps
    out = [f"Lot {run.batch} : {STATUS_FR.get(run.status, run.status)} (code de sortie {run.exit_code})"]
    ing = s["ingest"].counts
    if ing:
        q = ing.get("quarantined", 0)
        out.append(
            f"  chargé : {_fr_int(ing.get('files', 0))} fichiers, {_fr_int(ing.get('read', 0))} lignes lues, "
            f"{_fr_int(ing.get('accepted', 0))} acceptées, {_fr_int(q)} en quarantaine, "
            f"{_fr_int(ing.get('filtered', 0))} hors périmètre (conservées à part)"
        )
    if s["train"].message:
        out.append(f"  modèle : {s['train'].message}")
    sc = s["score"].counts
    if sc:
        alerts = sc.get("alerts", {})
        levels = ", ".join(f"{ALERT_WORDS.get(k, k)} {_fr_int(v)}" for k, v in alerts.items())
        out.append(f"  liste {sc.get('id_liste')} : {_fr_int(sc.get('companies', 0))} entreprises ; {levels}")
        diff = sc.get("diff") or {}
        if sc.get("previous_batch"):
            moves = (
                ", ".join(
                    f"{_fr_int(v)} {k}" + ("s" if v > 1 and not k.endswith("s") else "")
                    for k, v in diff.items()
                )
                or "aucun changement"
            )
            out.append(f"  depuis le lot {sc['previous_batch']} : {moves}")
        else:
            out.append("  première liste : pas de liste précédente")
    pub = s["publish"].counts
    if pub:
        out.append(f"  publiée : liste {pub.get('label')} (n° {pub.get('list_id')})")
    for w in run.warnings():
        out.append(f"  à vérifier : {w}")
    return out
