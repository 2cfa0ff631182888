"""The rules a source gives the readers: :class:`Check` (one rejection rule) and :class:`Projection`.

Both readers take the same :class:`Check`: the Python text reader (:mod:`.typed`) evaluates it over the raw
columns named by their raw header, the DuckDB reader (:mod:`.slow`, :mod:`.fast`) over the fields of a
:class:`Projection`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

from signaux_faibles.sources._base import Column
from signaux_faibles.sources._read.sniff import FileInfo
from signaux_faibles.sources._read.vector import VectorResult
from signaux_faibles.sources._sql import digits, ident, q, txt

__all__ = ["Check", "Projection", "optional_value", "required_value", "siren_checks", "siret_checks"]


@dataclass(frozen=True)
class Check:
    """One rejection rule, evaluated in SQL.

    Attributes
    ----------
    column : str or None
        Name reported in the quarantine (the raw header, or the staging column for the URSSAF sources).
    condition : str
        SQL boolean expression, true when the record breaks the rule (NULL counts as false).
    reason : str
        Why (one line, for the quarantine).
    level : {"row", "field"}
        ``row``: the record is dropped; ``field``: it is kept, the value having been set to NULL (or to the real
        system's default) by its column expression (the check only records it).
    raw : str or None
        SQL expression of the raw value reported (default: the raw column named ``column``).
    """

    column: str | None
    condition: str
    reason: str
    level: Literal["row", "field"] = "row"
    raw: str | None = None

    def raw_sql(self) -> str:
        """SQL expression of the raw value reported."""
        if self.raw is not None:
            return self.raw
        if self.column is None:
            return "NULL"
        return q(self.column)


@dataclass
class Projection:
    """What a source makes of the raw fields: one SQL expression per staging column, and the checks.

    ``unnest`` (optional) names a helper expression in ``exprs`` that is a SQL list, unnested into one row per
    non-NULL element ``_u`` (wide → long sources such as effectif); ``final`` then gives, for staging columns
    computed from ``_u``, their expression after the unnest (e.g. ``{"periode": "_u.periode"}``).
    """

    exprs: dict[str, str]
    checks: list[Check] = field(default_factory=list)
    unnest: str | None = None
    final: dict[str, str] = field(default_factory=dict)
    #: helper columns computed once, before ``exprs`` and ``checks`` (which may name them): name → SQL expression,
    #: or a list of such dicts evaluated in turn (a later one may name the columns of an earlier one)
    pre: dict[str, str] | list[dict[str, str]] = field(default_factory=dict)

    def select(self, columns: tuple[Column, ...]) -> str:
        """SQL select list of the staging columns, cast to their types (after the unnest, if any)."""
        return ", ".join(
            f"CAST({self.final.get(c.name, ident(c.name))} AS {c.type}) AS {ident(c.name)}" for c in columns
        )


def siret_checks(col: str) -> list[Check]:
    """Row-level checks of a SIRET raw column: present, 14 digits."""
    v = txt(col)
    return [
        Check(col, f"{v} IS NULL", "SIRET is empty"),
        Check(col, f"{v} IS NOT NULL AND NOT {digits(v, 14)}", "SIRET must be 14 digits"),
    ]


def siren_checks(col: str, expr: str | None = None) -> list[Check]:
    """Row-level checks of a SIREN: present, 9 digits (``expr`` when the value needs cleaning first)."""
    v = expr if expr is not None else txt(col)
    return [
        Check(col, f"{v} IS NULL", "SIREN is empty", raw=v),
        Check(col, f"{v} IS NOT NULL AND NOT {digits(v, 9)}", "SIREN must be 9 digits", raw=v),
    ]


def required_value(col: str, parsed: str, what: str) -> list[Check]:
    """Row-level checks of a mandatory typed value: present and readable."""
    v = txt(col)
    return [
        Check(col, f"{v} IS NULL", f"{what} is empty"),
        Check(col, f"{v} IS NOT NULL AND {parsed} IS NULL", f"{what} is not valid"),
    ]


def optional_value(col: str, parsed: str, what: str, level: Literal["row", "field"] = "row") -> Check:
    """Check of an optional typed value: when present, it must be readable."""
    v = txt(col)
    return Check(col, f"{v} IS NOT NULL AND {parsed} IS NULL", f"{what} is not valid", level)


@dataclass(frozen=True)
class Job:
    """One file for the DuckDB reader, and what its source asks of it (passed along the reader's stages)."""

    info: FileInfo
    columns: tuple[Column, ...]
    project: Callable[[dict[str, str], tuple[str, ...]], Projection]
    delimiter: str
    #: indices of the raw fields hashed to find candidate duplicates
    hashed: tuple[int, ...]
    exact_field_count: bool = True
    vector: Callable[[dict[str, pa.ChunkedArray]], VectorResult] | None = None
    required: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
