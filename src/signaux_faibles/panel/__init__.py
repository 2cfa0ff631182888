"""The panel stage: staging tables → clean relations → the monthly company panel.

- :mod:`signaux_faibles.panel.clean`: the real system's ``clean_*`` views as pure ``ibis.Table -> ibis.Table``
  functions (plus CCSF, paydex, BdF, DIANE), published under ``DATA_DIR/clean/<name>/``;
- :mod:`signaux_faibles.panel.build`: reads staging, builds and publishes the clean relations;
- :mod:`signaux_faibles.panel.company_month`: the SIREN × month panel (spine + target for now), published under
  ``DATA_DIR/panel/company_month/``;
- :mod:`signaux_faibles.panel.features`: the features (next step).

No module of this package imports DuckDB or PySpark: the engine comes from :func:`signaux_faibles.engine.connect`.
:func:`run_panel` is what the ``signaux-faibles panel`` command calls.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import ibis

from signaux_faibles.config import Settings

__all__ = ["build_company_month", "run_panel"]


def build_company_month(
    con: ibis.BaseBackend, data_dir: Path, batch: str, start: str | None, end: str | None
) -> int:
    """Read the published clean relations and write ``data_dir/panel/company_month/``; return its row count.

    Companies: the perimeter (``clean_filter``) when there is one, else every SIREN seen in the effectif files.
    """
    from signaux_faibles.engine import read_table, write_table
    from signaux_faibles.panel.build import window
    from signaux_faibles.panel.clean import month_calendar
    from signaux_faibles.panel.clean._common import siren_of
    from signaux_faibles.panel.company_month import company_month

    data_dir = Path(data_dir)
    first, last = window(batch, start, end)

    def clean(name: str) -> ibis.Table | None:
        if not (data_dir / "clean" / name).is_dir():
            return None
        return read_table(con, data_dir, "clean", name)

    filt = clean("clean_filter")
    companies: ibis.Table | None = None
    if filt is not None and con.to_pyarrow(filt.count()).as_py() > 0:
        companies = filt.select("siren")
    else:
        parts = []
        ent = clean("clean_effectif_ent")
        if ent is not None:
            parts.append(ent.select("siren"))
        eff = clean("clean_effectif")
        if eff is not None:
            parts.append(eff.select(siren=siren_of(eff.siret)))
        if parts:
            companies = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], distinct=True)
    if companies is None:
        companies = ibis.memtable({"siren": []}, schema={"siren": "string"})
    procol = clean("clean_procol")
    if procol is None:
        procol = ibis.memtable(
            {"siren": [], "date_effet": []}, schema={"siren": "string", "date_effet": "date"}
        )
    expr = company_month(companies, month_calendar(first, last), procol)
    part = write_table(con, expr, data_dir / "panel" / "company_month")
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(part).metadata.num_rows)


def run_panel(
    settings: Settings,
    batch: str,
    start: str | None = None,
    end: str | None = None,
    engine: str | None = None,
    spark_master: str | None = None,
) -> int:
    """Build the clean relations and the company panel for ``batch``; print a summary; return an exit code."""
    from signaux_faibles.engine import connect, stop
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
    con = connect(settings, engine)
    try:
        counts = build_clean(con, data_dir, batch, start, end)
        rows = build_company_month(con, data_dir, batch, start, end)
    except FileNotFoundError as exc:
        print(f"panel: {exc}", file=sys.stderr)
        return 1
    finally:
        stop(con)
    print(
        f"panel {batch} ({first:%Y-%m} → {last:%Y-%m}, engine {con.name}): clean relations in {data_dir / 'clean'}"
    )
    for name, n in sorted(counts.items()):
        print(f"  {name:<24} {n:>10} rows")
    print(f"  {'panel/company_month':<24} {rows:>10} rows")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0
