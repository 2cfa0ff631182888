"""Pre-scan of a file's bytes (line count, blank lines, quotes) and reading back physical lines."""

from __future__ import annotations

import gzip
import mmap
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from signaux_faibles.sources._read.sniff import FileInfo

#: Extra VARCHAR columns the fast reader carries to catch (and rebuild) overlong lines.
EXTRA = 1
CHUNK = 16 << 20


class Fallback(Exception):
    """The fast path cannot be used for this file: take the per-line path."""


@dataclass(frozen=True)
class Prescan:
    records: int  # data records the reader should return (physical lines - header - blank lines)
    blanks: tuple[int, ...]  # physical line numbers of blank lines
    quotes: bool  # a double quote occurs somewhere
    nul: bool = True  # a NUL byte may occur somewhere (the Arrow reader is then not used)


def _chunks(info: FileInfo) -> Iterator[bytes]:
    opener = gzip.open if info.gzip else open
    with opener(info.path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                return
            yield chunk + fh.readline()  # chunks end on a line break


def prescan(info: FileInfo) -> Prescan:
    """Count physical lines, find blank ones and double quotes; raise :class:`Fallback` on a bare CR."""
    if not info.gzip:
        try:
            return prescan_mapped(info)
        except (OSError, ValueError) as exc:
            raise Fallback(str(exc)) from exc
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
                    raise Fallback("bare CR or LF in a CRLF file")
            elif b"\r" in chunk:
                raise Fallback("carriage return in a LF file")
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
        raise Fallback(str(exc)) from exc
    physical = lines_before + (0 if last.endswith(b"\n") or not last else 1)
    return Prescan(records=physical - 1 - len(blanks), blanks=tuple(blanks), quotes=quotes, nul=nul)


def prescan_mapped(info: FileInfo) -> Prescan:
    """:func:`prescan` of a plain file: memory-mapped, one vectorised pass per window (no copies)."""
    with info.path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        quotes = mm.find(b'"') >= 0
        nul = mm.find(b"\x00") >= 0
        if info.newline == "\n" and mm.find(b"\r") >= 0:
            raise Fallback("carriage return in a LF file")
        found = _scan_buffer(mm, info.newline == "\r\n", quotes, nul)
    if isinstance(found, str):  # raised here: a traceback through the scan would pin the map's buffer
        raise Fallback(found)
    return found


def _scan_buffer(buf: mmap.mmap, crlf: bool, quotes: bool, nul: bool) -> Prescan | str:
    """Line feeds of ``buf`` by windows: their count gives the lines; a line is blank when its line feed
    follows the previous one directly (CRLF: two bytes after, every LF following a CR and no other CR).
    Returns why the fast path cannot be used instead, if so."""
    data = np.frombuffer(buf, dtype=np.uint8)
    size = len(data)
    step = 2 if crlf else 1
    lines_before = n_cr = 0
    prev = -(1 << 40)  # position of the previous line feed (none yet)
    blanks: list[int] = []
    for start in range(0, size, CHUNK):
        window = data[start:start + CHUNK]
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
    return Prescan(records=physical - 1 - len(blanks), blanks=tuple(blanks), quotes=quotes, nul=nul)


def fetch_lines(info: FileInfo, wanted: set[int]) -> dict[int, str]:
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
    """:func:`fetch_lines` of a plain file: line feeds found by windows of the memory map (numpy)."""
    out: dict[int, str] = {}
    want = np.array(sorted(wanted), dtype=np.int64)
    with info.path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        data = np.frombuffer(mm, dtype=np.uint8)
        size = len(data)
        ends: list[np.ndarray] = []  # position of the line feed ending each line, in order
        found = 0
        last = int(want[-1])
        for start in range(0, size, CHUNK):
            pos = np.flatnonzero(data[start:start + CHUNK] == 10) + start
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


def line_numbers(count: int, blanks: tuple[int, ...]) -> np.ndarray:
    """Physical line of the k-th record (k = 0…count-1): header is line 1, blank lines skipped."""
    lines = np.arange(2, count + 2, dtype=np.int64)
    if blanks:
        # the j-th blank line (0-based) comes after (blank - 2 - j) records
        after = np.array(blanks, dtype=np.int64) - 2 - np.arange(len(blanks), dtype=np.int64)
        lines += np.searchsorted(after, np.arange(count, dtype=np.int64), side="right")
    return lines


def int64_array(values: np.ndarray) -> pa.Array:
    """An Arrow int64 array over a numpy buffer (``pa.array`` on numpy imports pandas: seconds at start-up)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])
