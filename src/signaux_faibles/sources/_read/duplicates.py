"""Exact duplicate records within a file, found by hash then compared on the raw line (step 5)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa


def find_duplicates(
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
    ordered = np.sort(top_bits(hashes)) if among is None else among
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeated):
        return {}
    values = np.unique(repeated)
    seen_bits = np.zeros(1 << 24, dtype=bool)  # a coarse filter before the exact look-up
    seen_bits[values >> np.uint32(8)] = True
    found = []
    step = 1 << 18  # by slices: small temporaries, reused
    for start in range(0, len(hashes), step):
        top = top_bits(hashes[start:start + step])
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


def top_bits(hashes: np.ndarray) -> np.ndarray:
    """The upper 32 bits of 64-bit hashes (sorted faster than the whole hashes)."""
    return (hashes >> np.uint64(32)).astype(np.uint32)


def numbers(column: pa.ChunkedArray, dtype: type[np.generic]) -> np.ndarray:
    """A fixed-width column without NULLs as one numpy array (zero-copy when it has a single chunk)."""
    parts = [np.frombuffer(c.buffers()[1], dtype=dtype, count=c.offset + len(c))[c.offset:]
             for c in column.chunks if len(c)]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype)
