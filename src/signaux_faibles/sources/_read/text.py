"""The Python reader of small text files: records → raw string columns (:func:`read_text`)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from signaux_faibles.sources._base import Record
from signaux_faibles.sources._read.lines import FileError, Records, cut, decoded_lines

_BATCH = 100_000


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
    rejections: list[Record] = field(default_factory=list)
    fatal: str | None = None


def index_header(
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


def raw_table(columns: Sequence[str], batches: list[pa.RecordBatch]) -> pa.Table:
    schema = pa.schema([pa.field(c, pa.string()) for c in columns] + [
        pa.field("_line", pa.int64()), pa.field("_hash", pa.int64())
    ])
    if not batches:
        return schema.empty_table()
    return pa.Table.from_batches(batches, schema=schema)


class Collector:
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
        return raw_table(self.columns, self.batches)


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
    collector = Collector(wanted)
    rejections: list[Record] = []
    read = 0
    bad_encoding = 0
    index: dict[str, int] | None = None
    try:
        for start, _end, fields, problem, text in Records(
            decoded_lines(path, encoding), delimiter, multiline=multiline
        ):
            if index is None:
                if len(fields) == 1 and delimiter not in text and len(wanted) > 1:
                    raise FileError(
                        f"{path.name}: header has a single column; expected a {expected} separated by "
                        f"{delimiter!r} with header {', '.join(required)}"
                    )
                index = index_header(fields, required, optional, path.name, expected)
                continue
            read += 1
            if problem is not None:
                column, reason = problem
                if "UTF-8" in reason:
                    bad_encoding += 1
                rejections.append((start, column, cut(text.replace("\x00", "\\0")), reason, "row"))
                continue
            collector.add([fields[index[c]] if c in index else None for c in wanted], start, tuple(fields))
    except FileError as e:
        msg = str(e)
        return RawRead(raw_table(wanted, []), 0, [], msg if msg.startswith(path.name) else f"{path.name}: {msg}")
    except (OSError, UnicodeError, csv.Error) as e:
        return RawRead(raw_table(wanted, []), 0, [], f"{path.name}: unreadable {expected} ({e})")
    if index is None:
        return RawRead(raw_table(wanted, []), 0, [], f"{path.name}: empty file, expected a {expected}")
    if bad_encoding >= 20 and bad_encoding * 2 >= read:
        return RawRead(
            raw_table(wanted, []), 0, [],
            f"{path.name}: {bad_encoding} of {read} lines are not valid UTF-8; expected a UTF-8 {expected}",
        )
    return RawRead(collector.table(), read, rejections)


def raw_from_rows(
    columns: Sequence[str], records: Iterable[tuple[int, Sequence[str | None], object]]
) -> pa.Table:
    """Raw table from already split records ``(line, values, duplicate key)`` (Excel sheets, projections)."""
    collector = Collector(columns)
    for line, values, key in records:
        collector.add(values, line, key)
    return collector.table()


# ----------------------------------------------------------------------------------------------------------------
# Shared toolkit, stage 2: raw strings → typed rows + rejections, in one DuckDB query
# ----------------------------------------------------------------------------------------------------------------
