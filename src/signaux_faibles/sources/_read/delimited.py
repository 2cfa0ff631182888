"""Delimited sources read in DuckDB (URSSAF, effectif): :func:`parse_delimited` and :class:`DelimitedSource`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa

from signaux_faibles.sources._base import Column, ParseResult, fatal_result
from signaux_faibles.sources._read.fast import parse_fast
from signaux_faibles.sources._read.prescan import Fallback
from signaux_faibles.sources._read.rules import Check, Job, Projection
from signaux_faibles.sources._read.slow import parse_slow
from signaux_faibles.sources._read.sniff import FatalError, field_names, sniff
from signaux_faibles.sources._read.spec import Declared
from signaux_faibles.sources._read.vector import VectorResult


def parse_delimited(
    path: Path,
    con: duckdb.DuckDBPyConnection,
    *,
    columns: tuple[Column, ...],
    project: Callable[[dict[str, str], tuple[str, ...]], Projection],
    required: Sequence[str],
    delimiter: str = ";",
    exact_field_count: bool = True,
    dedup: Sequence[str] = (),
    vector: Callable[[dict[str, pa.ChunkedArray]], VectorResult] | None = None,
    categorical: Sequence[str] = (),
) -> ParseResult:
    """Parse a delimited file into typed rows and rejections (see the docstring of :mod:`signaux_faibles.sources._read`).

    Parameters
    ----------
    columns
        The source's staging columns (the output has these, in order, plus ``_line``).
    project
        Called with (raw header lower-cased → SQL expression of that field, header) and returns the
        :class:`Projection`. Field expressions are VARCHAR, never NULL for a record with the right field count.
    required
        Raw headers that must be present (case-insensitive); a missing one is a whole-file error.
    exact_field_count
        When true a record must have exactly as many fields as the header.
    dedup
        Raw headers whose hash picks the candidate duplicates (default: every field); candidates are then
        compared on their whole raw line, so this only trades speed, never exactness.
    vector
        Optional typing of the raw fields with numpy (:mod:`.vector`), used with Arrow's CSV reader when the file
        has no double quote and no NUL byte; records it is not sure of take the per-line rules.
    categorical
        Raw headers with few distinct values that the Arrow reader gives ``vector`` dictionary-encoded (it should
        read them with :func:`.vector.by_value`).
    """
    try:
        info = sniff(path, delimiter)
    except FatalError as exc:
        return fatal_result(columns, str(exc))
    lower = [h.lower() for h in info.header]
    missing = [r for r in required if r.lower() not in lower]
    if missing:
        return fatal_result(
            columns,
            f"{path.name}: missing column(s) {', '.join(missing)}; expected a header with "
            f"{delimiter.join(required)} (found {delimiter.join(info.header)[:300]})",
        )
    names = field_names(info.header)
    hashed = tuple(i for i in range(len(info.header)) if i in {names[h.lower()] for h in dedup if h.lower() in names}) \
        or tuple(range(len(info.header)))
    job = Job(info, columns, project, delimiter, hashed, exact_field_count, vector, tuple(required), tuple(categorical))
    if exact_field_count:
        try:
            return parse_fast(con, job)
        except Fallback:
            pass
    return parse_slow(con, job)


@dataclass(frozen=True)
class Cell:
    """One staging column of a :class:`DelimitedSource`, said once.

    The raw field is a VARCHAR SQL expression (``''`` when empty, never NULL); ``value`` and ``invalid`` build
    SQL from it. ``value``: ``None`` keeps the raw field as is, a string is SQL over the projection's helper
    columns. ``invalid``: true when the record breaks the rule, reported with ``reason`` at ``level`` under the
    staging column's name.
    """

    name: str
    raw: str | None
    type: str
    description: str
    value: Callable[[str], str] | str | None = None
    invalid: Callable[[str], str] | None = None
    reason: str = ""
    level: Literal["row", "field"] = "row"

    def column(self) -> Column:
        """The staging column."""
        return Column(self.name, self.type, self.raw, self.description)

    def check(self, x: str) -> Check:
        """The cell's rule over the raw field ``x``."""
        if self.invalid is None:
            raise ValueError(f"cell {self.name!r} has no rule")
        return Check(self.name, self.invalid(x), self.reason, self.level, raw=x)


@dataclass(frozen=True)
class DelimitedSource(Declared):
    """A :class:`~signaux_faibles.sources._base.Source` read by :func:`parse_delimited`, declared by its cells.

    The staging columns and the raw headers that must be present (``required``, by default every cell's) come
    from the cells; so does the projection (values and checks, the checks in the cells' order or as
    ``check_order`` names them), unless ``project`` gives one: it receives (raw header lower-cased → SQL field
    expression, header) and returns a :class:`Projection`.
    """

    cells: tuple[Cell, ...]
    project: Callable[[dict[str, str], tuple[str, ...]], Projection] | None = None
    required: tuple[str, ...] = ()
    check_order: tuple[str, ...] = ()
    delimiter: str = ";"
    exact_field_count: bool = True
    #: raw headers hashed to find candidate duplicates (default: all); see :func:`parse_delimited`
    dedup: tuple[str, ...] = ()
    #: optional vectorised typing for the Arrow reader; see :func:`parse_delimited`
    vector: Callable[[dict[str, pa.ChunkedArray]], VectorResult] | None = None
    #: raw headers with few distinct values, dictionary-encoded by the Arrow reader; see :func:`parse_delimited`
    categorical: tuple[str, ...] = ()
    columns: tuple[Column, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(c.column() for c in self.cells))
        if not self.required:
            raws = dict.fromkeys(c.raw for c in self.cells if c.raw is not None)
            object.__setattr__(self, "required", tuple(raws))

    def projection(self, f: dict[str, str], header: tuple[str, ...]) -> Projection:
        """The source's :class:`Projection` of the raw fields ``f``."""
        if self.project is not None:
            return self.project(f, header)
        exprs: dict[str, str] = {}
        checks: list[Check] = []
        for c in self.cells:
            x = f[c.raw.lower()] if c.raw is not None else "NULL"
            exprs[c.name] = x if c.value is None else c.value if isinstance(c.value, str) else c.value(x)
            if c.invalid is not None:
                checks.append(c.check(x))
        rank = {name: i for i, name in enumerate(self.check_order)}
        checks.sort(key=lambda k: rank.get(k.column or "", len(rank)))
        return Projection(exprs=exprs, checks=checks)

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one file (never raises on bad data)."""
        return parse_delimited(
            path,
            con,
            columns=self.columns,
            project=self.projection,
            required=self.required,
            delimiter=self.delimiter,
            exact_field_count=self.exact_field_count,
            dedup=self.dedup,
            vector=self.vector,
            categorical=self.categorical,
        )
