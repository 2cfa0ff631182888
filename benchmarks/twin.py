"""Twin generation speed and memory: 100 000 companies x 60 months (issue "foundation and digital twin").

Prints rows written per second and peak memory (resident set, this process), and the same figures for a small
twin measured in the same run as the baseline (so the ratio tells how the generator scales).
Usage: uv run python benchmarks/twin.py [--companies N] [--months M]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from signaux_faibles.twin import TwinConfig, generate


def run(companies: int, months: int, out: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    summary = generate(TwinConfig(out=out, companies=companies, months=months, seed=1))
    elapsed = time.perf_counter() - t0
    rows = sum(summary.files.values()) + summary.truth_rows
    return elapsed, rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--companies", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=60)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-twin-"))
    try:
        small_t, small_rows = run(2_000, args.months, tmp / "small")
        big_t, big_rows = run(args.companies, args.months, tmp / "big")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size_mb = sum(p.stat().st_size for p in (tmp / "big").rglob("*") if p.is_file()) / 1e6
        print(f"baseline 2,000 companies x {args.months} months: {small_t:.1f} s, {small_rows / small_t:,.0f} rows/s")
        print(f"{args.companies:,} companies x {args.months} months: {big_t:.1f} s, {big_rows:,} rows, "
              f"{big_rows / big_t:,.0f} rows/s, {size_mb:,.0f} MB written")  # fmt: skip
        print(f"throughput ratio (big / baseline): {(big_rows / big_t) / (small_rows / small_t):.2f}")
        print(f"peak memory (RSS): main process {peak_mb:,.0f} MB, largest worker {worker_mb:,.0f} MB; "
              f"goal: under 300 s -> {'ok' if big_t < 300 else 'MISSED'}")  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
