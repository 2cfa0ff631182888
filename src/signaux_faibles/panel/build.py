"""Build the clean relations from the staging tables and publish them under ``DATA_DIR/clean/<name>/``.

This module wires tables into the pure functions of :mod:`signaux_faibles.panel.clean`; reading and writing go
through :mod:`signaux_faibles.engine` (the only module that knows the engine).

- Staging tables are read whole: every batch file of a flux table, the latest batch's file of a stock table
  (the ingest keeps only that one, ``docs/data.md``).
- A relation whose staging input is absent is not built (and not published); optional inputs (the filter, the
  SIRENE tables for the blacklist and labels) are replaced by empty tables.
- Publication: every relation is written into ``DATA_DIR/.clean.tmp/``, then that folder replaces
  ``DATA_DIR/clean/`` (two renames): readers see the previous complete set or the new one.
- The perimeter is applied once, by the ingest (rows of SIRENs outside it are filtered there, blacklisted ones
  included; ``--no-filter`` keeps every row). The clean relations therefore do not filter again (the real views
  subtract ``siren_blacklist``, which the ingest has already done); the blacklist only makes ``clean_filter``
  (the perimeter list). SIRENE relations keep every company.
- The processing window (``start`` .. ``end``, months) only bounds the month calendars (``clean_procol_at_date``
  and the panel); the other relations keep their whole history, as the real views (the reference run used
  2019-01 → 2019-02 and its dumps hold 1999 debts).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import ibis
import pyarrow as pa

from signaux_faibles.engine import read_table, write_table
from signaux_faibles.layout import DataDir, batch_month
from signaux_faibles.panel.clean import (
    clean_ap,
    clean_bdf,
    clean_ccsf,
    clean_cotisation,
    clean_debit,
    clean_delai,
    clean_diane,
    clean_effectif,
    clean_effectif_ent,
    clean_ellisphere,
    clean_filter,
    clean_fpi,
    clean_paydex,
    clean_procol,
    clean_procol_at_date,
    clean_sirene,
    clean_sirene_histo,
    clean_sirene_ul,
    month_calendar,
    siren_blacklist,
)
from signaux_faibles.panel.clean._common import parse_month

__all__ = ["ALTARES_TABLES", "STAGING_TABLES", "build_clean", "window"]

#: The Altares tables (stock, monthly increment, datapi import): paydex and FPI.
ALTARES_TABLES = ("stg_altares_stock", "stg_altares_increment", "stg_altares_datapi")

STAGING_TABLES = (
    *ALTARES_TABLES,
    "stg_apconso",
    "stg_apdemande",
    "stg_bdf",
    "stg_ccsf",
    "stg_cotisation",
    "stg_debit",
    "stg_delai",
    "stg_diane",
    "stg_effectif",
    "stg_effectif_ent",
    "stg_ellisphere",
    "stg_filter_import",
    "stg_paydex",
    "stg_procol",
    "stg_sirene",
    "stg_sirene_histo",
    "stg_sirene_ul",
)

#: Empty stand-ins for optional inputs (only the columns the relations use).
_EMPTY: dict[str, dict[str, pa.DataType]] = {
    "stg_filter_import": {"siren": pa.string()},
    "stg_sirene": {
        "siren": pa.string(),
        "siret": pa.string(),
        "siege": pa.bool_(),
        "departement": pa.string(),
    },
}


def window(batch: str, start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    """The processing window: ``end`` defaults to the batch's month, ``start`` to ``end`` − 5 years (as the real
    system's admin object since 2026)."""
    last = parse_month(end) if end else batch_month(batch).to_timestamp().date()
    first = parse_month(start) if start else dt.date(last.year - 5, last.month, 1)
    if first > last:
        raise ValueError(f"window {first:%Y-%m} → {last:%Y-%m}: the start is after the end")
    return first, last


def _read(con: ibis.BaseBackend, data_dir: Path, name: str) -> ibis.Table | None:
    try:
        return read_table(con, data_dir, "staging", name)
    except FileNotFoundError:
        return None


def _empty(name: str) -> ibis.Table:
    schema = pa.schema(list(_EMPTY[name].items()))
    return ibis.memtable(schema.empty_table())


def relations(stg: dict[str, ibis.Table | None], calendar: ibis.Table) -> dict[str, ibis.Table]:
    """Every clean relation that the available staging tables allow, by name (expressions, nothing computed).

    The clean functions accept a ``blacklist`` (the real views' ``siren_blacklist``); it is not passed here because
    the ingest already removed the rows outside the perimeter (see the module's docstring).
    """
    filt = stg.get("stg_filter_import")
    blacklist = (
        siren_blacklist(filt, stg.get("stg_sirene_ul"), stg.get("stg_sirene")) if filt is not None else None
    )
    out: dict[str, ibis.Table] = {}

    def add(name: str, fn: Callable[..., ibis.Table], *inputs: str) -> None:
        tables = [stg.get(i) for i in inputs]
        if any(t is None for t in tables):
            return
        out[name] = fn(*tables)

    add("clean_cotisation", clean_cotisation, "stg_cotisation")
    add("clean_debit", clean_debit, "stg_debit")
    add("clean_delai", clean_delai, "stg_delai")
    add("clean_ccsf", clean_ccsf, "stg_ccsf")
    add("clean_procol", clean_procol, "stg_procol")
    if "clean_procol" in out:
        out["clean_procol_at_date"] = clean_procol_at_date(out["clean_procol"], calendar)
    add("clean_effectif", clean_effectif, "stg_effectif")
    add("clean_effectif_ent", clean_effectif_ent, "stg_effectif_ent")
    add("clean_ap", clean_ap, "stg_apconso", "stg_apdemande")
    add("clean_sirene", clean_sirene, "stg_sirene")
    if stg.get("stg_sirene_ul") is not None:
        sirene = stg.get("stg_sirene")
        out["clean_sirene_ul"] = clean_sirene_ul(
            stg["stg_sirene_ul"],
            sirene if sirene is not None else _empty("stg_sirene"),
        )
    add("clean_sirene_histo", clean_sirene_histo, "stg_sirene_histo")
    out["clean_filter"] = clean_filter(filt if filt is not None else _empty("stg_filter_import"), blacklist)
    add("clean_bdf", clean_bdf, "stg_bdf")
    add("clean_diane", clean_diane, "stg_diane")
    _add_altares(stg, out)
    add("clean_ellisphere", clean_ellisphere, "stg_ellisphere")
    return out


def _add_altares(stg: dict[str, ibis.Table | None], out: dict[str, ibis.Table]) -> None:
    """``clean_paydex`` (legacy retro file and Altares files) and ``clean_fpi`` (Altares files)."""
    altares = [t for name in ALTARES_TABLES if (t := stg.get(name)) is not None]
    if stg.get("stg_paydex") is not None or altares:
        out["clean_paydex"] = clean_paydex(stg.get("stg_paydex"), altares=altares)
    if altares:
        out["clean_fpi"] = clean_fpi(altares)


def build_clean(
    con: ibis.BaseBackend, data_dir: Path, batch: str, start: str | None = None, end: str | None = None
) -> dict[str, int]:
    """Compute every clean relation on ``con`` and publish them under ``data_dir/clean/``; return rows per table."""
    data_dir = Path(data_dir)
    first, last = window(batch, start, end)
    stg = {name: _read(con, data_dir, name) for name in STAGING_TABLES}
    if all(t is None for t in stg.values()):
        raise FileNotFoundError(
            f"{data_dir / 'staging'}: no staging table (run `signaux-faibles ingest` first)"
        )
    exprs = relations(stg, month_calendar(first, last))
    tmp = DataDir(data_dir).clean_tmp
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    counts: dict[str, int] = {}
    for name, expr in exprs.items():
        counts[name] = write_table(con, expr, tmp / name)
    final, old = DataDir(data_dir).clean_root, DataDir(data_dir).clean_old
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return counts
