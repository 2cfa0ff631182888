"""Vectorised helpers for the Arrow variant of the fast path (:mod:`signaux_faibles.sources._read.arrow`).

A source may give, besides its SQL :class:`~signaux_faibles.sources._read.rules.Projection` (the exact rules), a
*vector* function: from the raw fields as Arrow string columns it computes the typed columns with numpy for the
records that pass cheap tests (ASCII digits, lengths, ranges), and a mask of those records. Every other record
is flagged and goes through the exact per-line rules, so the vector function only has to be right on the records
it accepts: it must never accept a record the SQL rules would reject or type differently.

The helpers read the Arrow buffers directly (offsets and bytes), which costs a fraction of a compute kernel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Raw", "VectorResult", "array", "by_value", "const_string", "date_array", "key_hash", "month_days", "raw", "ymd"]

#: first and last month index (``year * 12 + month - 1``) of the table of month starts (years 1000–9999)
MONTH_MIN = 1000 * 12
MONTH_MAX = 10000 * 12 - 1
_EPOCH = 1970 * 12
_MONTH_DAYS = (np.arange(MONTH_MIN - _EPOCH, MONTH_MAX + 2 - _EPOCH).astype("datetime64[M]")
               .astype("datetime64[D]").astype(np.int32))


@dataclass
class VectorResult:
    """Typed columns (staging name → Arrow array or chunked array) and the records they are certain of."""

    columns: dict[str, pa.Array | pa.ChunkedArray]
    ok: np.ndarray  # bool, one per record


class Raw:
    """One raw Arrow string column, with its lengths, an ASCII-digits mask and its first bytes."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        self.column = column
        lengths, digits, first = [], [], []
        for chunk in column.chunks:
            n = len(chunk)
            if n == 0:
                continue
            if chunk.type != pa.string():
                chunk = chunk.cast(pa.string())
            _, offsets_buf, data_buf = chunk.buffers()
            offsets = np.frombuffer(offsets_buf, dtype=np.int32, count=chunk.offset + n + 1)[chunk.offset:]
            length = np.diff(offsets)
            start, end = int(offsets[0]), int(offsets[-1])
            data = np.frombuffer(data_buf, dtype=np.uint8, count=end) if data_buf is not None and end \
                else np.zeros(0, np.uint8)
            body = data[start:end]
            bad = (body - np.uint8(48)) > np.uint8(9)  # not an ASCII digit
            dig = np.ones(n, dtype=bool)
            if bad.any():
                pos = np.flatnonzero(bad) + start
                dig[np.searchsorted(offsets, pos, side="right") - 1] = False
            lengths.append(length)
            digits.append(dig)
            fb = np.zeros(n, dtype=np.uint8)
            nonempty = length > 0
            fb[nonempty] = data[offsets[:-1][nonempty]]
            first.append(fb)
        self.length = np.concatenate(lengths) if lengths else np.zeros(0, np.int32)
        #: every byte is an ASCII digit (true for an empty value)
        self.digits = np.concatenate(digits) if digits else np.zeros(0, bool)
        #: first byte (0 when empty)
        self.first = np.concatenate(first) if first else np.zeros(0, np.uint8)

    def digits_between(self, lo: int, hi: int) -> np.ndarray:
        """Made of ``lo`` to ``hi`` ASCII digits (``hi`` ≤ 18)."""
        return self.digits & (self.length >= lo) & (self.length <= hi)

    def ints(self, ok: np.ndarray, type: pa.DataType = pa.int64()) -> np.ndarray:  # noqa: B008
        """The values as int64 (or ``type``) where ``ok`` (digits only, at most 18 of them, not empty), 0
        elsewhere."""
        out = []
        pos = 0
        dtype = {pa.int64(): np.int64, pa.float64(): np.float64, pa.int32(): np.int32}[type]
        for chunk in self.column.chunks:
            n = len(chunk)
            sel = ok[pos:pos + n]
            pos += n
            if n == 0:
                continue
            if not sel.all():
                chunk = pc.if_else(array(sel, pa.bool_()), chunk, const_string("0", n))
            ints = pc.cast(chunk, type)
            out.append(np.frombuffer(ints.buffers()[1], dtype=dtype, count=ints.offset + n)[ints.offset:])
        return np.concatenate(out) if out else np.zeros(0, dtype)


def by_value(
    column: pa.ChunkedArray, fn: Callable[[pa.ChunkedArray], dict[str, np.ndarray | pa.Array]]
) -> dict[str, np.ndarray | pa.ChunkedArray]:
    """``fn`` (raw values → arrays, one element per value; numpy, or Arrow for strings) computed once per
    distinct value, spread to the records (for low-cardinality fields: dates, periods, codes). The column may
    come dictionary-encoded (a source's ``categorical`` fields)."""
    out: dict[str, np.ndarray] = {}
    arrow: dict[str, list[pa.Array]] = {}
    pos = 0
    for chunk in column.chunks:
        n = len(chunk)
        if n == 0:
            continue
        enc = chunk if pa.types.is_dictionary(chunk.type) else pc.dictionary_encode(chunk)
        idx = enc.indices
        if idx.type != pa.int32():
            idx = idx.cast(pa.int32())
        positions = np.frombuffer(idx.buffers()[1], dtype=np.int32, count=idx.offset + n)[idx.offset:]
        for key, values in fn(pa.chunked_array([enc.dictionary])).items():
            if isinstance(values, pa.Array):
                arrow.setdefault(key, []).append(values.take(idx))
                continue
            if key not in out:
                out[key] = np.empty(len(column), dtype=values.dtype)
            np.take(values, positions, out=out[key][pos:pos + n])
        pos += n
    return {**out, **{k: pa.chunked_array(v, type=v[0].type) for k, v in arrow.items()}}


def raw(column: pa.ChunkedArray) -> Raw:
    """:class:`Raw` of a column."""
    return Raw(column)


def month_days(months: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of the first day of month index ``months`` (clipped to years 1000–9999)."""
    return _MONTH_DAYS[np.clip(months, MONTH_MIN, MONTH_MAX + 1) - MONTH_MIN]


def array(values: np.ndarray, type: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """An Arrow array over a numpy buffer (NULL where not ``valid``; ``pa.array`` on numpy imports pandas)."""
    n = len(values)
    if type == pa.bool_():
        data = pa.py_buffer(np.packbits(values.astype(bool), bitorder="little"))
    else:
        data = pa.py_buffer(np.ascontiguousarray(values, dtype=type.to_pandas_dtype()
                                                 if type != pa.date32() else np.int32))
    if valid is None or valid.all():
        return pa.Array.from_buffers(type, n, [None, data])
    bitmap = pa.py_buffer(np.packbits(valid.astype(bool), bitorder="little"))
    return pa.Array.from_buffers(type, n, [bitmap, data], null_count=int(n - np.count_nonzero(valid)))


def const_string(value: str, n: int) -> pa.Array:
    """A string array of ``n`` times ``value`` (built from buffers: Python scalars make pyarrow import pandas)."""
    data = value.encode()
    if not data:
        return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(np.zeros(n + 1, np.int32)),
                                                      pa.py_buffer(b"")])
    offsets = np.arange(n + 1, dtype=np.int64) * len(data)
    if offsets[-1] < 2**31:
        return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)),
                                                      pa.py_buffer(data * n)])
    return pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)])


def date_array(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """An Arrow date32 array (NULL where not ``valid``)."""
    return array(days, pa.date32(), valid)


def ymd(months: np.ndarray) -> np.ndarray:
    """INTEGER ``YYYYMM01`` of month index ``months``."""
    return months // 12 * 10000 + months % 12 * 100 + 101


_MULT = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                  0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
                 dtype=np.uint64)


def _bits(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """One uint64 per value, equal for equal values (NULL → 0; strings: their digits, else length and first byte)."""
    col = column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_string_view(col.type):
        r = Raw(col)
        ok = r.digits_between(1, 18)
        other = (r.length.astype(np.uint64) << np.uint64(8)) | r.first.astype(np.uint64) | np.uint64(1 << 62)
        return np.where(ok, r.ints(ok).view(np.uint64), other)
    parts = []
    for chunk in col.chunks:
        if pa.types.is_boolean(chunk.type):
            values = np.asarray(chunk.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.uint64)
        else:
            width = chunk.type.bit_width // 8
            dtype = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[width]
            values = np.frombuffer(chunk.buffers()[1], dtype=dtype, count=chunk.offset + len(chunk))[chunk.offset:]
            values = values.astype(np.uint64)
            if chunk.null_count:
                values[~np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)] = 0
        parts.append(values)
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def key_hash(columns: list[pa.ChunkedArray | pa.Array], rows: int) -> np.ndarray:
    """A uint64 per record from these typed columns: equal records give equal hashes (candidate duplicates)."""
    h = np.zeros(rows, dtype=np.uint64)
    for k, col in enumerate(columns):
        h += _bits(col) * _MULT[k % len(_MULT)] + np.uint64(k + 1)
        h ^= h >> np.uint64(29)
    h *= _MULT[1]
    h ^= h >> np.uint64(32)
    return h
