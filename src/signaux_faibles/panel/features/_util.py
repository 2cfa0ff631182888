"""Helpers of the feature modules: dense grids, "as of" joins, lags, month windows (engine-agnostic)."""

from __future__ import annotations

import datetime as dt

import ibis

from signaux_faibles.panel.clean._common import add_months, month_calendar

__all__ = [
    "LOOKBACK_MONTHS",
    "asof",
    "extended_calendar",
    "grid",
    "month_events",
    "months_window",
]

#: Months computed before the window so that lags (up to 24 months) and 12-month means are defined at its start.
LOOKBACK_MONTHS = 24


def extended_calendar(first: dt.date, last: dt.date) -> ibis.Table:
    """Months from ``first`` − 24 months to ``last`` (``periode``)."""
    y, m = divmod(first.year * 12 + first.month - 1 - LOOKBACK_MONTHS, 12)
    return month_calendar(dt.date(y, m + 1, 1), last)


def grid(keys: ibis.Table, calendar: ibis.Table) -> ibis.Table:
    """Every distinct key of ``keys`` (one column) × every month of ``calendar``: dense, one row per month."""
    return keys.distinct().cross_join(calendar.select("periode"))


def join_on_grid(
    parts: list[ibis.Table], calendar: ibis.Table, keys: list[ibis.Table] | None = None
) -> ibis.Table:
    """Every SIREN of ``parts`` (and of ``keys``, tables with a ``siren`` column) × every month of ``calendar``,
    each part's columns left-joined on (siren, periode)."""
    sirens = parts[0].select("siren")
    for p in [*parts[1:], *(keys or [])]:
        sirens = sirens.union(p.select("siren"))
    t = grid(sirens, calendar)
    for p in parts:
        p = p.rename(_k="siren", _p="periode")
        t = t.left_join(p, [t.siren == p._k, t.periode == p._p]).drop("_k", "_p")
    return t


def _one_per_date(e: ibis.Table, cols: list[str]) -> ibis.Table:
    """Events (``_e_key``, ``asof_date``, ``cols``, …) reduced to one per key and date: the largest ``cols`` first.
    With one value column and nothing else, that is its maximum (a hash aggregate, no sort)."""
    if len(cols) == 1 and sorted(e.columns) == sorted(["_e_key", "asof_date", *cols]):
        return e.group_by(["_e_key", "asof_date"]).agg(**{cols[0]: e[cols[0]].max()})
    we = ibis.window(group_by=[e._e_key, e.asof_date], order_by=[e[c].desc() for c in cols])
    return e.mutate(_rn=ibis.row_number().over(we)).filter(lambda t: t._rn == 0).drop("_rn")


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

    ``g`` must be unique on ``(key, periode)`` (a grid). The newest event dated ``<= periode`` is found by a
    forward fill (no ``asof_join``: Spark): the events' dates and ``g``'s months are stacked, ordered per key by
    date (an event before a month of the same date), and each month takes the running maximum of the event dates
    before it; the event's columns are then joined on ``(key, date)``. Events sharing a key and date are reduced
    first to one (largest ``cols`` first). That event counts only when ``date > periode - max_age_months`` (when
    given) and ``periode < valid_until`` (when given; the validity end must grow with the date, as a publication
    date + a fixed validity: then the newest event is the only candidate). Linear in ``g`` + ``events``: a range
    join on ``date <= periode`` grows with months × events per key. Adds ``asof_date`` (the event's date, NULL
    when none). Rows of ``g`` are all kept. When ``g`` is a bare grid (only ``key`` and ``periode``), its months are taken
    from the stacked table itself instead of being joined back.
    """
    e = events.select(
        _e_key=events[key],
        asof_date=events[date_col],
        **{c: events[c] for c in cols},
        **({"_e_until": events[valid_until]} if valid_until else {}),
    )
    e = _one_per_date(e.filter(e._e_key.notnull() & e.asof_date.notnull()), cols)
    dtype = e.asof_date.type()
    months = g.select(_s_key=g[key], _s_date=g.periode.cast(dtype), _s_event=ibis.null(dtype), _s_kind=1)
    dates = e.select(_s_key=e._e_key, _s_date=e.asof_date, _s_event=e.asof_date, _s_kind=0)
    s = months.union(dates)
    ws = ibis.window(group_by=s._s_key, order_by=[s._s_date, s._s_kind], preceding=None, following=0)
    s = s.mutate(_s_last=s._s_event.max().over(ws))
    s = s.filter(s._s_kind == 1).drop("_s_event", "_s_kind")
    if sorted(g.columns) == sorted([key, "periode"]):  # a bare grid: the months of ``s`` are its rows
        j = s.select(**{key: s._s_key}, periode=s._s_date.cast(g.periode.type()), _s_last=s._s_last)
    else:
        j = g.left_join(s, [g[key] == s._s_key, g.periode.cast(dtype) == s._s_date]).drop("_s_key", "_s_date")
    j = j.left_join(e, [j[key] == e._e_key, j._s_last == e.asof_date]).drop("_e_key", "_s_last")
    ok = j.asof_date.notnull()
    if max_age_months is not None:
        ok = ok & (j.asof_date > add_months(j.periode, -max_age_months))
    if valid_until is not None:
        ok = ok & (j.periode < j._e_until).fill_null(False)
    j = j.mutate(**{c: ibis.ifelse(ok, j[c], ibis.null(j[c].type())) for c in ["asof_date", *cols]})
    return j.select(*g.columns, "asof_date", *cols)


def month_events(
    events: ibis.Table,
    key: str,
    cols: list[str],
    calendar: ibis.Table,
    max_age_months: int | None = None,
    unique: bool = False,
) -> ibis.Table:
    """ "As of" for monthly events: ``(key, periode, asof_date, *cols)`` for every month of ``calendar`` at or after
    an event of the key and before its next event (and, when given, less than ``max_age_months`` after it): the
    newest event dated ``<= periode``, as :func:`asof` gives on a grid, but **only the months that have one** (no
    row otherwise). ``events.periode`` must be first days of months, like the calendar.

    Linear and cheaper than a grid: each event is stretched over its months (a join with the small calendar on
    ``event <= month < next event``); only the events are sorted (for the next one), not key × months. Events
    sharing a key and month are reduced first to one (largest ``cols`` first) unless ``unique=True``.
    """
    e = events.select(_e_key=events[key], asof_date=events.periode, **{c: events[c] for c in cols})
    e = e.filter(e._e_key.notnull() & e.asof_date.notnull())
    if not unique:
        e = _one_per_date(e, cols)
    e = e.mutate(asof_date=e.asof_date.cast(calendar.periode.type()))
    w = ibis.window(group_by=e._e_key, order_by=e.asof_date)
    end = e.asof_date.lead().over(w).fill_null(ibis.date(9999, 12, 1))
    e = e.mutate(_end=end)
    if max_age_months is not None:
        e = e.mutate(_end=ibis.least(e._end, add_months(e.asof_date, max_age_months)))
    cal = calendar.select(_m=calendar.periode)
    j = e.join(cal, [cal._m >= e.asof_date, cal._m < e._end])
    return j.select(**{key: j._e_key}, periode=j._m, asof_date=j.asof_date, **{c: j[c] for c in cols})


def months_window(t: ibis.Table, key: str, months: int) -> ibis.expr.builders.LegacyWindowBuilder:
    """The ``months`` calendar months ``periode - (months-1) .. periode`` of a key, as a ROWS frame: ``t`` must be
    dense per key (one row per month). Same partition and order as the lags' window (``group_by=key``,
    ``order_by=periode``), so the engine sorts once for every window of a projection."""
    return ibis.window(group_by=t[key], order_by=t.periode, preceding=months - 1, following=0)
