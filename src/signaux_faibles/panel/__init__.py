"""The panel stage: staging tables → clean relations → the monthly company panel.

- :mod:`signaux_faibles.panel.clean`: the real system's ``clean_*`` views as pure ``ibis.Table -> ibis.Table``
  functions (plus CCSF, paydex, BdF, DIANE), published under ``DATA_DIR/clean/<name>/``;
- :mod:`signaux_faibles.panel.build`: reads staging, builds and publishes the clean relations;
- :mod:`signaux_faibles.panel.company_month`: the SIREN × month panel (spine, features, target), published under
  ``DATA_DIR/panel/company_month/``;
- :mod:`signaux_faibles.panel.features`: the features (pure functions) and their registry.

No module of this package imports DuckDB or PySpark: the engine comes from :func:`signaux_faibles.engine.connect`.
:func:`run_panel` is what the ``signaux-faibles panel`` command calls.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import ibis

from signaux_faibles.config import Settings
from signaux_faibles.layout import DataDir

__all__ = ["WORK_LAYER", "build_company_month", "run_panel"]

#: Folder (under the data directory) of the intermediate feature tables while the panel is built (then removed).
WORK_LAYER = "panel_work"


def build_company_month(
    con: ibis.BaseBackend,
    data_dir: Path,
    batch: str,
    start: str | None,
    end: str | None,
    bucket_companies: int | None = None,
    timings: dict[str, float] | None = None,
) -> int:
    """Read the published clean relations and write ``data_dir/panel/company_month/``; return its row count.

    The feature tables (:func:`~signaux_faibles.panel.company_month.feature_tables`) are computed over every
    company and written to the work layer. The panel's final join (every feature table on SIREN × month) is
    then made by **buckets of companies**: a hash of the SIREN splits the companies into
    ⌈companies / ``bucket_companies``⌉ buckets; each feature table is written split by bucket, and each bucket's
    join is one query writing one part of the panel, so that each join fits in memory however many companies
    there are (one bucket when ``bucket_companies`` is None or at least the number of companies). The panel is
    the same whatever the buckets (``tests/panel/test_panel_buckets.py``).

    ``timings``, when given, receives the wall time in seconds of each step (``features_<source>``,
    ``buckets``, ``join``)."""
    from signaux_faibles.engine import read_bucket, read_table, write_buckets, write_parts, write_table
    from signaux_faibles.panel.build import window
    from signaux_faibles.panel.company_month import ASSEMBLY_RELATIONS, assemble, feature_tables

    data_dir = Path(data_dir)
    first, last = window(batch, start, end)
    root = DataDir(data_dir).clean_root
    clean = (
        {
            p.name: read_table(con, data_dir, "clean", p.name)
            for p in sorted(root.iterdir())
            if p.is_dir() and p.name.startswith("clean_")
        }
        if root.is_dir()
        else {}
    )
    work = DataDir(data_dir).root / WORK_LAYER
    spent = timings if timings is not None else {}

    def cache(name: str, t: ibis.Table) -> ibis.Table:
        t0 = time.perf_counter()
        write_table(con, t, work / name)
        spent[name] = time.perf_counter() - t0
        return read_table(con, data_dir, WORK_LAYER, name)

    try:
        tables = feature_tables(clean, first, last, cache)
        buckets = _buckets(con, tables, clean, bucket_companies)
        if buckets == 1:
            t0 = time.perf_counter()
            rows = write_table(con, assemble(tables, clean, first, last), DataDir(data_dir).panel)
            spent["join"] = time.perf_counter() - t0
            return rows
        t0 = time.perf_counter()
        inputs = {**tables, **{n: clean[n] for n in ASSEMBLY_RELATIONS if n in clean}}
        for name, t in inputs.items():
            write_buckets(con, t, work / "buckets" / name, "siren", buckets)
        spent["buckets"] = time.perf_counter() - t0

        def part(b: int) -> ibis.Table:
            parts = {name: read_bucket(con, work / "buckets" / name, b) for name in inputs}
            return assemble(
                {n: parts[n] for n in tables},
                {**clean, **{n: parts[n] for n in ASSEMBLY_RELATIONS if n in clean}},
                first,
                last,
                whole_filter=clean.get("clean_filter"),
            )

        t0 = time.perf_counter()
        rows = write_parts(con, (part(b) for b in range(buckets)), DataDir(data_dir).panel)
        spent["join"] = time.perf_counter() - t0
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _buckets(
    con: ibis.BaseBackend, tables: dict[str, ibis.Table], clean: dict[str, ibis.Table], per_bucket: int | None
) -> int:
    """How many buckets of at most about ``per_bucket`` companies the panel's final join is made in."""
    from signaux_faibles.panel.company_month import companies

    if not per_bucket:
        return 1
    n = int(con.execute(companies(tables, clean).count()))
    return max(1, -(-n // int(per_bucket)))


def run_panel(
    settings: Settings,
    batch: str,
    start: str | None = None,
    end: str | None = None,
    engine: str | None = None,
    spark_master: str | None = None,
) -> int:
    """Build the clean relations and the company panel for ``batch``; print a summary; return an exit code."""
    from signaux_faibles.engine import SparkUnavailable, connect, stop
    from signaux_faibles.panel.build import build_clean, window

    try:
        first, last = window(batch, start, end)
    except ValueError as exc:
        print(f"panel: {exc}", file=sys.stderr)
        return 2
    if spark_master:
        settings = settings.model_copy(update={"spark_master": spark_master})
    data_dir = Path(settings.data_dir)
    t0 = time.perf_counter()
    try:
        con = connect(settings, engine)
    except SparkUnavailable as exc:
        print(f"panel: {exc}", file=sys.stderr)
        return 2
    timings: dict[str, float] = {}
    try:
        t1 = time.perf_counter()
        counts = build_clean(con, data_dir, batch, start, end)
        timings["clean"] = time.perf_counter() - t1
        rows = build_company_month(
            con, data_dir, batch, start, end, settings.panel_bucket_companies, timings=timings
        )
    except FileNotFoundError as exc:
        print(f"panel: {exc}", file=sys.stderr)
        return 1
    finally:
        stop(con)
    print(
        f"panel {batch} ({first:%Y-%m} → {last:%Y-%m}, engine {con.name}): clean relations in {DataDir(data_dir).clean_root}"
    )
    for name, n in sorted(counts.items()):
        print(f"  {name:<24} {n:>10} rows")
    print(f"  {'panel/company_month':<24} {rows:>10} rows")
    print("  time: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()))
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0
