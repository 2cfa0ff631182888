"""URSSAF head counts: per établissement (``*effectif_*``, SIRET) and per company (``sigfaible_effectif_siren``).

Wide files, one column per month named ``effAAAAQM`` (or ``effAAQM``; Q the quarter, M the month in the quarter,
read with the URSSAF period rule), turned into long rows ``(siret|siren, periode, effectif)``.
Cleanup as the real parsers (opensignauxfaibles ``lib/parsing/effectif``): non-digits (thousands separators,
spaces) are stripped; an empty cell is missing (no row). Beyond the real system: a cell with no digit at all, or
a negative value, is dropped with a field-level quarantine record (the rest of the line is kept); a malformed
SIRET/SIREN rejects the line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from signaux_faibles.sources import _sql as sql
from signaux_faibles.sources._read import Cell, Check, DelimitedSource, Projection
from signaux_faibles.sources._read.spec import gz
from signaux_faibles.sources.urssaf import SIRET

__all__ = ["EFFECTIF", "EFFECTIF_ENT", "effectif_columns", "urssaf_period"]

_EFF = re.compile(r"^eff", re.IGNORECASE)


def urssaf_period(code: str) -> tuple[dt.date, dt.date] | None:
    """``YYQM`` / ``YYYYQM`` → (first day, first day after), as ``UrssafToPeriod``; ``None`` when invalid."""
    if len(code) == 4 and code.isdigit():
        code = ("20" if code[:2] < "50" else "19") + code
    if len(code) != 6 or not code.isdigit():
        return None
    year, qq, m = int(code[:4]), int(code[4]), int(code[5])
    if code[4:] == "62":
        start, length = 1, 12
    elif m == 0:
        start, length = (qq - 1) * 3 + 1, 3
    else:
        start, length = (qq - 1) * 3 + m, 1

    def month(k: int) -> dt.date:  # k-th month from January of `year` (1-based), rolled over
        y, mm = divmod(k - 1, 12)
        return dt.date(year + y, mm + 1, 1)

    return month(start), month(start + length)


def effectif_columns(header: tuple[str, ...]) -> list[tuple[str, dt.date]]:
    """The ``eff…`` columns of a header (lower-cased) with the first day of their month."""
    out = []
    for name in header:
        if _EFF.match(name):
            period = urssaf_period(name[3:9])
            if period is not None:
                out.append((name.lower(), period[0]))
    return out


def _cells(f: dict[str, str], header: tuple[str, ...], value: str) -> tuple[str, list[Check]]:
    items, checks = [], []
    for name, start in effectif_columns(header):
        raw = f[name]
        clean = f"regexp_replace({raw}, '[^0-9]', '', 'g')"
        num = f"try_cast({clean} AS INTEGER)"
        negative = f"regexp_matches({raw}, '^\\s*-\\s*[0-9]')"
        ok = f"({raw} <> '' AND {num} IS NOT NULL AND NOT {negative})"
        items.append(
            f"CASE WHEN {ok} THEN {{'periode': DATE '{start.isoformat()}', '{value}': {num}}} END"
        )
        checks.append(
            Check(value, f"{raw} <> '' AND ({num} IS NULL OR {negative})", f"{name}: not a head count (value dropped, row kept)", raw=raw, level="field")
        )
    return "[" + ", ".join(items) + "]" if items else "[]", checks


def _wide(key: Cell, value: str) -> Callable[[dict[str, str], tuple[str, ...]], Projection]:
    """The projection of a wide file: the key (checked), the account if any, one cell per month, unnested."""
    raw = key.name

    def project(f: dict[str, str], header: tuple[str, ...]) -> Projection:
        cells, checks = _cells(f, header, value)
        account = {"numero_compte": f.get("compte", "NULL")} if key.name == "siret" else {}
        return Projection(
            exprs={key.name: f[raw], **account, "_cells": cells},
            checks=[key.check(f[raw]), *checks],
            unnest="_cells",
            final={"periode": "_u.periode", value: f"_u.{value}"},
        )

    return project


_SIRET = replace(SIRET, raw="siret")
_SIREN = Cell("siren", "siren", "VARCHAR", "SIREN of the company", invalid=lambda x: f"NOT {sql.is_siren(x)}",
              reason="siren: expected 9 digits")
_MONTH = Cell("periode", "effAAAAQM", "DATE", "first day of the month of the column")


def _count(name: str) -> Cell:
    return Cell(name, "effAAAAQM", "INTEGER", "head count (non-digits stripped)")


def _wide_source(name: str, key: Literal["siret", "siren"], cell: Cell, pattern: re.Pattern[str],
                 *more: Cell) -> DelimitedSource:
    """A wide head-count file: its key, the other cells, one row per month and head count."""
    return DelimitedSource(name, f"stg_{name}", "stock", key, (pattern,), cells=(cell, *more, _MONTH, _count(name)),
                           required=(key,), project=_wide(cell, name))


EFFECTIF = _wide_source("effectif", "siret", _SIRET, re.compile(r"effectif_", re.IGNORECASE),
                        Cell("numero_compte", "compte", "VARCHAR", "URSSAF account number"))
EFFECTIF_ENT = _wide_source("effectif_ent", "siren", _SIREN,
                            gz(r"^sigfaible_effectif_siren\.csv", ignore_case=True))
