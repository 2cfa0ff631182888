"""Text records for the Python reader: bytes → decoded physical lines → CSV records, malformed lines rejected."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from signaux_faibles.sources._base import nul_reason, open_quote_field, stray_quote_reason

_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF = 65536
MAX_RAW = 300  # raw values kept in rejections are cut to this many characters


class FileError(Exception):
    """A whole-file problem (becomes ``ParseResult.fatal``)."""


def cut(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.rstrip("\r\n")
    return text if len(text) <= MAX_RAW else text[:MAX_RAW] + "…"


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


def byte_lines(path: Path) -> Iterator[bytes]:
    """Physical lines (split on ``\\n``, ending kept) of a plain or gzip file."""
    try:
        with open_binary(path) as f:
            yield from f
    except (EOFError, OSError, zlib.error) as e:
        raise FileError(f"{path.name}: truncated or corrupt gzip file ({e})") from e


def utf16_text(path: Path) -> str:
    """The decoded text of a whole UTF-16 file (byte-order mark required); :class:`FileError` when it is empty,
    has no byte-order mark or is not valid UTF-16. The bytes are released once decoded."""
    data = read_all_bytes(path)
    if not data.strip():
        raise FileError(f"{path.name}: empty file")
    if data[:2] not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise FileError(f"{path.name}: expected a UTF-16 text file with a byte-order mark (Diane export)")
    try:
        return data.decode("utf-16")
    except UnicodeDecodeError as e:
        raise FileError(f"{path.name}: invalid UTF-16 text ({e.reason} at byte {e.start})") from e


def decoded_lines(
    path: Path, encoding: str
) -> Iterator[tuple[int, str, bool]]:
    """``(line number, text, bad_encoding)`` for each physical line; 1-based.

    ``encoding`` is ``"utf-8"`` (each line decoded on its own: a line with invalid bytes is flagged and decoded as
    latin-1 so that the rest of the file still reads), ``"iso-8859-15"``, or ``"utf-16"`` (whole file, BOM
    required).
    """
    if encoding == "utf-16":
        for i, line in enumerate(io.StringIO(utf16_text(path), newline=""), start=1):
            yield i, line, False
        return
    first = True
    for i, raw in enumerate(byte_lines(path), start=1):
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


class Records:
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
