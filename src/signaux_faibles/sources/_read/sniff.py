"""First look at a delimited file: whole-file errors, header, line ending (step 1 of :mod:`._read`)."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: Delimiter handed to DuckDB so that each physical line is one field (4 control bytes that never occur together).
LINE_DELIM = "\x01\x02\x03\x04"
SNIFF_BYTES = 1 << 16
MAX_LINE = 64 * 1024 * 1024
#: Marker written in place of a line that is not valid UTF-8 (slow path).
ENC_MARK = "\x01\x02ENC\x03\x04"

@dataclass(frozen=True)
class FileInfo:
    """What :func:`sniff` learnt about a file."""

    path: Path
    gzip: bool
    newline: Literal["\n", "\r\n"]
    header: tuple[str, ...]
    bom: bool = False


class FatalError(Exception):
    """A whole-file error (the message names the file and what was expected)."""


def _open_head(path: Path, is_gzip: bool) -> bytes:
    if is_gzip:
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read(SNIFF_BYTES)
        except (OSError, EOFError, zlib.error) as exc:
            raise FatalError(f"{path.name}: corrupt or truncated gzip ({exc})") from exc
    with path.open("rb") as fh:
        return fh.read(SNIFF_BYTES)


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
    if not sep and len(head) >= SNIFF_BYTES:
        raise FatalError(f"{path.name}: no line break in the first {SNIFF_BYTES} bytes, expected a header line")
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


def read_error(info: FileInfo, exc: Exception) -> str:
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if info.gzip:
        return f"{info.path.name}: corrupt or truncated gzip, could not be read to the end ({msg})"
    return f"{info.path.name}: unreadable ({msg})"


def field_names(header: tuple[str, ...]) -> dict[str, int]:
    """Raw header lower-cased → index of its first occurrence."""
    out: dict[str, int] = {}
    for i, name in enumerate(header):
        out.setdefault(name.lower(), i)
    return out
