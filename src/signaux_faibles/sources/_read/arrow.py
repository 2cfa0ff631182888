"""The Arrow variant of the fast path: Arrow's CSV reader by parts, typed by a source's vector function."""

from __future__ import annotations

import codecs
import mmap
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from signaux_faibles.sources._base import ARROW_TYPES
from signaux_faibles.sources._read import vector as vec
from signaux_faibles.sources._read.duplicates import top_bits
from signaux_faibles.sources._read.prescan import Fallback, Prescan, fetch_lines, line_numbers, prescan
from signaux_faibles.sources._read.rules import Job
from signaux_faibles.sources._read.sniff import field_names
from signaux_faibles.sources._read.vector import VectorResult

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


def arrow_fast(
    job: Job,
    keys: list[str],
) -> tuple[tuple[pa.Table, Callable[[np.ndarray], list[str | None]], np.ndarray] | None, Prescan | None]:
    """Arrow's streaming CSV reader splits the fields (strict: any line with the wrong number of fields or invalid
    UTF-8 makes it give up), by parts of a plain file in parallel; the source's vector function types each record
    batch as it is read and says which records it is sure of; the duplicate search hashes the typed values of
    the deduplication fields (:func:`vec.key_hash`), sorted by part.

    A plain LF file needs no pre-scan: each part is first searched for a carriage return (→ :class:`Fallback`),
    a double quote or a NUL byte (→ not read with Arrow), its line feeds are counted, and the full pre-scan only
    runs when the record count says some lines are blank. Other files have the full pre-scan run alongside.

    Returns ((rows with ``_h`` and ``_flag``, raw lines of records by index, all hashes sorted) or None when the
    Arrow reader cannot be used, the pre-scan if it was made)."""
    info, columns = job.info, job.columns
    quick = not info.gzip and info.newline == "\n"
    workers = max(1, min(os.cpu_count() or 1, 8))
    with ThreadPoolExecutor(max_workers=workers + (0 if quick else 1)) as pool:
        scan = None if quick else pool.submit(prescan, info)
        got = _arrow_read(job, keys, pool, workers, quick)
        pre = scan.result() if scan is not None else None
    if got == "cr":
        raise Fallback("carriage return in a LF file")
    if got is None or isinstance(got, str):
        return None, pre
    parts, physical = got
    rows = sum(len(t[1]) for p in parts for t in p.typed)
    if pre is None:
        pre = Prescan(records=physical - 1, blanks=(), quotes=False, nul=False)  # if no line is blank
        if rows != pre.records:  # blank lines (skipped by the reader): find them
            pre = prescan(info)
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
                    "_flag": vec.array(~ok, pa.bool_())})
    blanks = pre.blanks

    def raw_of(idx: np.ndarray) -> list[str | None]:
        lines = line_numbers(len(ok), blanks)[idx]
        got = fetch_lines(info, {int(ln) for ln in lines})
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
    job: Job,
    keys: list[str],
    pool: ThreadPoolExecutor,
    workers: int,
    quick: bool,
) -> tuple[list[_Part], int] | str | None:
    """The required and hashed fields read as strings by record batches, each typed as it comes; a plain file
    by parts (cut after line feeds) in ``pool``. Returns the parts and the physical line count (plain files; 0
    for gzip), or None if the reader gives up on a line (wrong field count, invalid UTF-8…: the DuckDB reader
    then takes over). ``quick``: a part with a carriage return gives "cr", with a double quote or a NUL byte
    "quote"; a plain file that is not UTF-8 gives "utf8" (the file is then not read with Arrow)."""
    info, delimiter, hashed, required, vector, categorical = (job.info, job.delimiter, job.hashed, job.required,
                                                             job.vector, job.categorical)
    assert vector is not None  # the Arrow reader is used only with a source's vector function
    names = [f"c{i}" for i in range(len(info.header))]
    index = field_names(info.header)
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
                    h = vec.key_hash([res.columns[k] for k in keys], batch.num_rows)
                    typed.append((res, h))
                    tops.append(top_bits(h))
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
