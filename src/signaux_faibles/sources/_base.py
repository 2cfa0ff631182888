"""The contract every data source implements.

A *source* is one kind of partner file (the real system's "parser type": ``debit``, ``cotisation``, ``apconso``,
``sirene``…). It declares, once, which file names it reads (``patterns``), which staging table it fills
(``table``), the raw header → column → type mapping (``columns``), and how to parse one file into typed rows plus
rejections (``parse``).

Conventions
-----------
- ``ParseResult.rows`` has exactly the columns of ``source.columns`` in order, typed as declared, plus ``_line``
  (int64): the physical line of the file where the record starts, 1-based, the header being line 1.
- ``ParseResult.rejections`` has the columns of :data:`REJECTION_SCHEMA`. ``level == "row"`` means the record was
  dropped; ``level == "field"`` means the record was kept but one of its raw values was dropped (set to NULL).
- ``read == rows.num_rows + number of distinct lines rejected at row level``: every record is accounted for.
- ``fatal`` is set when the whole file cannot be read (unreadable encoding, truncated gzip, missing mandatory
  column, empty, binary); ``rows`` and ``rejections`` are then empty and ``read`` is 0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import duckdb
import pyarrow as pa

__all__ = [
    "ARROW_TYPES",
    "REJECTION_SCHEMA",
    "Column",
    "ParseResult",
    "Record",
    "Source",
    "empty_rejections",
    "empty_rows",
    "fatal_result",
    "nul_reason",
    "open_quote_field",
    "rejections_table",
    "rows_schema",
    "stray_quote_field",
    "stray_quote_reason",
]

#: DuckDB logical type name → Arrow type, for the types a staging column may have.
ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
}

#: Schema of ``ParseResult.rejections``.
REJECTION_SCHEMA = pa.schema(
    [
        pa.field("line", pa.int64(), nullable=False),
        pa.field("column", pa.string()),
        pa.field("raw_value", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("level", pa.string(), nullable=False),  # "row" | "field"
    ]
)


@dataclass(frozen=True)
class Column:
    """One staging column.

    Attributes
    ----------
    name : str
        Staging column name, the real system's full name (e.g. ``part_ouvriere``, ``periode_prise_en_compte``).
    type : str
        DuckDB/Arrow logical type: one of the keys of :data:`ARROW_TYPES`.
    raw : str or None
        Raw header it comes from (matched case-insensitively); ``None`` when derived.
    description : str
        One line for the data dictionary.
    """

    name: str
    type: str
    raw: str | None
    description: str = ""

    def __post_init__(self) -> None:
        if self.type not in ARROW_TYPES:
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r} (expected one of {list(ARROW_TYPES)})")


@dataclass
class ParseResult:
    """What parsing one file gives.

    Attributes
    ----------
    rows : pyarrow.Table
        Typed staging rows: ``source.columns`` in order, plus ``_line`` (int64, physical line where the record
        starts, header = line 1).
    rejections : pyarrow.Table
        Schema :data:`REJECTION_SCHEMA` (line, column, raw_value, reason, level).
    read : int
        Data records read (header excluded). ``read == rows.num_rows + distinct row-level rejected lines``.
    fatal : str or None
        Whole-file error, one clear message naming what was expected; rows and rejections are then empty.
    """

    rows: pa.Table
    rejections: pa.Table
    read: int
    fatal: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def rejected_rows(self) -> int:
        """Number of distinct lines rejected at row level."""
        if self.rejections.num_rows == 0:
            return 0
        levels = self.rejections.column("level").to_pylist()
        lines = self.rejections.column("line").to_pylist()
        return len({ln for ln, lv in zip(lines, levels, strict=True) if lv == "row"})


def rows_schema(columns: tuple[Column, ...]) -> pa.Schema:
    """Arrow schema of ``ParseResult.rows`` for these columns (``_line`` appended)."""
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in columns] + [pa.field("_line", pa.int64())])


def empty_rejections() -> pa.Table:
    """An empty rejections table with :data:`REJECTION_SCHEMA`."""
    return pa.Table.from_batches([], schema=REJECTION_SCHEMA)  # Schema.empty_table() imports pandas (seconds)


def empty_rows(columns: tuple[Column, ...]) -> pa.Table:
    """An empty rows table for these columns."""
    return pa.Table.from_batches([], schema=rows_schema(columns))


#: One rejection as a tuple: (line, column, raw_value, reason, level).
Record = tuple[int, str | None, str | None, str, str]


def rejections_table(records: Sequence[Record]) -> pa.Table:
    """A rejections table (:data:`REJECTION_SCHEMA`) from (line, column, raw_value, reason, level) tuples."""
    if not records:
        return empty_rejections()
    cols = list(zip(*records, strict=True))
    return pa.table([pa.array(c, type=f.type) for c, f in zip(cols, REJECTION_SCHEMA, strict=True)],
                    schema=REJECTION_SCHEMA)


def fatal_result(columns: tuple[Column, ...], message: str) -> ParseResult:
    """A ``ParseResult`` for a file that cannot be read at all."""
    return ParseResult(rows=empty_rows(columns), rejections=empty_rejections(), read=0, fatal=message)


#: What a quoted field must look like, said in the quarantine reasons.
QUOTE_RULE = 'a double quote only around a whole field ("...", a quote inside written "")'
_QUOTED_FIELD = re.compile(r'"(?:[^"]|"")*"')


def open_quote_field(line: str, delimiter: str) -> int | None:
    """Index (0-based) of the field where a quoted field opens and is still open at the end of ``line``.

    Follows the rules of Python's lenient CSV reader: a quote opens a quoted field only at the start of a field
    (elsewhere it is a literal character), ``""`` inside a quoted field is a quote, and the field ends at the
    next lone quote. ``None`` when every quoted field of the line is closed on the line.
    """
    text = line.rstrip("\r\n")
    field_no, i, n = 0, 0, len(text)
    at_start, opened = True, -1
    while i < n:
        if opened >= 0:  # inside a quoted field
            j = text.find('"', i)
            if j < 0:
                return opened
            if text.startswith('""', j):
                i = j + 2
                continue
            opened, i = -1, j + 1  # closed; what follows up to the delimiter is kept as is
            continue
        if text.startswith(delimiter, i):
            field_no, at_start, i = field_no + 1, True, i + len(delimiter)
            continue
        if at_start and text[i] == '"':
            opened = field_no
        at_start, i = False, i + 1
    return opened if opened >= 0 else None


def stray_quote_field(line: str, delimiter: str) -> int | None:
    """Index (0-based) of the first field of ``line`` (split on ``delimiter``) that holds a double quote without
    being a whole quoted field (``"..."``, inner quotes doubled); ``None`` if there is none."""
    for k, value in enumerate(line.rstrip("\r\n").split(delimiter)):
        if '"' in value and not _QUOTED_FIELD.fullmatch(value):
            return k
    return None


def _field_name(k: int | None, header: tuple[str, ...] | list[str]) -> str | None:
    return header[k].strip().strip('"') if k is not None and 0 <= k < len(header) else None


def _where(k: int | None, name: str | None) -> str:
    if k is None:
        return ""
    return f" in field {k + 1} ({name})" if name is not None else f" in field {k + 1}"


def stray_quote_reason(
    k: int | None,
    header: tuple[str, ...] | list[str],
    *,
    start: int | None = None,
    end: int | None = None,
    closed: bool = True,
) -> tuple[str | None, str]:
    """(column, reason) of a line rejected for a stray double quote in its field ``k`` (0-based).

    ``start``/``end``: the physical lines a reader's quoted field ran over (the lines after ``start`` are read
    again, one record each); ``end`` is ``None`` when it ran to the end of the file; ``closed`` is false when the
    reader gave up on line ``end`` with the field still open (the field size limit).
    """
    name = _field_name(k, header)
    where = _where(k, name)
    if start is None:
        span = ""
    elif end is None:
        span = f"; the quoted field opened on line {start} is not closed before the end of the file"
    elif not closed:
        span = f"; the quoted field opened on line {start} is still open on line {end}"
    else:
        span = f"; a quoted field runs from line {start} to line {end}"
    return name, (f"malformed line: unbalanced or stray double quote{where}{span}; expected {len(header)} fields "
                  f"on one line, {QUOTE_RULE}")  # fmt: skip


def nul_reason(line: str, delimiter: str, header: tuple[str, ...] | list[str]) -> tuple[str | None, str]:
    """(column, reason) of a line rejected for a NUL byte (the first field holding one)."""
    k = next((i for i, v in enumerate(line.split(delimiter)) if "\x00" in v), None)
    name = _field_name(k, header)
    where = _where(k, name)
    return name, f"binary content: the line holds a NUL byte{where} (shown as \\0), expected text"


@runtime_checkable
class Source(Protocol):
    """A kind of partner file.

    Attributes
    ----------
    name : str
        Parser type of the real system (``debit``, ``cotisation``, ``apconso``, ``sirene``…).
    table : str
        Staging table (``stg_debit``…).
    kind : {"stock", "flux"}
        ``stock``: a batch's file replaces the previous batches' rows; ``flux``: it adds to them.
    key : {"siret", "siren"} or None
        Perimeter key column; ``None`` when the source is not filtered (e.g. SIRENE).
    patterns : tuple of re.Pattern
        File-name patterns (``real_system.md`` §1.1, legacy included, ``.gz`` allowed).
    columns : tuple of Column
        Staging columns, in order.
    """

    # read-only members: plain or frozen dataclass fields both satisfy them
    @property
    def name(self) -> str: ...
    @property
    def table(self) -> str: ...
    @property
    def kind(self) -> Literal["stock", "flux"]: ...
    @property
    def key(self) -> Literal["siret", "siren"] | None: ...
    @property
    def patterns(self) -> tuple[re.Pattern[str], ...]: ...
    @property
    def columns(self) -> tuple[Column, ...]: ...

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one file into typed rows and rejections (never raises on bad data)."""
        ...
