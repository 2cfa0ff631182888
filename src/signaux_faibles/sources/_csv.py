"""Shared reader for delimited partner files, done in DuckDB SQL.

How a file is read
------------------
1. :func:`sniff` looks at the first bytes: empty, gzip (by magic bytes, whatever the extension), binary or UTF-16
   (NUL bytes), header not UTF-8 → a whole-file error (``fatal``). It returns the header fields and the line ending.
2. **Fast path.** A cheap pass over the bytes (:func:`_prescan`: memory-mapped and vectorised with numpy for a
   plain file, read by chunks for gzip) counts the physical lines, notes the blank ones and whether any double
   quote occurs. DuckDB's own CSV reader then splits the fields (every column as
   VARCHAR, no quoting, a few extra columns that catch overlong lines, ``null_padding`` for short ones, empty
   fields kept as ``''``), and one streaming query computes the typed columns, one "needs a closer look" flag per
   record (wrong field count, a double quote, or any check firing) and a hash of the raw fields, straight to Arrow.
   The reader skips blank lines, so the physical line of the k-th record is rebuilt from the blank lines found by
   the pre-scan (and the counts must agree, else the slow path below is taken for the whole file).
   **Arrow variant.** A source may also give a *vector* function (:mod:`._vec`; débits do). Arrow's streaming
   CSV reader (strict: any line with the wrong number of fields makes it give up and the DuckDB reader above takes
   over) splits the fields the source needs, by parts of a plain file read in parallel (cut after line feeds),
   each record batch typed as soon as it is read: the vector function types it with numpy (low-cardinality
   fields once per distinct value, read dictionary-encoded) and flags every record that fails its cheap tests
   (ASCII digits, lengths, ranges); the duplicate search hashes its typed values. A plain LF file needs no
   pre-scan: each part is searched for a carriage return (→ per-line path), a double quote or a NUL byte (→ the
   DuckDB reader), checked to be UTF-8 when it is not all ASCII, and its line feeds counted; only when the record
   count says some lines are blank does the full pre-scan run (to place them). Other files (gzip, CRLF) have the
   pre-scan run alongside. Flagged records take the exact per-line rules below, their raw lines read back from
   the file.
3. **Slow path, per line.** The flagged records only (usually a handful) go through the exact per-line rules:
   each physical line is split on the delimiter with ``string_split``; the source gives, per staging column, a SQL
   expression over the raw fields, and a list of :class:`Check` (SQL condition → rejection reason, row or field
   level). The whole file takes this path when the fast one cannot be used (a bare carriage return, invalid UTF-8,
   a wide → long source, or a reader disagreement): every physical line is then loaded as one VARCHAR in file
   order, so its position is its line number (header = line 1), blank lines kept as NULL rows.
4. Records with the wrong number of fields, or with a stray double quote, are rejected as a whole (a quoted field
   broken across two physical lines therefore rejects both lines, and no following line is lost). Fields wrapped
   in ``"..."`` are unquoted.
5. Exact duplicate records (same raw line) within a file: the first is kept, later ones are rejected
   ``duplicate``. Candidates share the hash of their raw fields (Arrow variant: of their typed values), found by
   sorting the hashes' upper 32 bits (by part, then merged) and grouping the few records whose upper bits repeat
   by their whole hash; their raw lines are then compared.

Invalid UTF-8 (e.g. one latin-1 row in a UTF-8 file) takes the slow path: the file is copied line by line in
Python, undecodable lines are replaced by an empty marker and rejected with reason ``encoding``. A file whose
header itself is not UTF-8, or where most non-ASCII lines are undecodable, is a whole-file error.

A bare carriage return inside a line counts as a line break (DuckDB's reader treats it so; such files take the
slow path).
"""

from __future__ import annotations

import codecs
import gzip
import itertools
import mmap
import os
import re
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from signaux_faibles.sources import _vec
from signaux_faibles.sources._base import (
    ARROW_TYPES,
    REJECTION_SCHEMA,
    Column,
    ParseResult,
    empty_rejections,
    fatal_result,
    nul_reason,
    rows_schema,
    stray_quote_field,
    stray_quote_reason,
)
from signaux_faibles.sources._vec import VectorResult

__all__ = [
    "Check",
    "DelimitedSource",
    "FatalError",
    "FileInfo",
    "Projection",
    "parse_delimited",
    "rejections_table",
    "sniff",
    "sql_str",
]

#: Delimiter handed to DuckDB so that each physical line is one field (4 control bytes that never occur together).
_LINE_DELIM = "\x01\x02\x03\x04"
_SNIFF_BYTES = 1 << 16
_MAX_LINE = 64 * 1024 * 1024
#: Marker written in place of a line that is not valid UTF-8 (slow path).
_ENC_MARK = "\x01\x02ENC\x03\x04"

_counter = itertools.count()


def sql_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class FileInfo:
    """What :func:`sniff` learnt about a file."""

    path: Path
    gzip: bool
    newline: Literal["\n", "\r\n"]
    header: tuple[str, ...]
    bom: bool = False


@dataclass(frozen=True)
class Check:
    """A rejection rule.

    Attributes
    ----------
    column : str or None
        Name reported in the quarantine (staging column, else raw header).
    raw : str
        SQL expression of the raw value reported.
    condition : str
        SQL boolean expression, true when the value is rejected (NULL counts as false).
    reason : str
        Reason written to the quarantine.
    level : {"row", "field"}
        ``row``: the record is dropped; ``field``: the record is kept and the value set to NULL by the
        source's expression (the check only records it).
    """

    column: str | None
    raw: str
    condition: str
    reason: str
    level: Literal["row", "field"] = "row"


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


class FatalError(Exception):
    """A whole-file error (the message names the file and what was expected)."""


def _open_head(path: Path, is_gzip: bool) -> bytes:
    if is_gzip:
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read(_SNIFF_BYTES)
        except (OSError, EOFError, zlib.error) as exc:
            raise FatalError(f"{path.name}: corrupt or truncated gzip ({exc})") from exc
    with path.open("rb") as fh:
        return fh.read(_SNIFF_BYTES)


def _split_header(line: str, delimiter: str) -> tuple[str, ...]:
    return tuple(_unquote(f.strip()) for f in line.split(delimiter))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('""', '"')
    return value


def sniff(path: Path, delimiter: str) -> FileInfo:
    """Check a file can be read as delimited UTF-8 text; raise :class:`FatalError` if not."""
    if not path.is_file():
        raise FatalError(f"{path.name}: not a file")
    if path.stat().st_size == 0:
        raise FatalError(f"{path.name}: empty file (expected a header line and records)")
    with path.open("rb") as fh:
        magic = fh.read(2)
    is_gzip = magic == b"\x1f\x8b"
    head = _open_head(path, is_gzip)
    if not head.strip():
        raise FatalError(f"{path.name}: empty file (expected a header line and records)")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise FatalError(f"{path.name}: UTF-16 text, expected UTF-8 '{delimiter}'-separated text")
    header_line = head.partition(b"\n")[0]
    if b"\x00" in header_line or head.count(b"\x00") * 100 > len(head):
        # NUL bytes in the header, or more than 1 % of the first bytes: not a text file. A stray NUL in a data
        # line only sends that line to quarantine (the per-line path reads it).
        raise FatalError(f"{path.name}: binary content (NUL bytes), expected UTF-8 '{delimiter}'-separated text")
    bom = head.startswith(b"\xef\xbb\xbf")
    if bom:
        head = head[3:]
    first, sep, _ = head.partition(b"\n")
    if not sep and len(head) >= _SNIFF_BYTES:
        raise FatalError(f"{path.name}: no line break in the first {_SNIFF_BYTES} bytes, expected a header line")
    newline: Literal["\n", "\r\n"] = "\r\n" if first.endswith(b"\r") else "\n"
    try:
        text = first.rstrip(b"\r").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FatalError(f"{path.name}: header is not UTF-8 ({exc.reason}), expected UTF-8 text") from exc
    header = _split_header(text, delimiter)
    if len(header) < 2:
        raise FatalError(
            f"{path.name}: header has a single field; expected '{delimiter}'-separated columns (wrong delimiter?)"
        )
    return FileInfo(path=path, gzip=is_gzip, newline=newline, header=header, bom=bom)


def _load_lines(con: duckdb.DuckDBPyConnection, table: str, info: FileInfo, path: Path) -> None:
    nl = "\\r\\n" if info.newline == "\r\n" else "\\n"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT line FROM read_csv({sql_str(str(path))}, columns={{'line': 'VARCHAR'}}, header=false,
            delim={sql_str(_LINE_DELIM)}, quote='', escape='', comment='', encoding='utf-8',
            auto_detect=false, strict_mode=false, new_line='{nl}', max_line_size={_MAX_LINE},
            compression='{"gzip" if info.gzip and path == info.path else "none"}')"""
    )


def _transcode(info: FileInfo, out: Path) -> tuple[int, int]:
    """Copy the file as UTF-8, one physical line per line, undecodable lines replaced by the marker.

    Returns (number of non-ASCII lines, number of undecodable lines).
    """
    opener = gzip.open if info.gzip else open
    non_ascii = bad = 0
    with opener(info.path, "rb") as src, out.open("wb") as dst:
        for raw in src:
            body = raw.rstrip(b"\n")
            if body.isascii():
                dst.write(body + b"\n")
                continue
            non_ascii += 1
            try:
                body.decode("utf-8")
                dst.write(body + b"\n")
            except UnicodeDecodeError:
                bad += 1
                dst.write(_ENC_MARK.encode() + body.decode("latin-1").encode("utf-8").hex().encode() + b"\n")
    return non_ascii, bad


def _read_error(info: FileInfo, exc: Exception) -> str:
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if info.gzip:
        return f"{info.path.name}: corrupt or truncated gzip, could not be read to the end ({msg})"
    return f"{info.path.name}: unreadable ({msg})"


def rejections_table(records: Sequence[tuple[int, str | None, str | None, str, str]]) -> pa.Table:
    """Build a rejections table from (line, column, raw_value, reason, level) tuples."""
    if not records:
        return empty_rejections()
    cols = list(zip(*records, strict=True))
    return pa.table([pa.array(c, type=f.type) for c, f in zip(cols, REJECTION_SCHEMA, strict=True)],
                    schema=REJECTION_SCHEMA)


Record = tuple[int, str | None, str | None, str, str]

#: Extra VARCHAR columns the fast reader carries to catch (and rebuild) overlong lines.
_EXTRA = 1
_CHUNK = 16 << 20


class _Fallback(Exception):
    """The fast path cannot be used for this file: take the per-line path."""


@dataclass(frozen=True)
class _Prescan:
    records: int  # data records the reader should return (physical lines - header - blank lines)
    blanks: tuple[int, ...]  # physical line numbers of blank lines
    quotes: bool  # a double quote occurs somewhere
    nul: bool = True  # a NUL byte may occur somewhere (the Arrow reader is then not used)


def _chunks(info: FileInfo) -> Iterator[bytes]:
    opener = gzip.open if info.gzip else open
    with opener(info.path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                return
            yield chunk + fh.readline()  # chunks end on a line break


def _prescan(info: FileInfo) -> _Prescan:
    """Count physical lines, find blank ones and double quotes; raise :class:`_Fallback` on a bare CR."""
    if not info.gzip:
        try:
            return _prescan_mapped(info)
        except (OSError, ValueError) as exc:
            raise _Fallback(str(exc)) from exc
    nl = info.newline.encode()
    blank = nl + nl
    crlf = nl == b"\r\n"
    lines_before = 0
    blanks: list[int] = []
    quotes = nul = False
    last = b""
    try:
        for chunk in _chunks(info):
            n_lf = chunk.count(b"\n")
            if crlf:
                n_cr = chunk.count(b"\r")
                if n_cr != n_lf or chunk.count(b"\r\n") != n_lf:
                    raise _Fallback("bare CR or LF in a CRLF file")
            elif b"\r" in chunk:
                raise _Fallback("carriage return in a LF file")
            quotes = quotes or b'"' in chunk
            nul = nul or b"\x00" in chunk
            if last.endswith(nl) and chunk.startswith(nl):
                blanks.append(lines_before + 1)
            pos = chunk.find(blank)
            while pos >= 0:
                blanks.append(lines_before + chunk.count(b"\n", 0, pos + len(nl)) + 1)
                pos = chunk.find(blank, pos + len(nl))
            lines_before += n_lf
            last = chunk[-2:]
    except (OSError, EOFError, zlib.error) as exc:
        raise _Fallback(str(exc)) from exc
    physical = lines_before + (0 if last.endswith(b"\n") or not last else 1)
    return _Prescan(records=physical - 1 - len(blanks), blanks=tuple(blanks), quotes=quotes, nul=nul)


def _prescan_mapped(info: FileInfo) -> _Prescan:
    """:func:`_prescan` of a plain file: memory-mapped, one vectorised pass per window (no copies)."""
    with info.path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        quotes = mm.find(b'"') >= 0
        nul = mm.find(b"\x00") >= 0
        if info.newline == "\n" and mm.find(b"\r") >= 0:
            raise _Fallback("carriage return in a LF file")
        found = _scan_buffer(mm, info.newline == "\r\n", quotes, nul)
    if isinstance(found, str):  # raised here: a traceback through the scan would pin the map's buffer
        raise _Fallback(found)
    return found


def _scan_buffer(buf: mmap.mmap, crlf: bool, quotes: bool, nul: bool) -> _Prescan | str:
    """Line feeds of ``buf`` by windows: their count gives the lines; a line is blank when its line feed
    follows the previous one directly (CRLF: two bytes after, every LF following a CR and no other CR).
    Returns why the fast path cannot be used instead, if so."""
    data = np.frombuffer(buf, dtype=np.uint8)
    size = len(data)
    step = 2 if crlf else 1
    lines_before = n_cr = 0
    prev = -(1 << 40)  # position of the previous line feed (none yet)
    blanks: list[int] = []
    for start in range(0, size, _CHUNK):
        window = data[start:start + _CHUNK]
        pos = np.flatnonzero(window == 10)
        if crlf:
            n_cr += int(np.count_nonzero(window == 13))
            if len(pos) and (int(pos[0]) + start == 0 or bool(np.any(data[pos + (start - 1)] != 13))):
                return "bare LF in a CRLF file"
        if len(pos):
            gaps = np.diff(pos, prepend=prev - start)
            blanks.extend((lines_before + 1 + np.flatnonzero(gaps == step)).tolist())
            prev = int(pos[-1]) + start
        lines_before += len(pos)
    if crlf and n_cr != lines_before:
        return "bare CR in a CRLF file"
    physical = lines_before + (0 if size and data[size - 1] == 10 else 1)
    return _Prescan(records=physical - 1 - len(blanks), blanks=tuple(blanks), quotes=quotes, nul=nul)


def _fetch_lines(info: FileInfo, wanted: set[int]) -> dict[int, str]:
    """The text of these physical lines (fast-path files only: no bare CR)."""
    out: dict[int, str] = {}
    if not wanted:
        return out
    if not info.gzip:
        try:
            return _fetch_lines_mapped(info, wanted)
        except (OSError, ValueError):
            pass
    last = max(wanted)
    opener = gzip.open if info.gzip else open
    with opener(info.path, "rb") as fh:
        for i, raw in enumerate(fh, start=1):
            if i in wanted:
                body = raw.rstrip(b"\n")
                if body.endswith(b"\r"):
                    body = body[:-1]
                out[i] = body.decode("utf-8", errors="replace")
                if i == 1 and info.bom:
                    out[i] = out[i].removeprefix("\ufeff")
            if i >= last:
                break
    return out


def _fetch_lines_mapped(info: FileInfo, wanted: set[int]) -> dict[int, str]:
    """:func:`_fetch_lines` of a plain file: line feeds found by windows of the memory map (numpy)."""
    out: dict[int, str] = {}
    want = np.array(sorted(wanted), dtype=np.int64)
    with info.path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        data = np.frombuffer(mm, dtype=np.uint8)
        size = len(data)
        ends: list[np.ndarray] = []  # position of the line feed ending each line, in order
        found = 0
        last = int(want[-1])
        for start in range(0, size, _CHUNK):
            pos = np.flatnonzero(data[start:start + _CHUNK] == 10) + start
            ends.append(pos)
            found += len(pos)
            if found >= last:
                break
        del data
        feeds = np.concatenate(ends) if ends else np.zeros(0, np.int64)
        for ln in want.tolist():
            begin = 0 if ln == 1 else int(feeds[ln - 2]) + 1 if ln - 2 < len(feeds) else size
            end = int(feeds[ln - 1]) if ln - 1 < len(feeds) else size
            if begin >= size and ln != 1:
                continue
            body = mm[begin:end]
            if body.endswith(b"\r"):
                body = body[:-1]
            text = body.decode("utf-8", errors="replace")
            out[ln] = text.removeprefix("\ufeff") if ln == 1 and info.bom else text
    return out


def _line_numbers(count: int, blanks: tuple[int, ...]) -> np.ndarray:
    """Physical line of the k-th record (k = 0…count-1): header is line 1, blank lines skipped."""
    lines = np.arange(2, count + 2, dtype=np.int64)
    if blanks:
        # the j-th blank line (0-based) comes after (blank - 2 - j) records
        after = np.array(blanks, dtype=np.int64) - 2 - np.arange(len(blanks), dtype=np.int64)
        lines += np.searchsorted(after, np.arange(count, dtype=np.int64), side="right")
    return lines


def _int64_array(values: np.ndarray) -> pa.Array:
    """An Arrow int64 array over a numpy buffer (``pa.array`` on numpy imports pandas: seconds at start-up)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def _check_sql(checks: list[Check]) -> str:
    return " OR ".join(f"coalesce(({c.condition}), false)" for c in checks) or "false"


def _pre_ctes(proj: Projection, base: str, prefix: str) -> tuple[str, str]:
    """CTEs computing ``proj.pre`` over ``base``: (text to put after ``WITH … AS (…)``, name of the last one)."""
    stages = proj.pre if isinstance(proj.pre, list) else [proj.pre]
    text, last = "", base
    for i, stage in enumerate(s for s in stages if s):
        name = f"{prefix}{i}"
        text += f", {name} AS (SELECT *" + "".join(f", {e} AS {_ident(n)}" for n, e in stage.items()) + f" FROM {last})"
        last = name
    return text, last


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
    """Parse a delimited file into typed rows and rejections (see the module docstring).

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
        Optional typing of the raw fields with numpy (:mod:`._vec`), used with Arrow's CSV reader when the file
        has no double quote and no NUL byte; records it is not sure of take the per-line rules.
    categorical
        Raw headers with few distinct values that the Arrow reader gives ``vector`` dictionary-encoded (it should
        read them with :func:`._vec.by_value`).
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
    names = _field_names(info.header)
    hashed = tuple(i for i in range(len(info.header)) if i in {names[h.lower()] for h in dedup if h.lower() in names}) \
        or tuple(range(len(info.header)))
    if exact_field_count:
        try:
            return _parse_fast(con, info, columns, project, delimiter, hashed, vector, required, categorical)
        except _Fallback:
            pass
    return _parse_slow(con, info, columns, project, delimiter, exact_field_count, hashed)


def _field_names(header: tuple[str, ...]) -> dict[str, int]:
    """Raw header lower-cased → index of its first occurrence."""
    out: dict[str, int] = {}
    for i, name in enumerate(header):
        out.setdefault(name.lower(), i)
    return out


def _parse_fast(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    columns: tuple[Column, ...],
    project: Callable[[dict[str, str], tuple[str, ...]], Projection],
    delimiter: str,
    hashed: tuple[int, ...],
    vector: Callable[[dict[str, pa.ChunkedArray]], VectorResult] | None = None,
    required: Sequence[str] = (),
    categorical: Sequence[str] = (),
) -> ParseResult:
    """A reader splits the fields; only flagged records take the per-line rules (module docstring, 2)."""
    fields = {key: f"c{i}" for key, i in _field_names(info.header).items()}
    proj = project(fields, info.header)
    if proj.unnest is not None:
        raise _Fallback("wide → long source")
    keys = _key_columns(info, columns, hashed)
    pre: _Prescan | None = None
    if vector is not None and len(delimiter) == 1 and keys:
        arrow, pre = _arrow_fast(info, columns, vector, delimiter, hashed, required, keys, categorical)
        if arrow is not None and pre is not None:
            out, raw_of, among = arrow
            return _finish_fast(con, info, columns, project, delimiter, hashed, pre, out, raw_of, keys, among)
    if pre is None:
        pre = _prescan(info)
    out, raw_of = _duckdb_fast(con, info, columns, proj, delimiter, hashed, pre)
    return _finish_fast(con, info, columns, project, delimiter, hashed, pre, out, raw_of)


#: Bytes per block of Arrow's streaming CSV reader (one record batch, typed before the next block is read)
_ARROW_BLOCK = 8 << 20
#: A plain file is read by parts of at least this many bytes, in parallel
_ARROW_PART = 32 << 20


def _jemalloc() -> pa.MemoryPool | None:
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # not built in (the default pool is used)
        return None


#: Pool of the CSV reader's buffers: jemalloc, which keeps freed pages a while, when available (the default
#: mimalloc returns them to the system at once and the next blocks fault them in again: a third more CPU)
_POOL = _jemalloc()

@dataclass
class _Part:
    """What Arrow's reader and the vector function made of one part of a file."""

    typed: list[tuple[VectorResult, np.ndarray]]  # per record batch: its typing, its records' key hashes
    hashes: np.ndarray  # the part's key hashes, their upper 32 bits (:func:`_top`), sorted
    feeds: int  # line feeds in the part (plain files)


def _arrow_fast(
    info: FileInfo,
    columns: tuple[Column, ...],
    vector: Callable[[dict[str, pa.ChunkedArray]], VectorResult],
    delimiter: str,
    hashed: tuple[int, ...],
    required: Sequence[str],
    keys: list[str],
    categorical: Sequence[str] = (),
) -> tuple[tuple[pa.Table, Callable[[np.ndarray], list[str | None]], np.ndarray] | None, _Prescan | None]:
    """Arrow's streaming CSV reader splits the fields (strict: any line with the wrong number of fields or invalid
    UTF-8 makes it give up), by parts of a plain file in parallel; the source's vector function types each record
    batch as it is read and says which records it is sure of; the duplicate search hashes the typed values of
    the deduplication fields (:func:`_vec.key_hash`), sorted by part.

    A plain LF file needs no pre-scan: each part is first searched for a carriage return (→ :class:`_Fallback`),
    a double quote or a NUL byte (→ not read with Arrow), its line feeds are counted, and the full pre-scan only
    runs when the record count says some lines are blank. Other files have the full pre-scan run alongside.

    Returns ((rows with ``_h`` and ``_flag``, raw lines of records by index, all hashes sorted) or None when the
    Arrow reader cannot be used, the pre-scan if it was made)."""
    quick = not info.gzip and info.newline == "\n"
    workers = max(1, min(os.cpu_count() or 1, 8))
    with ThreadPoolExecutor(max_workers=workers + (0 if quick else 1)) as pool:
        scan = None if quick else pool.submit(_prescan, info)
        got = _arrow_read(info, delimiter, hashed, required, vector, keys, pool, workers, quick, categorical)
        pre = scan.result() if scan is not None else None
    if got == "cr":
        raise _Fallback("carriage return in a LF file")
    if got is None or isinstance(got, str):
        return None, pre
    parts, physical = got
    rows = sum(len(t[1]) for p in parts for t in p.typed)
    if pre is None:
        pre = _Prescan(records=physical - 1, blanks=(), quotes=False, nul=False)  # if no line is blank
        if rows != pre.records:  # blank lines (skipped by the reader): find them
            pre = _prescan(info)
    if rows != pre.records or pre.quotes or pre.nul:
        return None, pre
    typed = [t for p in parts for t in p.typed]
    cols: dict[str, pa.ChunkedArray] = {}
    for c in columns:
        chunks: list[pa.Array] = []
        for res, _ in typed:
            col = res.columns[c.name]
            chunks.extend(col.chunks if isinstance(col, pa.ChunkedArray) else [col])
        cols[c.name] = pa.chunked_array(chunks, type=chunks[0].type if chunks else ARROW_TYPES[c.type])
    ok = np.concatenate([res.ok for res, _ in typed]) if typed else np.zeros(0, bool)
    h = np.concatenate([t[1] for t in typed]) if typed else np.zeros(0, np.uint64)
    among = np.concatenate([p.hashes for p in parts]) if parts else np.zeros(0, np.uint32)
    del typed, parts
    among.sort(kind="stable")  # merges the parts' sorted runs
    out = pa.table({**cols, "_h": pa.Array.from_buffers(pa.uint64(), len(h), [None, pa.py_buffer(h)]),
                    "_flag": _vec.array(~ok, pa.bool_())})
    blanks = pre.blanks

    def raw_of(idx: np.ndarray) -> list[str | None]:
        lines = _line_numbers(len(ok), blanks)[idx]
        got = _fetch_lines(info, {int(ln) for ln in lines})
        return [got.get(int(ln)) for ln in lines]

    return (out, raw_of, among), pre


def _count_feeds(buf: mmap.mmap, lo: int, hi: int) -> tuple[int, bool]:
    """Line feeds in ``buf[lo:hi]``, and whether it is all ASCII; by cache-sized windows."""
    step = 1 << 20
    scratch = np.empty(min(step, hi - lo), dtype=bool)
    feeds = 0
    high = 0
    for start in range(lo, hi, step):
        n = min(step, hi - start)
        window = np.frombuffer(buf, dtype=np.uint8, count=n, offset=start)
        hit = scratch[:n]
        np.equal(window, 10, out=hit)
        feeds += int(np.count_nonzero(hit))
        words = np.frombuffer(buf, dtype=np.uint64, count=n // 8, offset=start)
        high |= int(np.bitwise_or.reduce(words)) | int(np.bitwise_or.reduce(window[n // 8 * 8:], initial=0))
        del window, words
    return feeds, not high & 0x8080808080808080


def _utf8(buf: mmap.mmap, lo: int, hi: int) -> bool:
    """``buf[lo:hi]`` is UTF-8 (Python's decoder, as the per-line path; by windows, the text is not kept)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(lo, hi, 1 << 20):
            decoder.decode(buf[start:min(hi, start + (1 << 20))])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _arrow_read(
    info: FileInfo,
    delimiter: str,
    hashed: tuple[int, ...],
    required: Sequence[str],
    vector: Callable[[dict[str, pa.ChunkedArray]], VectorResult],
    keys: list[str],
    pool: ThreadPoolExecutor,
    workers: int,
    quick: bool,
    categorical: Sequence[str] = (),
) -> tuple[list[_Part], int] | str | None:
    """The required and hashed fields read as strings by record batches, each typed as it comes; a plain file
    by parts (cut after line feeds) in ``pool``. Returns the parts and the physical line count (plain files; 0
    for gzip), or None if the reader gives up on a line (wrong field count, invalid UTF-8…: the DuckDB reader
    then takes over). ``quick``: a part with a carriage return gives "cr", with a double quote or a NUL byte
    "quote"; a plain file that is not UTF-8 gives "utf8" (the file is then not read with Arrow)."""
    names = [f"c{i}" for i in range(len(info.header))]
    index = _field_names(info.header)
    wanted = {index[r.lower()] for r in required if r.lower() in index} | set(hashed)
    include = [names[i] for i in sorted(wanted)]
    few = {names[index[c.lower()]] for c in categorical if c.lower() in index}
    types = {c: pa.dictionary(pa.int32(), pa.string()) if c in few else pa.string() for c in include}
    fields = {key: names[i] for key, i in index.items() if i in wanted}
    parse = pacsv.ParseOptions(delimiter=delimiter, quote_char=False, double_quote=False, escape_char=False,
                               newlines_in_values=False, ignore_empty_lines=True)
    stop = threading.Event()  # a part gave up: the others stop too

    def read(stream: pa.NativeFile, first: bool, threads: bool, feeds: int, check: bool) -> _Part | None:
        typed: list[tuple[VectorResult, np.ndarray]] = []
        tops: list[np.ndarray] = []
        # check: Arrow checks the text is UTF-8, in every field (read them all: a field not read is not checked)
        convert = pacsv.ConvertOptions(column_types={c: types.get(c, pa.string()) for c in names} if check else types,
                                       null_values=[], strings_can_be_null=False, check_utf8=check,
                                       include_columns=names if check else include)
        try:
            reader = pacsv.open_csv(stream, read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1 if first else 0, block_size=_ARROW_BLOCK, use_threads=threads),
                parse_options=parse, convert_options=convert, memory_pool=_POOL)
        except (pa.ArrowException, OSError, ValueError):
            stop.set()
            return None
        with reader:
            while not stop.is_set():
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except (pa.ArrowException, OSError, ValueError):
                    stop.set()
                    return None
                if batch.num_rows:
                    res = vector({key: pa.chunked_array([batch.column(col)]) for key, col in fields.items()})
                    h = _vec.key_hash([res.columns[k] for k in keys], batch.num_rows)
                    typed.append((res, h))
                    tops.append(_top(h))
        if stop.is_set():
            return None
        top = np.concatenate(tops) if tops else np.zeros(0, np.uint32)
        top.sort()
        return _Part(typed, top, feeds)

    if info.gzip:
        try:
            stream = pa.input_stream(str(info.path), compression="gzip")
        except (pa.ArrowException, OSError, ValueError):
            return None
        whole = read(stream, True, True, 0, True)
        return None if whole is None else ([whole], 0)
    try:
        with info.path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm, \
                pa.OSFile(str(info.path), memory_pool=_POOL) as source:
            return _read_parts(mm, source, read, pool, workers, quick, stop)
    except (pa.ArrowException, OSError, ValueError):
        return None


def _read_parts(
    mm: mmap.mmap,
    source: pa.NativeFile,
    read: Callable[[pa.NativeFile, bool, bool, int, bool], _Part | None],
    pool: ThreadPoolExecutor,
    workers: int,
    quick: bool,
    stop: threading.Event,
) -> tuple[list[_Part], int] | str | None:
    """:func:`_arrow_read` of a plain file (``mm``: its memory map, ``source``: the same file for Arrow)."""
    size = len(mm)
    count = max(1, min(workers * 2, size // _ARROW_PART))
    cuts = [0]
    for k in range(1, count):
        at = mm.find(b"\n", k * size // count)
        if cuts[-1] < at + 1 < size:
            cuts.append(at + 1)
    cuts.append(size)

    def part(k: int) -> _Part | str | None:
        lo, hi = cuts[k], cuts[k + 1]
        if quick:
            if mm.find(b"\r", lo, hi) >= 0:
                stop.set()
                return "cr"
            if mm.find(b'"', lo, hi) >= 0 or mm.find(b"\x00", lo, hi) >= 0:
                stop.set()
                return "quote"
        if stop.is_set():
            return None
        feeds, ascii = _count_feeds(mm, lo, hi)
        if not ascii and not _utf8(mm, lo, hi):
            stop.set()
            return "utf8"
        return read(source.get_stream(lo, hi - lo), k == 0, len(cuts) == 2, feeds, False)  # UTF-8 checked

    done = list(pool.map(part, range(len(cuts) - 1)))
    for verdict in ("cr", "quote", "utf8", None):
        if verdict in done:
            return verdict
    parts = [d for d in done if isinstance(d, _Part)]
    return parts, sum(p.feeds for p in parts) + (0 if size and mm[size - 1] == 10 else 1)


def _key_columns(info: FileInfo, columns: tuple[Column, ...], hashed: tuple[int, ...]) -> list[str]:
    """Staging columns typed from the hashed raw fields (equal raw fields → equal values)."""
    raw = {info.header[i].lower() for i in hashed}
    return [c.name for c in columns if c.raw is not None and c.raw.lower() in raw]


def _duckdb_fast(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    columns: tuple[Column, ...],
    proj: Projection,
    delimiter: str,
    hashed: tuple[int, ...],
    pre: _Prescan,
) -> tuple[pa.Table, Callable[[np.ndarray], list[str | None]]]:
    """DuckDB's reader splits the fields, one streaming query types and checks them."""
    n = len(info.header)
    raw_cols = [f"c{i}" for i in range(n)] + [f"_x{j}" for j in range(_EXTRA)]
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in raw_cols)
    nl = "\\r\\n" if info.newline == "\r\n" else "\\n"
    d = sql_str(delimiter)
    source = (
        f"read_csv({sql_str(str(info.path))}, columns={{{spec}}}, header=false, skip=1, delim={d}, quote='', "
        f"escape='', comment='', encoding='utf-8', auto_detect=false, strict_mode=false, null_padding=true, "
        f"nullstr={sql_str(_ENC_MARK)}, ignore_errors=false, new_line='{nl}', max_line_size={_MAX_LINE}, "
        f"compression='{'gzip' if info.gzip else 'none'}')"
    )
    ok = f"c{n - 1} IS NOT NULL AND _x0 IS NULL"
    if pre.quotes:
        ok += f" AND NOT contains(concat({', '.join(raw_cols[:n])}), '\"')"
    if pre.nul:  # a NUL byte sends its line to the per-line rules, which quarantine it
        ok += f" AND NOT contains(concat({', '.join(raw_cols[:n])}), chr(0))"
    value_cols = ", ".join(f"{expr} AS {_ident(name)}" for name, expr in proj.exprs.items())
    select = ", ".join(
        f"CAST({proj.final.get(c.name, _ident(c.name))} AS {c.type}) AS {_ident(c.name)}" for c in columns
    )
    pre_text, pre_last = _pre_ctes(proj, "r", "p")
    query = f"""
        WITH r AS (
            SELECT *, ({ok}) AS _ok, hash({", ".join(raw_cols[i] for i in hashed)}) AS _h FROM {source}
        ){pre_text}, c AS (
            SELECT *, {value_cols}, ({_check_sql(proj.checks)}) AS _chk FROM {pre_last}
        )
        SELECT {select}, _h, NOT _ok OR _chk AS _flag,
               CASE WHEN NOT _ok OR _chk THEN concat_ws({d}, {", ".join(raw_cols)}) END AS _raw
        FROM c"""
    try:
        out = con.sql(query).to_arrow_table()
    except duckdb.Error as exc:  # invalid UTF-8, truncated gzip…: the per-line path reports it precisely
        raise _Fallback(str(exc)) from exc
    raw_col = out.column("_raw")

    def raw_of(idx: np.ndarray) -> list[str | None]:
        return raw_col.take(_int64_array(idx)).to_pylist()

    return out.drop_columns(["_raw"]), raw_of


def _finish_fast(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    columns: tuple[Column, ...],
    project: Callable[[dict[str, str], tuple[str, ...]], Projection],
    delimiter: str,
    hashed: tuple[int, ...],
    pre: _Prescan,
    out: pa.Table,
    raw_of: Callable[[np.ndarray], list[str | None]],
    keys: list[str] | None = None,
    among: np.ndarray | None = None,
) -> ParseResult:
    """Flagged records through the per-line rules, then the duplicate search (module docstring, 2, 3, 5).

    ``among``: the hashes of every record (flagged ones too), sorted, when at hand."""
    n = len(info.header)
    if out.num_rows != pre.records:
        raise _Fallback(f"reader returned {out.num_rows} records, expected {pre.records}")
    lines = _line_numbers(out.num_rows, pre.blanks)
    flag = out.column("_flag")
    n_flagged = int(pc.sum(flag).as_py() or 0)
    schema = rows_schema(columns)
    hashes = _numbers(out.column("_h"), np.uint64)
    if n_flagged == 0:
        fast = out.drop_columns(["_flag"]).append_column("_line", _int64_array(lines))
        slow_rows = None
        rejections: list[Record] = []
        slow_keys: list[tuple[int, int]] = []
        slow_raw: dict[int, str] = {}
        key_lines, key_hashes = lines, hashes
    else:
        flag_np = flag.to_numpy(zero_copy_only=False)
        flagged_idx = np.flatnonzero(flag_np)
        raws = raw_of(flagged_idx)
        flagged_lines = lines[flagged_idx]
        # a raw line rebuilt from every extra column may have lost fields beyond them: read it again
        refetch = {int(ln) for ln, raw in zip(flagged_lines, raws, strict=True)
                   if raw is None or raw.count(delimiter) >= n + _EXTRA - 1}
        again = _fetch_lines(info, refetch)
        slow_raw = {int(ln): again.get(int(ln), raw or "") for ln, raw in zip(flagged_lines, raws, strict=True)}
        keep = pc.invert(flag)
        fast = out.drop_columns(["_flag"]).append_column("_line", _int64_array(lines)).filter(keep)
        slow_rows, rejections, slow_keys = _slow_subset(con, slow_raw, info.header, columns, project, delimiter,
                                                        hashed)
        if keys is not None:  # the fast records' hash is of typed values: the same for these
            slow_keys = list(zip(slow_rows.column("_line").to_pylist(),
                                 _vec.key_hash([slow_rows.column(k) for k in keys], slow_rows.num_rows).tolist(),
                                 strict=True))
        kept = ~np.asarray(flag_np, dtype=bool)
        key_lines, key_hashes = lines[kept], hashes[kept]
    # exact duplicates among accepted records
    if slow_keys:
        slow_h = np.array([k[1] for k in slow_keys], dtype=np.uint64)
        key_lines = np.concatenate([key_lines, np.array([k[0] for k in slow_keys], dtype=np.int64)])
        key_hashes = np.concatenate([key_hashes, slow_h])
        if among is not None:
            among = np.concatenate([among, np.sort(_top(slow_h))])
            among.sort(kind="stable")  # merges the two sorted runs
    dups = _duplicates(key_lines, key_hashes,
                       lambda want: {**_fetch_lines(info, want - set(slow_raw)),
                                     **{ln: slow_raw[ln] for ln in want if ln in slow_raw}}, among)
    rows = fast.drop_columns(["_h"])
    if dups:
        dup_set = pa.array(sorted(dups), pa.int64())
        rows = rows.filter(pc.invert(pc.is_in(rows.column("_line"), value_set=dup_set)))
        if slow_rows is not None and slow_rows.num_rows:
            slow_rows = slow_rows.filter(pc.invert(pc.is_in(slow_rows.column("_line"), value_set=dup_set)))
        rejections.extend((ln, None, raw, "duplicate: same record as an earlier line", "row")
                          for ln, raw in dups.items())
    rows = rows.cast(schema)
    if slow_rows is not None and slow_rows.num_rows:
        rows = pa.concat_tables([rows, slow_rows.cast(schema)]).sort_by("_line")
    rejections.sort(key=lambda r: r[0])
    return ParseResult(rows=rows, rejections=rejections_table(rejections), read=out.num_rows)


def _duplicates(
    lines: np.ndarray,
    hashes: np.ndarray,
    raw_of: Callable[[set[int]], dict[int, str]],
    among: np.ndarray | None = None,
) -> dict[int, str]:
    """Later exact duplicates (line → raw line) among accepted records, given their lines and raw-field hashes.

    Candidates: records whose hash occurs twice or more. Found cheaply: the upper 32 bits of the hashes
    (:func:`_top`) are sorted — ``among``: those of these hashes, or of a superset of them, sorted, if at hand —,
    the records whose upper bits repeat (a few thousand in ten million) are then grouped by their whole hash.
    Their raw lines are then compared."""
    if len(lines) < 2:
        return {}
    ordered = np.sort(_top(hashes)) if among is None else among
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeated):
        return {}
    values = np.unique(repeated)
    seen_bits = np.zeros(1 << 24, dtype=bool)  # a coarse filter before the exact look-up
    seen_bits[values >> np.uint32(8)] = True
    found = []
    step = 1 << 18  # by slices: small temporaries, reused
    for start in range(0, len(hashes), step):
        top = _top(hashes[start:start + step])
        maybe = np.flatnonzero(seen_bits[top >> np.uint32(8)])
        pos = np.searchsorted(values, top[maybe])
        pos[pos == len(values)] = 0
        found.append(maybe[values[pos] == top[maybe]] + start)
    maybe = np.concatenate(found)
    _, inverse, counts = np.unique(hashes[maybe], return_inverse=True, return_counts=True)
    cand = np.sort(lines[maybe[counts[inverse] > 1]])
    if len(cand) < 2:
        return {}
    raw = raw_of({int(ln) for ln in cand})
    seen: set[str] = set()
    out: dict[int, str] = {}
    for ln in cand.tolist():
        text = raw[ln]
        if text in seen:
            out[ln] = text
        else:
            seen.add(text)
    return out


def _top(hashes: np.ndarray) -> np.ndarray:
    """The upper 32 bits of 64-bit hashes (sorted faster than the whole hashes)."""
    return (hashes >> np.uint64(32)).astype(np.uint32)


def _numbers(column: pa.ChunkedArray, dtype: type[np.generic]) -> np.ndarray:
    """A fixed-width column without NULLs as one numpy array (zero-copy when it has a single chunk)."""
    parts = [np.frombuffer(c.buffers()[1], dtype=dtype, count=c.offset + len(c))[c.offset:]
             for c in column.chunks if len(c)]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _slow_subset(
    con: duckdb.DuckDBPyConnection,
    raw: dict[int, str],
    header: tuple[str, ...],
    columns: tuple[Column, ...],
    project: Callable[[dict[str, str], tuple[str, ...]], Projection],
    delimiter: str,
    hashed: tuple[int, ...],
) -> tuple[pa.Table, list[Record], list[tuple[int, int]]]:
    """The per-line rules on a few physical lines: (kept rows, rejections, (line, hash) of kept records)."""
    uid = next(_counter)
    lines_t, parsed_t = f"_sf_lines_{os.getpid()}_{uid}", f"_sf_parsed_{os.getpid()}_{uid}"
    items = sorted(raw.items())
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {lines_t} AS SELECT unnest(?::BIGINT[]) AS _line, unnest(?::VARCHAR[]) AS line",
        [[k for k, _ in items], [v for _, v in items]],
    )
    try:
        proj = _typed_lines(con, lines_t, parsed_t, header, project, delimiter, True, hashed)
        rejections = _rejections(con, parsed_t, header, delimiter, proj.checks)
        keys = [(int(a), int(b)) for a, b in con.execute(
            f"SELECT _line, _h FROM {parsed_t} WHERE NOT _row_bad ORDER BY _line").fetchall()]
        select = ", ".join(
            f"CAST({proj.final.get(c.name, _ident(c.name))} AS {c.type}) AS {_ident(c.name)}" for c in columns
        )
        rows = con.sql(f"SELECT {select}, _line FROM {parsed_t} WHERE NOT _row_bad ORDER BY _line").to_arrow_table()
        return rows, rejections, keys
    finally:
        con.execute(f"DROP TABLE IF EXISTS {lines_t}")
        con.execute(f"DROP TABLE IF EXISTS {parsed_t}")


def _parse_slow(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    columns: tuple[Column, ...],
    project: Callable[[dict[str, str], tuple[str, ...]], Projection],
    delimiter: str,
    exact_field_count: bool,
    hashed: tuple[int, ...],
) -> ParseResult:
    """Every physical line through the per-line rules (module docstring, 3)."""
    path = info.path
    uid = next(_counter)
    raw_t, parsed_t = f"_sf_raw_{os.getpid()}_{uid}", f"_sf_parsed_{os.getpid()}_{uid}"
    lines_v = f"_sf_lines_{os.getpid()}_{uid}"
    tmpdir: tempfile.TemporaryDirectory[str] | None = None
    enc_rejections: list[Record] = []
    try:
        try:
            _load_lines(con, raw_t, info, path)
        except duckdb.Error as exc:
            if "unicode" not in str(exc).lower() and "utf" not in str(exc).lower():
                return fatal_result(columns, _read_error(info, exc))
            tmpdir = tempfile.TemporaryDirectory(prefix="sf-transcode-")
            clean = Path(tmpdir.name) / "clean.csv"
            try:
                non_ascii, bad = _transcode(info, clean)
            except (OSError, EOFError, zlib.error) as exc2:
                return fatal_result(columns, _read_error(info, exc2))
            if bad >= 20 and bad * 2 > non_ascii:
                return fatal_result(
                    columns,
                    f"{path.name}: not UTF-8 ({bad} of {non_ascii} non-ASCII lines undecodable; "
                    "looks like Latin-1/Windows-1252), expected UTF-8 text",
                )
            try:
                _load_lines(con, raw_t, FileInfo(clean, False, "\n", info.header), clean)
            except duckdb.Error as exc2:
                return fatal_result(columns, _read_error(info, exc2))
            for line, hexed in con.execute(
                f"SELECT rowid + 1, substr(line, {len(_ENC_MARK) + 1}) FROM {raw_t} "
                f"WHERE starts_with(line, {sql_str(_ENC_MARK)})"
            ).fetchall():
                enc_rejections.append(
                    (int(line), None, bytes.fromhex(hexed).decode("utf-8"), "encoding: not valid UTF-8", "row")
                )
            con.execute(f"UPDATE {raw_t} SET line = NULL WHERE starts_with(line, {sql_str(_ENC_MARK)})")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {lines_v} AS SELECT rowid + 1 AS _line, line FROM {raw_t} "
                    "WHERE rowid >= 1")  # header is physical line 1
        return _parse_lines(con, lines_v, parsed_t, info, columns, project, delimiter, exact_field_count,
                            enc_rejections, hashed)
    finally:
        con.execute(f"DROP VIEW IF EXISTS {lines_v}")
        con.execute(f"DROP TABLE IF EXISTS {raw_t}")
        con.execute(f"DROP TABLE IF EXISTS {parsed_t}")
        if tmpdir is not None:
            tmpdir.cleanup()


def _typed_lines(
    con: duckdb.DuckDBPyConnection,
    lines_t: str,
    parsed_t: str,
    header: tuple[str, ...],
    project: Callable[[dict[str, str], tuple[str, ...]], Projection],
    delimiter: str,
    exact_field_count: bool,
    hashed: tuple[int, ...],
) -> Projection:
    """Split the physical lines of ``lines_t`` (``_line``, ``line``) and type them into ``parsed_t``."""
    n = len(header)
    fields: dict[str, str] = {}
    raw_select = []
    for key, i in _field_names(header).items():
        alias = f"r{i}"
        fields[key] = alias
        raw_select.append(
            f"CASE WHEN NOT _q THEN f[{i + 1}] WHEN starts_with(f[{i + 1}], '\"') AND ends_with(f[{i + 1}], '\"') "
            f"AND length(f[{i + 1}]) >= 2 THEN replace(f[{i + 1}][2:-2], '\"\"', '\"') "
            f"ELSE f[{i + 1}] END AS {alias}"
        )
    proj = project(fields, header)
    checks = proj.checks
    count_ok = f"len(f) = {n}" if exact_field_count else f"len(f) >= {n}"
    quote_bad = (  # CASE, not AND: DuckDB evaluates both sides of AND, CASE only the selected rows
        "CASE WHEN _q THEN list_bool_or(list_transform(f, lambda x: contains(x, '\"') "
        "AND NOT regexp_full_match(x, '\"([^\"]|\"\")*\"'))) ELSE false END"
    )
    check_cols = ", ".join(
        f"CASE WHEN ({c.condition}) THEN coalesce(({c.raw})::VARCHAR, '') END AS _k{j}" for j, c in enumerate(checks)
    )
    row_checks = [j for j, c in enumerate(checks) if c.level == "row"]
    field_checks = [j for j, c in enumerate(checks) if c.level == "field"]
    row_bad = " OR ".join(f"_k{j} IS NOT NULL" for j in row_checks) or "false"
    field_bad = " OR ".join(f"_k{j} IS NOT NULL" for j in field_checks) or "false"
    value_cols = ", ".join(f"{expr} AS {_ident(name)}" for name, expr in proj.exprs.items())
    d = sql_str(delimiter)
    hash_args = ", ".join(f"f[{i + 1}]" for i in hashed)  # same hash as the fast path's raw fields
    pre_text, pre_last = _pre_ctes(proj, "p", "p")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {parsed_t} AS
        WITH s AS (
            SELECT _line, line, string_split(line, {d}) AS f, contains(line, '"') AS _q,
                   contains(line, chr(0)) AS _z
            FROM {lines_t} WHERE line IS NOT NULL AND line <> ''
        ), r AS (
            SELECT _line, f, _q, _z, ({count_ok}) AS _count_ok, ({quote_bad}) AS _quote_bad,
                   hash({hash_args}) AS _h, {", ".join(raw_select)} FROM s
        ), p AS (
            SELECT * FROM r WHERE _count_ok AND NOT _quote_bad AND NOT _z
        ){pre_text}, c AS (
            SELECT *, {check_cols + "," if check_cols else ""} {value_cols} FROM {pre_last}
        )
        SELECT _line, _h, false AS _count_bad, false AS _quote_bad_, false AS _nul_bad, ({row_bad}) AS _row_bad,
               ({field_bad}) AS _field_bad, * EXCLUDE (_line, _h, f, _q, _z, _count_ok, _quote_bad)
        FROM c
        UNION ALL BY NAME
        SELECT _line, _h, NOT _z AND NOT _count_ok AS _count_bad, NOT _z AND _count_ok AND _quote_bad AS _quote_bad_,
               _z AS _nul_bad, true AS _row_bad, false AS _field_bad,
               replace(array_to_string(f, {d}), chr(0), '\\0') AS _rawline
        FROM r WHERE NOT _count_ok OR _quote_bad OR _z
        """
    )
    return proj


def _rejections(
    con: duckdb.DuckDBPyConnection, parsed_t: str, header: tuple[str, ...], delimiter: str, checks: list[Check]
) -> list[Record]:
    """Malformed lines and check failures recorded in ``parsed_t`` (a malformed line's reason names its field)."""
    n = len(header)
    rejections: list[Record] = []
    for line, count_bad, nul_bad, raw in con.execute(
        f"SELECT _line, _count_bad, _nul_bad, _rawline FROM {parsed_t} "
        "WHERE _count_bad OR _quote_bad_ OR _nul_bad ORDER BY _line"
    ).fetchall():
        column: str | None = None
        if count_bad:
            reason = f"malformed line: wrong number of fields (expected {n})"
        elif nul_bad:
            column, reason = nul_reason(raw.replace("\\0", "\x00"), delimiter, header)
        else:
            column, reason = stray_quote_reason(stray_quote_field(raw, delimiter), header)
        rejections.append((int(line), column, raw, reason, "row"))
    if checks:
        kcols = ", ".join(f"_k{j}" for j in range(len(checks)))
        for rec in con.execute(
            f"SELECT _line, {kcols} FROM {parsed_t} WHERE NOT _count_bad AND NOT _quote_bad_ AND NOT _nul_bad "
            f"AND (_row_bad OR _field_bad) ORDER BY _line"
        ).fetchall():
            for j, c in enumerate(checks):
                if rec[j + 1] is not None:
                    rejections.append((int(rec[0]), c.column, rec[j + 1], c.reason, c.level))
    return rejections


def _parse_lines(
    con: duckdb.DuckDBPyConnection,
    lines_t: str,
    parsed_t: str,
    info: FileInfo,
    columns: tuple[Column, ...],
    project: Callable[[dict[str, str], tuple[str, ...]], Projection],
    delimiter: str,
    exact_field_count: bool,
    enc_rejections: list[Record],
    hashed: tuple[int, ...],
) -> ParseResult:
    proj = _typed_lines(con, lines_t, parsed_t, info.header, project, delimiter, exact_field_count, hashed)
    counted = next(iter(con.execute(f"SELECT count(*) FROM {parsed_t}").fetchall()), None)
    read = (int(counted[0]) if counted else 0) + len(enc_rejections)
    rejections: list[Record] = list(enc_rejections)
    rejections.extend(_rejections(con, parsed_t, info.header, delimiter, proj.checks))
    # exact duplicates among accepted records: same raw line → later occurrences rejected
    dups = con.execute(
        f"""WITH ok AS (SELECT _line, _h FROM {parsed_t} WHERE NOT _row_bad),
        cand AS (SELECT _h FROM ok GROUP BY _h HAVING count(*) > 1),
        lines AS (SELECT ok._line, r.line FROM ok JOIN cand USING (_h) JOIN {lines_t} r ON r._line = ok._line)
        SELECT _line, line FROM (
            SELECT _line, line, row_number() OVER (PARTITION BY line ORDER BY _line) AS rn FROM lines) WHERE rn > 1
        ORDER BY _line"""
    ).fetchall()
    dup_lines = [int(x[0]) for x in dups]
    for line, raw in dups:
        rejections.append((int(line), None, raw, "duplicate: same record as an earlier line", "row"))
    names = [c.name for c in columns]
    select = ", ".join(
        f"CAST({proj.final.get(c.name, _ident(c.name))} AS {c.type}) AS {_ident(c.name)}" for c in columns
    )
    dup_filter = ""
    if dup_lines:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {parsed_t}_dups AS SELECT unnest(?::BIGINT[]) AS _line",
                    [dup_lines])
        dup_filter = f"AND _line NOT IN (SELECT _line FROM {parsed_t}_dups)"
    unnest = proj.unnest
    if unnest is None:
        query = f"SELECT {select}, _line FROM {parsed_t} WHERE NOT _row_bad {dup_filter} ORDER BY _line"
    else:
        query = (
            f"SELECT {select}, _line FROM (SELECT * EXCLUDE ({_ident(unnest)}), unnest({_ident(unnest)}) AS _u "
            f"FROM {parsed_t} WHERE NOT _row_bad {dup_filter}) WHERE _u IS NOT NULL ORDER BY _line"
        )
    rows = con.sql(query).to_arrow_table()
    if dup_lines:
        con.execute(f"DROP TABLE IF EXISTS {parsed_t}_dups")
    rows = rows.select([*names, "_line"]).cast(rows_schema(columns))
    rejections.sort(key=lambda r: r[0])
    return ParseResult(rows=rows, rejections=rejections_table(rejections), read=read)


_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def _ident(name: str) -> str:
    return name if _IDENT.match(name) else '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class DelimitedSource:
    """A :class:`~signaux_faibles.sources._base.Source` read by :func:`parse_delimited`.

    ``project`` receives (raw header lower-cased → SQL field expression, header) and returns a
    :class:`Projection`; ``required`` lists the raw headers that must be present.
    """

    name: str
    table: str
    kind: Literal["stock", "flux"]
    key: Literal["siret", "siren"] | None
    patterns: tuple[re.Pattern[str], ...]
    columns: tuple[Column, ...]
    required: tuple[str, ...]
    project: Callable[[dict[str, str], tuple[str, ...]], Projection]
    delimiter: str = ";"
    exact_field_count: bool = True
    #: raw headers hashed to find candidate duplicates (default: all); see :func:`parse_delimited`
    dedup: tuple[str, ...] = ()
    #: optional vectorised typing for the Arrow reader; see :func:`parse_delimited`
    vector: Callable[[dict[str, pa.ChunkedArray]], VectorResult] | None = None
    #: raw headers with few distinct values, dictionary-encoded by the Arrow reader; see :func:`parse_delimited`
    categorical: tuple[str, ...] = ()

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one file (never raises on bad data)."""
        return parse_delimited(
            path,
            con,
            columns=self.columns,
            project=self.project,
            required=self.required,
            delimiter=self.delimiter,
            exact_field_count=self.exact_field_count,
            dedup=self.dedup,
            vector=self.vector,
            categorical=self.categorical,
        )
