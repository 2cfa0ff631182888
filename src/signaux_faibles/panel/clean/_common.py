"""Helpers shared by the clean relations: SIREN of a SIRET, month arithmetic, the blacklist, a month calendar.

Everything here builds Ibis expressions only (no engine): the same code runs on DuckDB and on Spark.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pyarrow as pa

__all__ = [
    "EXCLUDED_LEGAL_CATEGORIES",
    "EXCLUDED_NAF_PREFIXES",
    "HOURS_PER_MONTH",
    "add_months",
    "drop_blacklisted",
    "month_calendar",
    "month_start",
    "months_between",
    "parse_month",
    "siren_blacklist",
    "siren_of",
]

#: Hours of one full-time job per month (the real system's ``stg_apconso_by_period``: 151.67).
HOURS_PER_MONTH = 151.67

#: Perimeter exclusions of the real system (migration ``042_change_perimeter.sql``), as in ``ingest.perimeter``.
EXCLUDED_LEGAL_CATEGORIES = (
    "4110",
    "4120",
    "4140",
    "4160",
    "7210",
    "7220",
    "7346",
    "7348",
    "7366",
    "7373",
    "7379",
    "7383",
    "7389",
    "7410",
    "7430",
    "7470",
    "7490",
)
EXCLUDED_NAF_PREFIXES = (
    "84.",
    "85.1",
    "85.2",
    "85.3",
    "85.4",
    "94.1",
    "94.2",
    "94.9",
    "64.",
    "65.",
    "66.",
    "99.00Z",
)


def siren_of(siret: ir.StringValue) -> ir.StringValue:
    """The SIREN of a SIRET (its first 9 characters)."""
    return siret.substr(0, 9)


def month_start(d: ir.DateValue) -> ir.DateValue:
    """First day of the month of ``d``."""
    return d.truncate("M").cast("date")


def add_months(d: ir.DateValue, k: int | ir.IntegerValue) -> ir.DateValue:
    """``d`` plus ``k`` calendar months (``k`` a Python int or an integer column)."""
    step = ibis.interval(months=k) if isinstance(k, int) else k.as_interval("M")
    return (d + step).cast("date")


def months_between(a: ir.DateValue, b: ir.DateValue) -> ir.IntegerValue:
    """Whole calendar months from the month of ``a`` to the month of ``b`` (0 when in the same month)."""
    return (b.year() - a.year()) * 12 + b.month() - a.month()


def parse_month(value: str) -> dt.date:
    """``YYYY-MM`` (or ``YYYY-MM-DD``) → the first day of that month."""
    parts = value.strip().split("-")
    if len(parts) < 2:
        raise ValueError(f"{value!r}: expected YYYY-MM")
    return dt.date(int(parts[0]), int(parts[1]), 1)


def month_calendar(start: dt.date, end: dt.date) -> ibis.Table:
    """One row per month from ``start`` to ``end`` (inclusive): column ``periode`` (DATE, first of the month)."""
    months: list[dt.date] = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return ibis.memtable(pa.table({"periode": pa.array(months, pa.date32())}))


def siren_blacklist(
    stg_filter_import: ibis.Table, stg_sirene_ul: ibis.Table | None, stg_sirene: ibis.Table | None
) -> ibis.Table:
    """SIRENs of the imported filter that the perimeter excludes (the real ``siren_blacklist``), column ``siren``.

    Excluded: a legal category or NAF code of the excluded lists, or no head office with a département (abroad
    or unknown). Only SIRENs of ``stg_filter_import`` can be blacklisted: with no filter, nothing is. A rule
    whose SIRENE table is not known (``None``) is not applied, as the ingest does.
    """
    f = stg_filter_import.select("siren").distinct()
    parts: list[ibis.Table] = []
    if stg_sirene_ul is not None:
        ul = stg_sirene_ul.select(
            siren=stg_sirene_ul.siren,
            cat=stg_sirene_ul.categorie_juridique,
            ape=stg_sirene_ul.activite_principale,
        )
        bad_ul = ul.filter(
            ul.cat.isin(EXCLUDED_LEGAL_CATEGORIES)
            | ibis.or_(*(ul.ape.startswith(p) for p in EXCLUDED_NAF_PREFIXES))
        ).select("siren")
        parts.append(f.semi_join(bad_ul, "siren"))
    if stg_sirene is not None:
        sieges = stg_sirene.filter(
            stg_sirene.siege & stg_sirene.departement.notnull() & (stg_sirene.departement != "")
        ).select("siren")
        parts.append(f.anti_join(sieges, "siren"))
    if not parts:
        return f.filter(ibis.literal(False))
    return parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], distinct=True)


def drop_blacklisted(t: ibis.Table, blacklist: ibis.Table | None, siren: str = "siren") -> ibis.Table:
    """``t`` without the rows whose column ``siren`` is blacklisted."""
    if blacklist is None:
        return t
    b = blacklist.select(bl_siren=blacklist.siren)
    return t.anti_join(b, t[siren] == b.bl_siren)
