"""Text cells of spreadsheet exports (CSV, XLSX) made inert: no formula injection.

A spreadsheet program evaluates a cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (OWASP "CSV injection"). Every text cell of an export goes through :func:`neutralise`, which
prefixes such a text with a single quote, the form spreadsheet programs show as the text itself. Numbers are left
as they are (a negative amount stays a number).
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMULA_STARTS", "neutralise"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` itself, or for a text starting like a formula, that text behind a single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
