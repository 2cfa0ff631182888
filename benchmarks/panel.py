"""Benchmark: the monthly company panel on DuckDB and on Spark local, same pipeline, same data, same run.

    uv run python benchmarks/panel.py [--companies 100000] [--months 60] [--work /work/bench-panel]
                                      [--engines duckdb spark] [--spark-master local[2]]

Prepares once, cached under ``--work`` (``<work>/<companies>x<months>/``): a digital twin (seed 1) and its
ingestion (``data/staging``, perimeter applied as in production). Then runs ``run_panel`` (clean relations +
``panel/company_month``, exactly what ``signaux-faibles panel --batch AAMM`` does) once per engine, each in its
own child process: wall time is the child's ``run_panel`` call; peak memory is the largest resident set of the
child's whole process tree (the Python driver plus, on Spark, its JVM), sampled every 0.1 s from ``/proc``, and
the child's own ``ru_maxrss`` for reference.

The baseline is DuckDB, measured in the same run; the ratio printed is Spark / DuckDB (wall time).
Goals (issue 4): DuckDB under 60 s and 4 GB on 2 cores; DuckDB at least 3x faster than Spark local.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


# ---- preparation (cached) ----------------------------------------------------------------------------------


def prepare(root: Path, companies: int, months: int) -> tuple[Path, str]:
    """Twin + ingestion under ``root`` (skipped when already done); return (data_dir, batch)."""
    from signaux_faibles.config import Settings
    from signaux_faibles.ingest import run_ingest
    from signaux_faibles.twin import TwinConfig, generate

    twin_dir, data_dir, marker = root / "twin", root / "data", root / "prepared.json"
    if marker.exists():
        return data_dir, json.loads(marker.read_text())["batch"]
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    summary = generate(TwinConfig(out=twin_dir, companies=companies, months=months, seed=1))
    t1 = time.perf_counter()
    batch = summary.batches[-1]
    code = run_ingest(twin_dir / batch, batch, Settings(data_dir=data_dir), no_filter=False)
    if code:
        raise SystemExit(f"ingest of {twin_dir / batch} failed (exit code {code})")
    t2 = time.perf_counter()
    print(f"prepared {companies:,} companies x {months} months under {root}: twin {t1 - t0:.0f} s, "
          f"ingest {t2 - t1:.0f} s")  # fmt: skip
    marker.write_text(json.dumps({"batch": batch, "twin_s": t1 - t0, "ingest_s": t2 - t1}))
    return data_dir, batch


# ---- one engine, in a child process ------------------------------------------------------------------------


def stage(engine: str, data_dir: Path, batch: str, spark_master: str) -> None:
    """Child process: run the panel on ``engine``; print a JSON line with seconds, ru_maxrss and row count."""
    import io

    import pyarrow.parquet as pq

    from signaux_faibles.config import Settings
    from signaux_faibles.panel import run_panel

    settings = Settings(data_dir=data_dir, engine=engine, spark_master=spark_master)
    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = run_panel(settings, batch, engine=engine)
    dt = time.perf_counter() - t0
    if code:
        raise SystemExit(f"run_panel exited with {code}: {out.getvalue()[-2000:]}")
    rows = sum(
        pq.ParquetFile(f).metadata.num_rows for f in (data_dir / "panel" / "company_month").glob("*.parquet")
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": dt, "self_mb": peak, "rows": rows}))


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (from /proc; 0 for vanished processes)."""
    children: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(p.name))
    total, todo = 0, [pid]
    while todo:
        q = todo.pop()
        todo.extend(children.get(q, []))
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{q}/statm").read_text().split()[1]) * _PAGE
    return total


def run_engine(engine: str, data_dir: Path, batch: str, spark_master: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--stage", engine, "--data", str(data_dir), "--batch", batch,
           "--spark-master", spark_master]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.1)
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        return {"seconds": float("nan"), "peak_mb": float("nan"), "self_mb": float("nan"), "rows": -1,
                "error": (stderr or stdout)[-1500:]}  # type: ignore[dict-item]  # fmt: skip
    res: dict[str, float] = json.loads(stdout.strip().splitlines()[-1])
    res["peak_mb"] = peak / 2**20
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--companies", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument("--work", type=Path, default=Path("/work/bench-panel"), help="cache of twins and data")
    ap.add_argument("--engines", nargs="*", default=["duckdb", "spark"])
    ap.add_argument("--spark-master", default="local[2]")
    ap.add_argument("--stage")
    ap.add_argument("--data", type=Path)
    ap.add_argument("--batch")
    args = ap.parse_args()
    if args.stage:
        stage(args.stage, args.data, args.batch, args.spark_master)
        return
    data_dir, batch = prepare(args.work / f"{args.companies}x{args.months}", args.companies, args.months)
    results = {e: run_engine(e, data_dir, batch, args.spark_master) for e in args.engines}
    print(f"panel benchmark: {args.companies:,} companies x {args.months} months, batch {batch}, "
          f"{os.cpu_count()} cores, spark master {args.spark_master}")  # fmt: skip
    print(f"{'engine':<8} {'seconds':>9} {'x duckdb':>9} {'peak MB':>9} {'driver MB':>10} {'panel rows':>12}")
    base = results.get("duckdb", {}).get("seconds", float("nan"))
    for name, r in results.items():
        print(f"{name:<8} {r['seconds']:>9.1f} {r['seconds'] / base:>9.2f} {r['peak_mb']:>9.0f} "
              f"{r['self_mb']:>10.0f} {int(r['rows']):>12,}")  # fmt: skip
        if "error" in r:
            print("  error:", r["error"])
    if "duckdb" in results:
        d = results["duckdb"]
        ok = d["seconds"] < 60 and d["peak_mb"] < 4096
        print(f"goal DuckDB under 60 s and 4 GB: {'ok' if ok else 'MISSED'}")
    if "duckdb" in results and "spark" in results:
        ratio = results["spark"]["seconds"] / results["duckdb"]["seconds"]
        print(f"ratio Spark / DuckDB: {ratio:.2f} (goal >= 3: {'ok' if ratio >= 3 else 'MISSED'})")


if __name__ == "__main__":
    main()
