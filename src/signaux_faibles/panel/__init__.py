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
    con: ibis.BaseBackend, data_dir: Path, batch: str, start: str | None, end: str | None
) -> int:
    """Read the published clean relations and write ``data_dir/panel/company_month/``; return its row count."""
    from signaux_faibles.engine import read_table, write_table
    from signaux_faibles.panel.build import window
    from signaux_faibles.panel.company_month import company_month

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

    def cache(name: str, t: ibis.Table) -> ibis.Table:
        write_table(con, t, work / name)
        return read_table(con, data_dir, WORK_LAYER, name)

    try:
        return write_table(con, company_month(clean, first, last, cache), DataDir(data_dir).panel)
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
    try:
        counts = build_clean(con, data_dir, batch, start, end)
        rows = build_company_month(con, data_dir, batch, start, end)
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
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0
