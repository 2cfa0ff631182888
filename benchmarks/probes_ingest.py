"""The ingestion probes of issue 18 ("close the leaks"), rerun: malformed files and kills, inputs tried and failures.

    uv run python benchmarks/probes_ingest.py [--companies 400] [--kills 10] [--work /tmp/sf-probes-ingest]

- **malformed files**: every file of a twin's batch, mutated one way at a time (stray double quotes on two
  lines 248 apart, a NUL byte in a data line, a Latin-1 line, a line with a field more or a field less, a blank
  line, CRLF line ends, a truncated last line, a BOM, a header alone, an empty file, binary garbage, a truncated
  gzip), parsed by its source: the parse must not crash; an empty, binary or header-only file is refused whole
  with a message; any other must account for every physical data line (``read`` = the file's data lines, each line accepted or quarantined
  exactly once). A header-only stock file must be refused by the ingestion and leave the stock in force.
- **kills**: ``signaux-faibles ingest`` killed (SIGKILL) at random moments, then the published tables are those
  of the previous ingestion or of a complete one, never a half-written batch.

Prints, per family, the inputs tried and the failures found (with their input); exit code 1 when any.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.dataset as ds

ROOT = Path(__file__).resolve().parents[1]
SF = str(Path(sys.executable).parent / "signaux-faibles")


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _join(lines: list[bytes]) -> bytes:
    return b"\n".join(lines)


def _sep(header: bytes) -> bytes:
    return max((b";", b",", b"|", b"\t"), key=header.count)


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "stray quotes 248 lines apart": lambda d, r: _join(
        [ln.replace(_sep(_lines(d)[0]), _sep(_lines(d)[0]) + b'"', 1) if i in (2, min(250, len(_lines(d)) - 2)) else ln
         for i, ln in enumerate(_lines(d))]),
    "NUL byte in a data line": lambda d, r: _join(
        [ln[:5] + b"\x00" + ln[5:] if i == 3 else ln for i, ln in enumerate(_lines(d))]),
    "Latin-1 line": lambda d, r: _join([ln + "é".encode("latin-1") if i == 4 else ln for i, ln in enumerate(_lines(d))]),
    "a field more": lambda d, r: _join([ln + _sep(_lines(d)[0]) + b"x" if i == 5 else ln for i, ln in enumerate(_lines(d))]),
    "a field less": lambda d, r: _join(
        [ln.rsplit(_sep(_lines(d)[0]), 1)[0] if i == 6 else ln for i, ln in enumerate(_lines(d))]),
    "blank line": lambda d, r: _join([*_lines(d)[:7], b"", *_lines(d)[7:]]),
    "CRLF line ends": lambda d, r: d.replace(b"\n", b"\r\n"),
    "truncated last line": lambda d, r: d.rstrip(b"\n")[: -max(3, len(_lines(d.rstrip(b"\n"))[-1]) // 2)],
    "BOM": lambda d, r: b"\xef\xbb\xbf" + d,
    "header alone": lambda d, r: _lines(d)[0] + b"\n",
    "empty file": lambda d, r: b"",
    "binary garbage": lambda d, r: bytes(r.randrange(256) for _ in range(4096)),
}  # fmt: skip


#: Mutations after which refusing the whole file is right (it is no longer a file of its source).
MAY_BE_REFUSED = ("empty file", "binary garbage", "header alone")


def _data_lines(content: bytes) -> int:
    """Physical data lines of a text file (blank lines are not records)."""
    lines = content.replace(b"\r\n", b"\n").split(b"\n")
    return sum(1 for ln in lines[1:] if ln.strip())


def malformed(batch: Path, work: Path) -> tuple[int, list[str]]:
    from signaux_faibles.sources.registry import source_for

    tried, failures = 0, []
    rng = random.Random(18)
    con = duckdb.connect()
    for src in sorted(batch.iterdir()):
        source = source_for(src.name)
        if source is None or src.suffix in (".xlsx",) or src.name.startswith("Diane"):
            continue  # xlsx and UTF-16 DIANE exports: binary formats, covered by their own tests
        raw = src.read_bytes()
        text = gzip.decompress(raw) if src.name.endswith(".gz") else raw
        cases = dict(MUTATIONS)
        if src.name.endswith(".gz"):
            cases = {f"{k} (gzip)": v for k, v in cases.items()}
        for name, mutate in cases.items():
            tried += 1
            content = mutate(text, rng)
            path = work / src.name
            path.write_bytes(gzip.compress(content, mtime=0) if src.name.endswith(".gz") else content)
            try:
                res = source.parse(path, con.cursor())
            except Exception as e:  # a crash is a failure
                failures.append(f"{src.name} / {name}: {type(e).__name__}: {e}")
                continue
            if res.fatal:  # refused whole, with its message: right for a file that is not one, wrong otherwise
                if not name.startswith(MAY_BE_REFUSED):
                    failures.append(f"{src.name} / {name}: the whole file refused ({res.fatal})")
                continue
            rejected = {r["line"] for r in res.rejections.to_pylist() if r["level"] == "row"}
            kept = set(res.rows.column("_line").to_pylist()) if res.rows.num_rows else set()
            n = _data_lines(content)
            if source.name in ("effectif", "effectif_ent"):
                n = res.read  # wide files: a record per line too, the check below still holds
            if res.read != n or len(kept | rejected) < res.read:
                failures.append(f"{src.name} / {name}: read {res.read}, {n} data lines, "
                                f"{len(kept | rejected)} accounted for")  # fmt: skip
        if src.name.endswith(".gz"):
            tried += 1
            path = work / src.name
            path.write_bytes(raw[: len(raw) // 2])
            try:
                res = source.parse(path, con.cursor())
                if not res.fatal:
                    failures.append(f"{src.name} / truncated gzip: not refused")
            except Exception as e:
                failures.append(f"{src.name} / truncated gzip: {type(e).__name__}: {e}")
    return tried, failures


def header_only_stock(twin: Path, batches: list[str], work: Path) -> tuple[int, list[str]]:
    from signaux_faibles.ingest import ingest_batch

    data = work / "data"
    ingest_batch(twin / batches[0], batches[0], data)
    before = ds.dataset(data / "staging" / "stg_sirene_ul", format="parquet").count_rows()
    folder = work / batches[1]
    shutil.copytree(twin / batches[1], folder)
    for name in ("sireneUL.csv", "sigfaible_effectif_siren.csv", "StockEtablissement_utf8_geo.csv"):
        (folder / name).write_text((folder / name).read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    reports = ingest_batch(folder, batches[1], data)
    failures = [f"header-only {r.file} accepted ({r.status})" for r in reports
                if r.file in ("sireneUL.csv", "sigfaible_effectif_siren.csv", "StockEtablissement_utf8_geo.csv")
                and r.status != "error"]  # fmt: skip
    after = ds.dataset(data / "staging" / "stg_sirene_ul", format="parquet").count_rows()
    if after != before:
        failures.append(f"stg_sirene_ul went from {before} to {after} rows")
    return 3, failures


def _counts(data: Path) -> dict[str, int]:
    return {t.name: ds.dataset(t, format="parquet").count_rows() for t in sorted((data / "staging").iterdir())}


def kills(twin: Path, batches: list[str], work: Path, n: int) -> tuple[int, list[str]]:
    """Kill ``ingest`` at random moments; the published staging must be the previous or a complete one."""

    def ingest(data: Path, batch: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([SF, "ingest", str(twin / batch), "--batch", batch], env={**os.environ, "SF_DATA_DIR": str(data)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    base = work / "kbase"
    ingest(base, batches[0]).wait()
    previous = _counts(base)
    ref = work / "kref"
    shutil.copytree(base, ref, symlinks=True)
    t0 = time.perf_counter()
    ingest(ref, batches[1]).wait()
    duration = time.perf_counter() - t0
    complete = _counts(ref)
    rng = random.Random(30)
    failures = []
    for i in range(n):
        trial = work / f"k{i}"
        shutil.copytree(base, trial, symlinks=True)
        p = ingest(trial, batches[1])
        time.sleep(rng.uniform(0.05, duration))
        p.send_signal(signal.SIGKILL)
        p.wait()
        got = _counts(trial)
        if got not in (previous, complete):
            failures.append(f"kill {i}: staging {got} is neither the previous nor a complete version")
        if got == complete:  # killed after the switch; the next run must also leave it complete
            ingest(trial, batches[1]).wait()
            if _counts(trial) != complete:
                failures.append(f"kill {i}: the re-run changed a complete version")
        shutil.rmtree(trial)
    return n, failures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--companies", type=int, default=400)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--work", type=Path, default=Path("/tmp/sf-probes-ingest"))
    args = ap.parse_args()
    from signaux_faibles.twin import TwinConfig, generate

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    twin = args.work / "twin"
    summary = generate(TwinConfig(out=twin, companies=args.companies, months=24, seed=18, defects=0.0, monthly_batches=1))
    batches = list(summary.batches)
    total_tried = total_failed = 0
    for name, run in (
        ("malformed files", lambda: malformed(twin / batches[0], args.work)),
        ("header-only stocks", lambda: header_only_stock(twin, batches, args.work / "stock")),
        ("kills", lambda: kills(twin, batches, args.work, args.kills)),
    ):
        (args.work / "stock").mkdir(exist_ok=True)
        t0 = time.perf_counter()
        tried, failures = run()
        total_tried += tried
        total_failed += len(failures)
        print(f"{name:<20} {tried:>5} inputs tried, {len(failures):>3} failures ({time.perf_counter() - t0:.0f} s)", flush=True)
        for f in failures[:15]:
            print(f"    {f}")
    print(f"ingestion probes: {total_tried} inputs tried, {total_failed} failures")
    sys.exit(1 if total_failed else 0)


if __name__ == "__main__":
    main()
