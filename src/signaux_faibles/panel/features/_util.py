"""Helpers of the feature modules: dense grids, "as of" joins, lags, calendar-month means (engine-agnostic)."""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from signaux_faibles.panel.clean._common import add_months, month_calendar

__all__ = ["LOOKBACK_MONTHS", "asof", "extended_calendar", "grid", "lags", "mean_months", "sum_over_months"]

#: Months computed before the window so that lags (up to 24 months) and 12-month means are defined at its start.
LOOKBACK_MONTHS = 24


def extended_calendar(first: dt.date, last: dt.date) -> ibis.Table:
    """Months from ``first`` − 24 months to ``last`` (``periode``)."""
    y, m = divmod(first.year * 12 + first.month - 1 - LOOKBACK_MONTHS, 12)
    return month_calendar(dt.date(y, m + 1, 1), last)


def grid(keys: ibis.Table, calendar: ibis.Table) -> ibis.Table:
    """Every distinct key of ``keys`` (one column) × every month of ``calendar``: dense, one row per month."""
    return keys.distinct().cross_join(calendar.select("periode"))


def join_on_grid(parts: list[ibis.Table], calendar: ibis.Table) -> ibis.Table:
    """Every SIREN of ``parts`` × every month of ``calendar``, each part's columns left-joined on (siren, periode)."""
    sirens = parts[0].select("siren")
    for p in parts[1:]:
        sirens = sirens.union(p.select("siren"))
    t = grid(sirens, calendar)
    for p in parts:
        p = p.rename(_k="siren", _p="periode")
        t = t.left_join(p, [t.siren == p._k, t.periode == p._p]).drop("_k", "_p")
    return t


def asof(
    g: ibis.Table,
    events: ibis.Table,
    key: str,
    date_col: str,
    cols: list[str],
    max_age_months: int | None = None,
    valid_until: str | None = None,
) -> ibis.Table:
    """For each ``(key, periode)`` of ``g``: ``cols`` of the newest event of the key dated ``<= periode``.

    Left join on ``date <= periode`` (and ``date > periode - max_age_months`` when given, and
    ``periode < valid_until`` when given) + ``row_number()`` newest first, keep the first (no ``asof_join``:
    Spark). Adds ``asof_date`` (the event's date, NULL when none). Rows of ``g`` are all kept.
    """
    e = events.select(
        _e_key=events[key],
        asof_date=events[date_col],
        **{c: events[c] for c in cols},
        **({"_e_until": events[valid_until]} if valid_until else {}),
    )
    cond = [g[key] == e._e_key, e.asof_date <= g.periode]
    if max_age_months is not None:
        cond.append(e.asof_date > add_months(g.periode, -max_age_months))
    if valid_until is not None:
        cond.append(g.periode < e._e_until)
    j = g.left_join(e, cond)
    w = ibis.window(group_by=[j[key], j.periode], order_by=[j.asof_date.desc(), *[j[c].desc() for c in cols]])
    j = j.mutate(_rn=ibis.row_number().over(w))
    j = j.filter(j._rn == 0)
    return j.drop("_rn", "_e_key", *(["_e_until"] if valid_until else []))


def lags(t: ibis.Table, key: str, col: str, ks: tuple[int, ...], name: str | None = None) -> ibis.Table:
    """Add ``<name>_past_<k>`` = ``col`` k months before. ``t`` must be dense per key (one row per month)."""
    name = name or col
    w = ibis.window(group_by=t[key], order_by=t.periode)
    return t.mutate(**{f"{name}_past_{k}": t[col].lag(k).over(w) for k in ks})


def _range(t: ibis.Table, key: str, months: int) -> ibis.expr.builders.LegacyWindowBuilder:
    return ibis.range_window(
        group_by=t[key], order_by=t.periode, preceding=ibis.interval(months=months - 1), following=0
    )


def mean_months(
    t: ibis.Table, key: str, col: str, months: int, require_all: bool = False
) -> ir.FloatingValue:
    """Mean of ``col`` over the calendar months ``periode - (months-1) .. periode`` (non-NULL values only);
    NULL unless all ``months`` values are present when ``require_all``."""
    w = _range(t, key, months)
    mean = t[col].mean().over(w)
    if require_all:
        return ibis.ifelse(t[col].count().over(w) >= months, mean, ibis.null("float64"))
    return mean


def sum_over_months(t: ibis.Table, key: str, col: str, months: int) -> ir.NumericValue:
    """Sum of ``col`` over the calendar months ``periode - (months-1) .. periode``."""
    return t[col].sum().over(_range(t, key, months))
