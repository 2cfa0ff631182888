"""The national benchmark: a 400 000-company x 60-month twin over every région, the monthly run step by step.

    uv run python benchmarks/national.py [--companies 400000] [--months 60] [--work DIR]
                                         [--pg postgresql+psycopg://postgres@127.0.0.1:5432] [--from STEP]
                                         [--to STEP] [--ingest-engine E] [--retrain] [--keep-db] [--db NAME] [--initial STEPS]

Prepares (or reuses, when ``DIR/twin.json`` records the same parameters) a digital twin under ``DIR/twin`` with
every metropolitan and overseas région and one monthly batch after the initial one. Then, in a fresh data
directory ``DIR/data`` and a scratch PostgreSQL database (``sf_national``, dropped at the end unless
``--keep-db``):

- **initial load** (the initial batch): ingest, panel, train, score, exports, publish. Each step is measured;
  its ``train`` is the **training** figure (``train --batch <initial batch>``, the model the monthly run uses);
- **monthly run** (the monthly batch): ingest, panel, score, exports (sf-json, CSV, XLSX), publish; the model is
  not retrained (it is one month old), as ``signaux-faibles monthly`` does;
- ``--retrain``: ``train --batch <monthly batch>`` measured too, after the monthly run.

``--initial ingest`` limits the initial load to those steps; ``--from STEP`` skips the initial load and runs the
monthly run from STEP on the data directory as it is (an empty one: the monthly batch is the first delivery);
``--to STEP`` stops the monthly run after STEP (a long run can be measured in parts: ``--to panel``, then
``--from score``).
When the monthly run finds no model, ``train`` is due and runs before ``score`` (as in ``signaux-faibles
monthly``); it is the training figure then, and is not counted in the monthly run's total.

Every step is its own child process (``signaux-faibles <step> …`` with ``SF_DATA_DIR`` and ``SF_DATABASE_URL``):
wall time; CPU time (user + system of the child and its descendants, from ``os.wait4``); peak memory, both the
largest single process (``ru_maxrss``) and the whole process tree's resident set sampled every 0.2 s from
``/proc`` (the goals use the latter; the PostgreSQL server's memory is not counted); rows and rows per second.

Baselines, measured in the same run, each a child process measured the same way:

- ``csv-scan``: DuckDB's plain scan (``SELECT count(*) FROM read_csv(…)``) of the batch's text files (the XLSX
  file is not scanned); the ingest step's ratio;
- ``staging-scan``: DuckDB reads every staging table (the panel's input) to Arrow; the panel step's ratio;
- ``panel-scan``: DuckDB reads the whole panel Parquet to Arrow (the input of train, score, exports, publish);
  their ratio.

The ratio printed is the step's wall time over its baseline's wall time (how many plain scans of its input the
step costs). Goals (issue 24), on 2 cores: the monthly run under 20 minutes and 12 GB peak; training under 30
minutes and 16 GB. The report is printed and written to ``DIR/national-<date>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from panel import _tree_rss  # the process tree's resident set, as the panel benchmark measures it

REGIONS = "11,24,27,28,32,44,52,53,75,76,84,93,94,01,02,03,04,06"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
DB_NAME = "sf_national"
MONTHLY = ("ingest", "panel", "score", "exports", "publish")
INITIAL = ("ingest", "panel", "train", "score", "exports", "publish")
EXPORTS = (("sf-json", "liste_{batch}.json"), ("csv", "liste_{batch}.csv"), ("xlsx", "liste_{batch}.xlsx"))
TEXT_SUFFIXES = (".csv", ".txt", ".csv.gz")
INGEST_ENGINE = ["duckdb"]  # --ingest-engine
GOALS = {"monthly": (20 * 60.0, 12 * 1024.0), "training": (30 * 60.0, 16 * 1024.0)}


@dataclass
class Measure:
    phase: str
    step: str
    wall_s: float
    cpu_s: float
    peak_mb: float  # whole process tree, sampled
    maxrss_mb: float  # largest single process (ru_maxrss)
    rows: int | None = None
    baseline: str | None = None
    ratio: float | None = None
    exit_code: int = 0
    log: str = ""

    @property
    def rows_per_s(self) -> float | None:
        return self.rows / self.wall_s if self.rows and self.wall_s > 0 else None


# ---- measuring a child process -----------------------------------------------------------------------------


def measure(phase: str, step: str, cmd: list[str], env: dict[str, str], logs: Path) -> Measure:
    """Run ``cmd`` as a child process; its wall, CPU (wait4: child + reaped descendants) and peak memory."""
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{phase}-{step}.log".replace(" ", "_")
    peak = [0]
    with log.open("w") as fh:
        fh.write(" ".join(cmd) + "\n")
        fh.flush()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _tree_rss(proc.pid))
                done.wait(0.2)

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
        thread.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    m = Measure(phase, step, wall, ru.ru_utime + ru.ru_stime, peak[0] / 2**20, ru.ru_maxrss / 1024,
                exit_code=proc.returncode, log=str(log))  # fmt: skip
    state = "ok" if m.exit_code == 0 else f"FAILED (exit {m.exit_code}, see {log})"
    print(f"  {phase:<8} {step:<16} {wall:8.1f} s  cpu {m.cpu_s:8.1f} s  peak {m.peak_mb:8.0f} MB  {state}",
          flush=True)  # fmt: skip
    return m


# ---- baselines (child processes: ``national.py --child KIND PATH``) ------------------------------------------


def child(kind: str, path: Path) -> None:
    """A baseline scan in this (child) process; prints the rows read as a JSON line."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2")
    rows = 0
    if kind == "csv-scan":
        for f in sorted(p for p in path.iterdir() if p.name.lower().endswith(TEXT_SUFFIXES)):
            q = f"SELECT count(*) FROM read_csv('{f}', all_varchar = true, ignore_errors = true)"
            try:
                one = con.execute(q).fetchone()
            except duckdb.Error:  # a file DuckDB's sniffer cannot read: scanned as lines
                one = con.execute(f"SELECT count(*) FROM read_text('{f}')").fetchone()
            rows += int(one[0]) if one else 0
    else:  # parquet-scan: every Parquet file under path, all columns, to Arrow
        for folder in sorted({p.parent for p in path.rglob("*.parquet")}):
            rel = con.sql(f"SELECT * FROM read_parquet('{folder}/*.parquet', union_by_name = true)")
            for batch in rel.to_arrow_reader(1 << 17):
                rows += batch.num_rows
    print(json.dumps({"rows": rows}))


def baseline(phase: str, kind: str, name: str, path: Path, env: dict[str, str], logs: Path) -> Measure:
    m = measure(phase, name, [sys.executable, __file__, "--child", kind, str(path)], env, logs)
    lines = Path(m.log).read_text().strip().splitlines()
    with contextlib.suppress(ValueError, IndexError):
        m.rows = int(json.loads(lines[-1])["rows"])
    return m


# ---- counts of what a step produced ----------------------------------------------------------------------


def _parquet_rows(folder: Path) -> int:
    import pyarrow.parquet as pq

    files = [folder] if folder.is_file() else sorted(folder.rglob("*.parquet"))
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def _ingested_rows(data: Path, batch: str) -> int:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    t = pq.read_table(data / "import_log.parquet", columns=["batch", "read"])
    return int(pc.sum(t.filter(pc.equal(t.column("batch"), batch)).column("read")).as_py() or 0)


def step_rows(step: str, data: Path, batch: str) -> int | None:
    with contextlib.suppress(OSError, ValueError, KeyError):
        if step == "ingest":
            return _ingested_rows(data, batch)
        if step in ("panel", "train"):
            return _parquet_rows(data / "panel" / "company_month")
        return _parquet_rows(data / "lists" / batch / "scores.parquet")
    return None


# ---- the twin, the database, the steps ------------------------------------------------------------------


def ensure_twin(
    work: Path, companies: int, months: int, env: dict[str, str]
) -> tuple[list[str], Measure | None]:
    """The twin under ``work/twin`` (reused when ``twin.json`` records the same parameters); its batches."""
    want = {"companies": companies, "months": months, "regions": REGIONS, "monthly_batches": 1, "seed": 0}
    marker, twin = work / "twin.json", work / "twin"
    gen: Measure | None = None
    if not (marker.is_file() and json.loads(marker.read_text()) == want):
        shutil.rmtree(twin, ignore_errors=True)
        marker.unlink(missing_ok=True)
        cmd = [str(CLI), "twin", "--out", str(twin), "--companies", str(companies), "--months", str(months),
               "--region", REGIONS, "--monthly-batches", "1", "--seed", "0"]  # fmt: skip
        gen = measure("twin", "generation", cmd, env, work / "logs")
        if gen.exit_code:
            raise SystemExit(f"twin generation failed, see {gen.log}")
        marker.write_text(json.dumps(want))
    else:
        print(f"  reusing the twin in {twin} ({companies:,} companies x {months} months)")
    batches = sorted(p.name for p in twin.iterdir() if p.is_dir())
    return batches, gen


def database(pg: str, name: str, *, fresh: bool, drop: bool = False) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{pg}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            exists = c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if exists and (fresh or drop):
                c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            if not drop and (fresh or not exists):
                c.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def run_step(phase: str, step: str, batch: str, data: Path, env: dict[str, str], logs: Path) -> list[Measure]:
    """One pipeline step for ``batch`` (exports: one child per format); its measures, rows counted after."""
    cli = str(CLI)
    if step == "ingest":
        cmds = {step: [cli, "ingest", str(data.parent / "twin" / batch), "--batch", batch,
                       "--engine", INGEST_ENGINE[0]]}  # fmt: skip
    elif step == "train":
        truth = data.parent / "twin" / "ground_truth.parquet"
        cmds = {step: [cli, "train", "--batch", batch, "--ground-truth", str(truth)]}
    elif step == "exports":
        out = data / "exports" / batch
        cmds = {f"export {fmt}": [cli, "export", "--batch", batch, "--format", fmt,
                                  "--out", str(out / name.format(batch=batch))] for fmt, name in EXPORTS}  # fmt: skip
    else:
        cmds = {step: [cli, step, "--batch", batch]}
    out_measures = []
    for name, cmd in cmds.items():
        m = measure(phase, name, cmd, env, logs)
        out_measures.append(m)
        if m.exit_code:
            break
    rows = step_rows(step, data, batch)
    for m in out_measures:
        m.rows = rows
    if len(out_measures) > 1:  # the exports' total
        total = Measure(phase, step, sum(m.wall_s for m in out_measures), sum(m.cpu_s for m in out_measures),
                        max(m.peak_mb for m in out_measures), max(m.maxrss_mb for m in out_measures), rows,
                        exit_code=max(m.exit_code for m in out_measures))  # fmt: skip
        out_measures.append(total)
    return out_measures


def run_phase(phase: str, steps: tuple[str, ...], batch: str, data: Path, env: dict[str, str],
              logs: Path) -> list[Measure]:  # fmt: skip
    """Steps in order, each after its baseline (the panel scan once, for every step after the panel)."""
    inputs = {
        "ingest": ("csv-scan", data.parent / "twin" / batch),
        "panel": ("parquet-scan", data / "staging"),
    }
    results: list[Measure] = []
    bases: dict[str, Measure] = {}
    for step in steps:
        kind, path = inputs.get(step, ("parquet-scan", data / "panel" / "company_month"))
        name = {"ingest": "csv-scan", "panel": "staging-scan"}.get(step, "panel-scan")
        if name not in bases:
            bases[name] = baseline(phase, kind, f"base {name}", path, env, logs)
            results.append(bases[name])
        base = bases[name]
        measures = run_step(phase, step, batch, data, env, logs)
        for m in measures:
            m.baseline = name
            m.ratio = m.wall_s / base.wall_s if base.wall_s > 0 else None
        results.extend(measures)
        if any(m.exit_code for m in measures):
            print(f"  {phase}: step {step} failed; the steps after it are not run", flush=True)
            break
    return results


# ---- report --------------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    mem = {ln.split(":")[0]: int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()[:3]}
    model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                  if ln.startswith("model name")), platform.processor())  # fmt: skip
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent, check=False).stdout.strip()  # fmt: skip
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "mem_total_gb": round(mem.get("MemTotal", 0) / 2**20, 1),
        "mem_available_gb": round(mem.get("MemAvailable", 0) / 2**20, 1),
        "loadavg": os.getloadavg(),
        "commit": commit,
        "python": platform.python_version(),
    }


def table(results: list[Measure]) -> list[str]:
    head = (f"{'phase':<8} {'step':<18} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'maxrss MB':>9} "
            f"{'rows':>12} {'rows/s':>10} {'x baseline':>10}  baseline")  # fmt: skip
    out = [head, "-" * len(head)]
    for m in results:
        rps = f"{m.rows_per_s:,.0f}" if m.rows_per_s else "-"
        rows = f"{m.rows:,}" if m.rows is not None else "-"
        ratio = f"{m.ratio:.2f}" if m.ratio is not None else "-"
        fail = "" if m.exit_code == 0 else f"  FAILED (exit {m.exit_code})"
        out.append(f"{m.phase:<8} {m.step:<18} {m.wall_s:>8.1f} {m.cpu_s:>8.1f} {m.peak_mb:>8.0f} "
                   f"{m.maxrss_mb:>9.0f} {rows:>12} {rps:>10} {ratio:>10}  {m.baseline or ''}{fail}")  # fmt: skip
    return out


def goals(results: list[Measure]) -> dict[str, dict[str, Any]]:
    """The monthly run (its steps, exports counted once as their total) and training against the goals."""
    monthly = [m for m in results if m.phase == "monthly" and m.step in MONTHLY]
    training = [m for m in results if m.step == "train"][:1]
    out: dict[str, dict[str, Any]] = {}
    for name, ms in (("monthly", monthly), ("training", training)):
        if not ms:
            continue
        wall, peak = sum(m.wall_s for m in ms), max(m.peak_mb for m in ms)
        max_s, max_mb = GOALS[name]
        complete = all(m.exit_code == 0 for m in ms) and (name != "monthly" or len(ms) == len(MONTHLY))
        out[name] = {"wall_s": wall, "cpu_s": sum(m.cpu_s for m in ms), "peak_mb": peak, "complete": complete,
                     "goal_s": max_s, "goal_mb": max_mb,
                     "met": complete and wall < max_s and peak < max_mb}  # fmt: skip
    return out


def report(
    args: argparse.Namespace, before: dict[str, Any], results: list[Measure], batches: list[str]
) -> None:
    after = machine()
    g = goals(results)
    print(f"\nnational benchmark: {args.companies:,} companies x {args.months} months, régions {REGIONS}, "
          f"batches {', '.join(batches)}")  # fmt: skip
    print(f"machine: {before['nproc']} cores ({before['cpu']}), {before['mem_total_gb']} GB "
          f"({before['mem_available_gb']} GB available at start), commit {before['commit']}; "
          f"started {before['date']}, ended {after['date']}")  # fmt: skip
    print("load average before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}".format(
        *before["loadavg"], *after["loadavg"]))  # fmt: skip
    print(
        "peak MB: the process tree's resident set (sampled); maxrss MB: its largest process; "
        "x baseline: wall / the baseline's wall (baseline named on the right, measured in this run)"
    )
    print("\n".join(table(results)))
    for name, r in g.items():
        what = (
            "met"
            if r["met"]
            else ("MISSED" if r["complete"] else "INCOMPLETE (a step failed or was not run)")
        )
        print(f"goal {name}: {r['wall_s']:.0f} s (< {r['goal_s']:.0f} s), peak {r['peak_mb']:,.0f} MB "
              f"(< {r['goal_mb']:,.0f} MB), CPU {r['cpu_s']:.0f} s -> {what}")  # fmt: skip
    out = args.work / f"national-{before['date'][:19].replace(':', '')}.json"
    doc = {"companies": args.companies, "months": args.months, "regions": REGIONS, "batches": batches,
           "machine_before": before, "machine_after": after, "goals": g,
           "steps": [asdict(m) | {"rows_per_s": m.rows_per_s} for m in results]}  # fmt: skip
    out.write_text(json.dumps(doc, indent=1, default=str))
    print(f"written: {out}")


# ---- main ------------------------------------------------------------------------------------------------------

CLI = Path(sys.executable).parent / "signaux-faibles"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--companies", type=int, default=400_000)
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument(
        "--work", type=Path, help="twin and data (default /tmp/sf-national/c<companies>-m<months>)"
    )
    ap.add_argument("--pg", default=PG, help="PostgreSQL server URL (without the database)")
    ap.add_argument(
        "--from", dest="start", choices=MONTHLY, help="re-run the monthly run from this step only"
    )
    ap.add_argument("--to", dest="stop", choices=MONTHLY, help="stop the monthly run after this step")
    ap.add_argument("--ingest-engine", choices=("duckdb", "spark"), default="duckdb",
                    help="the ingest's engine (spark: the files parsed on a local Spark, SF_SPARK_MASTER)")
    ap.add_argument("--retrain", action="store_true", help="also time train --batch <monthly batch>")
    ap.add_argument("--db", default=DB_NAME, help="scratch database name (created, then dropped)")
    ap.add_argument("--keep-db", action="store_true", help="keep the scratch database at the end")
    ap.add_argument(
        "--initial", default=",".join(INITIAL), help="steps of the initial load (comma-separated)"
    )
    ap.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    INGEST_ENGINE[0] = args.ingest_engine
    args.work = args.work or Path(f"/tmp/sf-national/c{args.companies}-m{args.months}")
    args.work.mkdir(parents=True, exist_ok=True)
    data, logs = args.work / "data", args.work / "logs"
    env = dict(os.environ, SF_DATA_DIR=str(data), SF_DATABASE_URL=f"{args.pg}/{args.db}")
    before = machine()
    print(f"national benchmark, {before['date']}, work {args.work}", flush=True)
    batches, gen = ensure_twin(args.work, args.companies, args.months, env)
    results = [gen] if gen else []
    first, monthly = batches[0], batches[-1]
    try:
        if args.start is None:
            shutil.rmtree(data, ignore_errors=True)
            database(args.pg, args.db, fresh=True)
            initial = tuple(s for s in INITIAL if s in args.initial.split(","))
            results += run_phase("initial", initial, first, data, env, logs)
            if any(m.exit_code for m in results):
                return
        else:
            database(args.pg, args.db, fresh=False)
        steps = MONTHLY[MONTHLY.index(args.start or "ingest") : MONTHLY.index(args.stop or "publish") + 1]
        if "score" in steps and not any(
            (data / "models").glob("*/model.joblib")
        ):  # no model yet: train is due
            i = steps.index("score")
            steps = (*steps[:i], "train", *steps[i:])
        results += run_phase("monthly", steps, monthly, data, env, logs)
        if args.retrain:
            results += run_phase("retrain", ("train",), monthly, data, env, logs)
    finally:
        if not args.keep_db:
            database(args.pg, args.db, fresh=False, drop=True)
        report(args, before, results, batches)


if __name__ == "__main__":
    main()
