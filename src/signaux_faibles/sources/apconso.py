"""DGEFP activité partielle, consommations (``consommation_ap.csv``) → ``stg_apconso``.

Raw format (real_system.md §1.3): ``,``-separated CSV, quoted header
``"ID_DA","ETAB_SIRET","HEURES","MONTANTS","EFFECTIFS","MOIS"``, ``MOIS`` as ``YYYY-MM-DD``.
As in the real parser (OSF ``lib/parsing/apconso``), a line whose date or numbers cannot be read is rejected
as a whole; an empty, short or non-numeric SIRET is rejected; a bad Luhn key is only flagged.

This module also holds the reading toolkit shared by the DGEFP, SIRENE and legacy parsers (``read_text``,
``Check``, ``finish`` and the SQL snippet builders): one streaming pass that splits a text file into records with
their physical line, rejecting malformed lines one by one, then one DuckDB query that types and validates the
records. It would naturally live in a private ``_text.py`` module next to ``_base.py``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

import duckdb
import pyarrow as pa

from signaux_faibles.sources._base import (
    REJECTION_SCHEMA,
    Column,
    ParseResult,
    fatal_result,
    nul_reason,
    open_quote_field,
    rows_schema,
    stray_quote_reason,
)

__all__ = [
    "APCONSO",
    "ApconsoSource",
    "Check",
    "RawRead",
    "finish",
    "read_text",
]

# ----------------------------------------------------------------------------------------------------------------
# Shared toolkit, stage 1: bytes → records (physical lines, per-line encoding check, structural rejections)
# ----------------------------------------------------------------------------------------------------------------

_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF = 65536
_BATCH = 100_000
_MAX_RAW = 300  # raw values kept in rejections are cut to this many characters


class FileError(Exception):
    """A whole-file problem (becomes ``ParseResult.fatal``)."""


@dataclass
class RawRead:
    """Records of one file, as raw strings, before typing.

    Attributes
    ----------
    table : pyarrow.Table
        One string column per wanted raw column (named by its canonical raw header), plus ``_line`` (int64, where
        the record starts) and ``_hash`` (int64, hash of the whole raw record, to find exact duplicates).
    read : int
        Records read (header excluded), rejected ones included.
    rejections : list of tuple
        Row-level rejections found while reading: ``(line, column, raw_value, reason, "row")``.
    fatal : str or None
        Whole-file error.
    """

    table: pa.Table
    read: int
    rejections: list[tuple[int, str | None, str | None, str, str]] = field(default_factory=list)
    fatal: str | None = None


def _cut(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.rstrip("\r\n")
    return text if len(text) <= _MAX_RAW else text[:_MAX_RAW] + "…"


def open_binary(path: Path) -> IO[bytes]:
    """Open a plain or gzip file (detected by its magic bytes, whatever its name) for binary reading."""
    raw = path.open("rb")
    head = raw.read(2)
    raw.seek(0)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def read_all_bytes(path: Path) -> bytes:
    """The whole content of a plain or gzip file; raise :class:`FileError` on a truncated or corrupt gzip."""
    try:
        with open_binary(path) as f:
            return f.read()
    except (EOFError, OSError, zlib.error) as e:
        raise FileError(f"{path.name}: truncated or corrupt gzip file ({e})") from e


def _byte_lines(path: Path) -> Iterator[bytes]:
    """Physical lines (split on ``\\n``, ending kept) of a plain or gzip file."""
    try:
        with open_binary(path) as f:
            yield from f
    except (EOFError, OSError, zlib.error) as e:
        raise FileError(f"{path.name}: truncated or corrupt gzip file ({e})") from e


def _decoded_lines(
    path: Path, encoding: str
) -> Iterator[tuple[int, str, bool]]:
    """``(line number, text, bad_encoding)`` for each physical line; 1-based.

    ``encoding`` is ``"utf-8"`` (each line decoded on its own: a line with invalid bytes is flagged and decoded as
    latin-1 so that the rest of the file still reads), ``"iso-8859-15"``, or ``"utf-16"`` (whole file, BOM
    required).
    """
    if encoding == "utf-16":
        data = read_all_bytes(path)
        if not data.strip():
            raise FileError(f"{path.name}: empty file")
        if data[:2] not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise FileError(f"{path.name}: expected a UTF-16 text file with a byte-order mark (Diane export)")
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise FileError(f"{path.name}: invalid UTF-16 text ({e.reason} at byte {e.start})") from e
        for i, line in enumerate(io.StringIO(text, newline=""), start=1):
            yield i, line, False
        return
    first = True
    for i, raw in enumerate(_byte_lines(path), start=1):
        if first:
            first = False
            if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                raise FileError(f"{path.name}: UTF-16 text, expected {encoding.upper()}")
            if b"\x00" in raw[:_SNIFF]:
                raise FileError(f"{path.name}: binary content (NUL bytes), expected a {encoding.upper()} CSV file")
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[3:]
        if encoding == "utf-8":  # a NUL byte is valid UTF-8: the record reader rejects its line (binary content)
            try:
                yield i, raw.decode("utf-8"), False
            except UnicodeDecodeError:
                yield i, raw.decode("latin-1"), True
        else:
            yield i, raw.decode(encoding), False


class _Records:
    """Split decoded lines into CSV records, resynchronising after a broken quote.

    Yields ``(start, end, fields, problem, text)``; ``problem`` is ``None`` for a well-formed record, else
    ``(column, reason)`` of a row-level rejection of the record starting at ``start`` (``column`` is the raw header
    of the field concerned, or ``None``). Every physical line is one record, accepted or rejected: a quote opened
    on a line and closed on a later one rejects that line only, and the lines it swallowed are read again.
    """

    def __init__(self, lines: Iterator[tuple[int, str, bool]], delimiter: str, *, multiline: bool) -> None:
        self._src = lines
        self._delimiter = delimiter
        self._multiline = multiline
        self._pending: deque[tuple[int, str, bool]] = deque()
        self._consumed: list[tuple[int, str, bool]] = []
        self._eof = False  # the source is exhausted (only pending lines are left)
        self.header: list[str] = []
        self.n_fields: int | None = None

    def _feed(self) -> Iterator[str]:
        while True:
            if self._pending:
                item = self._pending.popleft()
            else:
                nxt = next(self._src, None)
                if nxt is None:
                    self._eof = True
                    return
                item = nxt
            self._consumed.append(item)
            yield item[1]

    def _stray(self, text: str, start: int, end: int | None, closed: bool = True) -> tuple[str | None, str]:
        k = open_quote_field(text, self._delimiter)
        return stray_quote_reason(k, self.header, start=start, end=end, closed=closed)

    def __iter__(self) -> Iterator[tuple[int, int, list[str], tuple[str | None, str] | None, str]]:
        reader = csv.reader(self._feed(), delimiter=self._delimiter)
        while True:
            self._consumed.clear()
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                consumed = list(self._consumed)
                reader = csv.reader(self._feed(), delimiter=self._delimiter)
                if not consumed:
                    return
                self._pending.extendleft(reversed(consumed[1:]))
                first = consumed[0]
                if "\x00" in first[1]:
                    problem = nul_reason(first[1], self._delimiter, self.header)
                elif open_quote_field(first[1], self._delimiter) is not None:  # e.g. it swallowed > 128 KiB
                    problem = self._stray(first[1], first[0], consumed[-1][0], closed=False)
                else:
                    problem = (None, f"malformed CSV record ({e})")
                yield first[0], first[0], [], problem, first[1]
                continue
            consumed = list(self._consumed)
            if not consumed:
                return
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank line: not a record
            start, end = consumed[0][0], consumed[-1][0]
            text = "".join(c[1] for c in consumed)
            if self.n_fields is None:  # header
                if any(c[2] for c in consumed):
                    raise FileError("header line is not valid text in the expected encoding")
                self.n_fields = len(fields)
                self.header = list(fields)
                yield start, end, fields, None, text
                continue
            if len(consumed) > 1 and (not self._multiline or len(fields) != self.n_fields):
                # a quote opened on this line and closed on a later one: where quoted fields may not span lines
                # (or the field count says so), it is a stray quote that swallowed the next lines, however many
                # fields the swallowed text happens to split into. Reject this line only and read the others
                # again: every physical line is a record of its own, accepted or quarantined, none lost.
                to_eof = self._eof and not self._pending and open_quote_field(text, self._delimiter) is not None
                self._pending.extendleft(reversed(consumed[1:]))
                reader = csv.reader(self._feed(), delimiter=self._delimiter)  # the old feed may have ended
                line = consumed[0][1]
                problem = (nul_reason(line, self._delimiter, self.header) if "\x00" in line
                           else self._stray(line, start, None if to_eof else end))  # fmt: skip
                yield start, start, fields, problem, line
                continue
            if "\x00" in text:
                yield start, end, fields, nul_reason(text, self._delimiter, self.header), text
                continue
            if any(c[2] for c in consumed):
                yield start, end, fields, (None, "line is not valid UTF-8 (wrong encoding)"), text
                continue
            if self._eof and '"' in text and open_quote_field(text, self._delimiter) is not None:
                # the last record: a quote opened on it is still open at the end of the file
                yield start, end, fields, self._stray(text, start, None), text
                continue
            if len(fields) != self.n_fields:
                yield start, end, fields, (
                    None, f"wrong number of fields: {len(fields)}, expected {self.n_fields}"
                ), text
                continue
            yield start, end, fields, None, text


def _index_header(
    header: Sequence[str], required: Sequence[str], optional: Sequence[str], name: str, expected: str
) -> dict[str, int]:
    """Canonical raw name → field index (case-insensitive, quotes/spaces/BOM stripped)."""
    norm = [h.replace("\ufeff", "").strip().strip('"').strip().lower() for h in header]
    index: dict[str, int] = {}
    missing = []
    for col in (*required, *optional):
        key = col.lower()
        if key in norm:
            index[col] = norm.index(key)
        elif col in required:
            missing.append(col)
    if missing:
        raise FileError(
            f"{name}: missing column(s) {', '.join(missing)}; expected a {expected} with header "
            f"{', '.join(required)}"
        )
    return index


def _raw_table(columns: Sequence[str], batches: list[pa.RecordBatch]) -> pa.Table:
    schema = pa.schema([pa.field(c, pa.string()) for c in columns] + [
        pa.field("_line", pa.int64()), pa.field("_hash", pa.int64())
    ])
    if not batches:
        return schema.empty_table()
    return pa.Table.from_batches(batches, schema=schema)


class _Collector:
    """Accumulate raw records into Arrow batches."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self.schema = pa.schema([pa.field(c, pa.string()) for c in columns] + [
            pa.field("_line", pa.int64()), pa.field("_hash", pa.int64())
        ])
        self.batches: list[pa.RecordBatch] = []
        self._values: list[list[str | None]] = [[] for _ in columns]
        self._lines: list[int] = []
        self._hashes: list[int] = []

    def add(self, values: Sequence[str | None], line: int, key: object) -> None:
        for acc, v in zip(self._values, values, strict=True):
            acc.append(v)
        self._lines.append(line)
        self._hashes.append(hash(key))
        if len(self._lines) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if not self._lines:
            return
        arrays = [pa.array(v, pa.string()) for v in self._values]
        arrays += [pa.array(self._lines, pa.int64()), pa.array(self._hashes, pa.int64())]
        self.batches.append(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self._values = [[] for _ in self.columns]
        self._lines, self._hashes = [], []

    def table(self) -> pa.Table:
        self.flush()
        return _raw_table(self.columns, self.batches)


def read_text(
    path: Path,
    *,
    delimiter: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    encoding: str = "utf-8",
    multiline: bool = False,
    expected: str = "CSV file",
) -> RawRead:
    """Read a delimited text file (plain or gzip) into raw records.

    Parameters
    ----------
    path : Path
        The file.
    delimiter : str
        Field separator.
    required, optional : sequence of str
        Raw headers to keep (matched case-insensitively); a missing required one is fatal, a missing optional
        one gives a column of NULLs.
    encoding : {"utf-8", "iso-8859-15", "utf-16"}
        Expected encoding. In UTF-8 files each line is checked on its own: a line with invalid bytes is a
        row-level rejection, not a fatal error.
    multiline : bool
        Whether a quoted field may legitimately span several lines.
    expected : str
        Short description of the expected file, for the fatal messages.

    Returns
    -------
    RawRead
        Never raises on bad content: whole-file problems go to ``fatal``.
    """
    wanted = [*required, *optional]
    collector = _Collector(wanted)
    rejections: list[tuple[int, str | None, str | None, str, str]] = []
    read = 0
    bad_encoding = 0
    index: dict[str, int] | None = None
    try:
        for start, _end, fields, problem, text in _Records(
            _decoded_lines(path, encoding), delimiter, multiline=multiline
        ):
            if index is None:
                if len(fields) == 1 and delimiter not in text and len(wanted) > 1:
                    raise FileError(
                        f"{path.name}: header has a single column; expected a {expected} separated by "
                        f"{delimiter!r} with header {', '.join(required)}"
                    )
                index = _index_header(fields, required, optional, path.name, expected)
                continue
            read += 1
            if problem is not None:
                column, reason = problem
                if "UTF-8" in reason:
                    bad_encoding += 1
                rejections.append((start, column, _cut(text.replace("\x00", "\\0")), reason, "row"))
                continue
            collector.add([fields[index[c]] if c in index else None for c in wanted], start, tuple(fields))
    except FileError as e:
        msg = str(e)
        return RawRead(_raw_table(wanted, []), 0, [], msg if msg.startswith(path.name) else f"{path.name}: {msg}")
    except (OSError, UnicodeError, csv.Error) as e:
        return RawRead(_raw_table(wanted, []), 0, [], f"{path.name}: unreadable {expected} ({e})")
    if index is None:
        return RawRead(_raw_table(wanted, []), 0, [], f"{path.name}: empty file, expected a {expected}")
    if bad_encoding >= 20 and bad_encoding * 2 >= read:
        return RawRead(
            _raw_table(wanted, []), 0, [],
            f"{path.name}: {bad_encoding} of {read} lines are not valid UTF-8; expected a UTF-8 {expected}",
        )
    return RawRead(collector.table(), read, rejections)


def raw_from_rows(
    columns: Sequence[str], records: Iterable[tuple[int, Sequence[str | None], object]]
) -> pa.Table:
    """Raw table from already split records ``(line, values, duplicate key)`` (Excel sheets, projections)."""
    collector = _Collector(columns)
    for line, values, key in records:
        collector.add(values, line, key)
    return collector.table()


# ----------------------------------------------------------------------------------------------------------------
# Shared toolkit, stage 2: raw strings → typed rows + rejections, in one DuckDB query
# ----------------------------------------------------------------------------------------------------------------


def q(name: str) -> str:
    """Quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def txt(col: str) -> str:
    """Trimmed raw value, NULL when empty."""
    return f"nullif(trim({q(col)}), '')"


_NUM_RE = r"[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][+-]?[0-9]+)?"


def num(expr: str) -> str:
    """DOUBLE from a text expression (decimal point or comma); NULL when not a plain number."""
    return f"(CASE WHEN regexp_full_match({expr}, {lit(_NUM_RE)}) THEN TRY_CAST(replace({expr}, ',', '.') AS DOUBLE) END)"


def integer(expr: str, sql_type: str = "INTEGER") -> str:
    """Whole number from a text expression (``559.0`` accepted); NULL when not a whole number."""
    d = num(expr)
    return f"(CASE WHEN {d} = floor({d}) THEN TRY_CAST({d} AS {sql_type}) END)"


def date_fmt(expr: str, fmt: str, pattern: str) -> str:
    """DATE from a text expression in ``fmt`` (strptime), which must fully match the regex ``pattern``."""
    return f"(CASE WHEN regexp_full_match({expr}, {lit(pattern)}) THEN CAST(try_strptime({expr}, {lit(fmt)}) AS DATE) END)"


def iso_date(expr: str) -> str:
    """DATE from ``YYYY-MM-DD`` (impossible dates such as 2019-02-30 give NULL)."""
    return date_fmt(expr, "%Y-%m-%d", r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def fr_date(expr: str) -> str:
    """DATE from ``dd/mm/yyyy``."""
    return date_fmt(expr, "%d/%m/%Y", r"[0-9]{2}/[0-9]{2}/[0-9]{4}")


def go_bool(expr: str) -> str:
    """BOOLEAN as Go's ``strconv.ParseBool`` reads it; NULL otherwise."""
    return (
        f"(CASE WHEN {expr} IN ('1','t','T','TRUE','true','True') THEN true "
        f"WHEN {expr} IN ('0','f','F','FALSE','false','False') THEN false END)"
    )


def digits(expr: str, n: int) -> str:
    """True when ``expr`` is exactly ``n`` digits."""
    return f"coalesce(regexp_full_match({expr}, '[0-9]{{{n}}}'), false)"


def luhn(expr: str) -> str:
    """True when ``expr`` is all digits with a valid Luhn key (SIREN, SIRET)."""
    d = f"CAST(substr({expr}, length({expr}) - r, 1) AS INTEGER)"
    term = f"(CASE WHEN r % 2 = 1 THEN (CASE WHEN 2 * {d} > 9 THEN 2 * {d} - 9 ELSE 2 * {d} END) ELSE {d} END)"
    return (
        f"(CASE WHEN coalesce(regexp_full_match({expr}, '[0-9]+'), false) "
        f"THEN list_sum([{term} FOR r IN range(length({expr}))]) % 10 = 0 ELSE false END)"
    )


@dataclass(frozen=True)
class Check:
    """One validation rule, evaluated in SQL over the raw columns.

    Attributes
    ----------
    column : str
        Raw column named in the rejection.
    invalid : str
        SQL boolean expression, true when the record breaks the rule.
    reason : str
        Why (one line, for the quarantine).
    level : {"row", "field"}
        ``row``: the record is dropped; ``field``: it is kept, the value having been set to NULL (or to the real
        system's default) by its column expression.
    raw : str or None
        SQL expression of the raw value to report (default: the raw column).
    """

    column: str
    invalid: str
    reason: str
    level: Literal["row", "field"] = "row"
    raw: str | None = None


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    rel = con.sql(sql)
    if hasattr(rel, "to_arrow_table"):
        return rel.to_arrow_table()
    return rel.arrow()  # duckdb < 1.4


_counter = [0]
_REJECTION_ORDER = [("line", "ascending"), ("level", "ascending"), ("column", "ascending"), ("reason", "ascending")]


def typed_stage(
    con: duckdb.DuckDBPyConnection,
    raw: pa.Table,
    columns: tuple[Column, ...],
    values: dict[str, str],
    checks: Sequence[Check],
) -> tuple[pa.Table, pa.Table]:
    """Type and validate raw records in DuckDB.

    ``values`` maps each staging column to its SQL expression over the raw columns. Exact duplicate records
    (same ``_hash``) after the first are rejected as ``duplicate``.
    """
    _counter[0] += 1
    name = f"_sf_raw_{id(raw):x}_{_counter[0]}"
    con.register(name, raw)
    try:
        flags = ", ".join(f"coalesce(({c.invalid}), false) AS _k{i}" for i, c in enumerate(checks))
        row_flags = [f"_k{i}" for i, c in enumerate(checks) if c.level == "row"]
        any_row = " OR ".join(row_flags) if row_flags else "false"
        base = (
            f"WITH src AS (SELECT *, min(_line) OVER (PARTITION BY _hash) AS _first FROM {q(name)}), "
            f"chk AS (SELECT *{', ' + flags if flags else ''} FROM src)"
        )
        select = ", ".join(f"CAST(({values[c.name]}) AS {c.type}) AS {q(c.name)}" for c in columns)
        rows = _fetch(
            con,
            f"{base} SELECT {select}, _line FROM chk WHERE _first = _line AND NOT ({any_row}) ORDER BY _line",
        )
        parts = [
            "SELECT _line AS line, NULL::VARCHAR AS column, NULL::VARCHAR AS raw_value, "
            "'duplicate of line ' || _first AS reason, 'row' AS level FROM chk WHERE _first <> _line"
        ]
        for i, c in enumerate(checks):
            raw_expr = c.raw if c.raw is not None else q(c.column)
            cond = f"_k{i}" if c.level == "row" else f"_k{i} AND NOT ({any_row})"
            parts.append(
                f"SELECT _line, {lit(c.column)}, CAST(({raw_expr}) AS VARCHAR), {lit(c.reason)}, {lit(c.level)} "
                f"FROM chk WHERE _first = _line AND {cond}"
            )
        rejections = _fetch(con, f"{base} SELECT * FROM ({' UNION ALL '.join(parts)}) ORDER BY line, level, \"column\", reason")
    finally:
        con.unregister(name)
    rows = rows.cast(rows_schema(columns))
    rejections = pa.Table.from_arrays(
        [rejections.column(i).cast(REJECTION_SCHEMA.field(i).type) for i in range(5)], schema=REJECTION_SCHEMA
    )
    return rows, rejections


def finish(
    con: duckdb.DuckDBPyConnection,
    columns: tuple[Column, ...],
    raw: RawRead,
    values: dict[str, str],
    checks: Sequence[Check],
) -> ParseResult:
    """Run :func:`typed_stage` on a :class:`RawRead` and assemble the :class:`ParseResult`."""
    if raw.fatal is not None:
        return fatal_result(columns, raw.fatal)
    rows, rejections = typed_stage(con, raw.table, columns, values, checks)
    if raw.rejections:
        early = pa.Table.from_pylist(
            [dict(zip(REJECTION_SCHEMA.names, r, strict=True)) for r in raw.rejections], schema=REJECTION_SCHEMA
        )
        rejections = pa.concat_tables([early, rejections]).sort_by(_REJECTION_ORDER)
    return ParseResult(rows=rows, rejections=rejections, read=raw.read)


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


# ----------------------------------------------------------------------------------------------------------------
# The apconso source
# ----------------------------------------------------------------------------------------------------------------

_REQUIRED = ("ID_DA", "ETAB_SIRET", "HEURES", "MONTANTS", "EFFECTIFS", "MOIS")


@dataclass(frozen=True)
class ApconsoSource:
    """DGEFP activité partielle: hours and amounts consumed per establishment and month."""

    name: str = "apconso"
    table: str = "stg_apconso"
    kind: Literal["stock", "flux"] = "stock"
    key: Literal["siret", "siren"] | None = "siret"
    patterns: tuple[re.Pattern[str], ...] = (re.compile(r"^consommation_ap\.csv(\.gz)?$"),)
    columns: tuple[Column, ...] = (
        Column("siret", "VARCHAR", "ETAB_SIRET", "SIRET of the establishment (14 digits)"),
        Column("id_demande", "VARCHAR", "ID_DA", "Identifier of the authorisation request (demande)"),
        Column("heures", "DOUBLE", "HEURES", "Hours of activité partielle consumed in the month"),
        Column("montant", "DOUBLE", "MONTANTS", "Amount paid for those hours, euros"),
        Column("effectif", "INTEGER", "EFFECTIFS", "Employees concerned"),
        Column("periode", "DATE", "MOIS", "Month of consumption (the day as delivered, usually the 1st)"),
        Column("siret_luhn_ok", "BOOLEAN", None, "The SIRET passes the Luhn check (false: flagged, not rejected)"),
    )

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one ``consommation_ap.csv`` (plain or gzip)."""
        raw = read_text(path, delimiter=",", required=_REQUIRED, expected="DGEFP consommation_ap CSV")
        siret = txt("ETAB_SIRET")
        values = {
            "siret": siret,
            "id_demande": txt("ID_DA"),
            "heures": num(txt("HEURES")),
            "montant": num(txt("MONTANTS")),
            "effectif": integer(txt("EFFECTIFS")),
            "periode": iso_date(txt("MOIS")),
            "siret_luhn_ok": luhn(siret),
        }
        checks = [
            *siret_checks("ETAB_SIRET"),
            *required_value("MOIS", iso_date(txt("MOIS")), "MOIS (YYYY-MM-DD)"),
            optional_value("HEURES", num(txt("HEURES")), "HEURES (number)"),
            optional_value("MONTANTS", num(txt("MONTANTS")), "MONTANTS (number)"),
            optional_value("EFFECTIFS", integer(txt("EFFECTIFS")), "EFFECTIFS (whole number)"),
        ]
        return finish(con, self.columns, raw, values, checks)


APCONSO = ApconsoSource()
