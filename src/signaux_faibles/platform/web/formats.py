"""French formats for the pages (Babel, locale ``fr_FR``; times in Europe/Paris), registered as Jinja filters.

``{{ n | fr_int }}`` → ``12 345``; ``{{ x | fr_decimal(2) }}`` → ``0,25``; ``{{ p | fr_percent }}`` → ``12,3 %``;
``{{ d | fr_date }}`` → ``05/12/2026``; ``{{ t | fr_datetime }}`` → ``05/12/2026 13:04`` (a naive time is UTC, as the
platform stores them). ``None`` and unparsable values give an empty string.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

__all__ = ["FILTERS", "PARIS", "fr_date", "fr_datetime", "fr_decimal", "fr_int", "fr_percent", "fr_points"]

LOCALE = "fr_FR"
PARIS = ZoneInfo("Europe/Paris")


def _number(v: Any, write: Callable[[float], Any]) -> str:
    """``write(float(v))`` as text; empty for nothing or for what is not a number."""
    if v is None or v == "":
        return ""
    try:
        return str(write(float(v)))
    except (TypeError, ValueError):
        return ""


def fr_int(v: Any) -> str:
    return _number(v, lambda f: format_decimal(round(f), format="#,##0", locale=LOCALE))


def fr_decimal(v: Any, digits: int = 1) -> str:
    return _number(v, lambda f: format_decimal(f, format="#,##0." + "0" * digits, locale=LOCALE))


def fr_percent(v: Any, digits: int = 1) -> str:
    """A share (0.123) as a French percentage (``12,3 %``)."""
    return _number(v, lambda f: format_percent(f, format="#,##0." + "0" * digits + " %", locale=LOCALE))


def _moment(v: Any) -> dt.datetime | dt.date | None:
    if isinstance(v, dt.datetime | dt.date):
        return v
    if isinstance(v, str) and v:
        try:
            return dt.datetime.fromisoformat(v)
        except ValueError:
            return None
    return None


def fr_datetime(v: Any) -> str:
    """A time in Europe/Paris, ``05/12/2026 13:04``."""
    m = _moment(v)
    if m is None:
        return ""
    if not isinstance(m, dt.datetime):
        return fr_date(m)
    if m.tzinfo is None:
        m = m.replace(tzinfo=dt.UTC)
    return str(format_datetime(m.astimezone(PARIS), "dd/MM/yyyy HH:mm", locale=LOCALE))


def fr_date(v: Any) -> str:
    m = _moment(v)
    if m is None:
        return ""
    if isinstance(m, dt.datetime):
        m = (m if m.tzinfo is None else m.astimezone(PARIS)).date()
    return str(format_date(m, "dd/MM/yyyy", locale=LOCALE))


def fr_points(v: Any, digits: int = 1) -> str:
    """A change of probability (0.049) as signed French percentage points (``+4,9 pts``)."""
    if v is None or v == "":
        return ""
    try:
        x = float(v) * 100
    except (TypeError, ValueError):
        return ""
    pattern = "#,##0." + "0" * digits
    return str(format_decimal(x, format=f"+{pattern};-{pattern}", locale=LOCALE)) + " pts"


FILTERS = {
    "fr_int": fr_int,
    "fr_points": fr_points,
    "fr_decimal": fr_decimal,
    "fr_percent": fr_percent,
    "fr_date": fr_date,
    "fr_datetime": fr_datetime,
}
