"""Write a twin: the partners' files of every batch, the injected defects and the ground truth.

Companies are processed in chunks of fixed size, each with its own random stream derived from the seed, so the
output is byte-identical for a seed whatever the machine, and memory stays bounded by a chunk.
"""

from __future__ import annotations

import csv
import gzip
import io
import multiprocessing as mp
import os
import re
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..geo import departements_of
from .formats import ELLISPHERE_HEADER, FILES, Batch, Context, FileSpec, ellisphere_rows
from .signals import observe
from .world import Calendar, Dynamics, World, make_population, simulate_states

DEFAULT_END = "2026-09"
TRUTH_SCHEMA = pa.schema(
    [
        ("siren", pa.string()),
        ("periode", pa.date32()),
        ("p_failure_18m", pa.float64()),
        ("failure_18m", pa.int8()),
        ("p_failure_18m_now", pa.float64()),
    ]
)


@dataclass
class TwinConfig:
    out: Path
    companies: int = 2000
    months: int = 60
    end: str = DEFAULT_END
    region: str = "27"
    seed: int = 0
    defects: float = 0.0
    monthly_batches: int = 0
    chunk_size: int = 2000
    workers: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))  # processes; output is the same
    dynamics: Dynamics = field(default_factory=Dynamics)
    urssaf_format: str = (
        "siret"  # "account": cotisation, débit, délai, CCSF keyed by account only (before 12/2025)
    )


@dataclass
class TwinSummary:
    out: Path
    batches: list[str]
    files: dict[str, int]  # relative path -> data lines
    companies: int
    establishments: int
    defects: int
    truth_rows: int


# ---- defects -----------------------------------------------------------------------------------------------
# Where each defect can be put, per file: field indexes (0-based) and formats.
DEFECT_FIELDS: dict[str, dict[str, tuple[int, str]]] = {
    "cotisation": {"siret": (2, "")},
    "debit": {"siret": (4, ""), "date": (11, "urssaf")},
    "delai": {"siret": (2, ""), "date": (5, "fr"), "name": (8, "")},
    "ccsf": {"siret": (2, ""), "date": (4, "urssaf"), "code": (5, "XXX")},
    "procol": {"siret": (0, ""), "code": (4, "Ouverture_procedure_inconnue")},
    "effectif": {"siret": (1, "")},
    "apdemande": {"siret": (1, '"'), "date": (5, "iso"), "code": (10, '"9"')},
    "apconso": {"siret": (1, '"'), "date": (5, "iso")},
    "sirene_ul": {"siret": (0, ""), "name": (23, "")},
    "paydex": {"siret": (0, ""), "date": (3, "fr")},
}
IMPOSSIBLE = {"urssaf": "1190231", "fr": "31/02/2019", "iso": '"2019-02-30"'}
KINDS = ("malformed_line", "broken_quote", "bad_siret_length", "bad_siret_letters", "unknown_code",
         "impossible_date", "wrong_encoding", "duplicate")  # fmt: skip


class Writer:
    """Appends lines to one delivered file, counting lines and injecting defects."""

    def __init__(
        self, root: Path, batch: Batch, spec: FileSpec, ctx: Context, defects: float, gz: bool
    ) -> None:
        self.spec, self.defect_rate = spec, defects
        name = spec.filename(batch)
        if gz and not name.endswith(".gz"):
            name += ".gz"
        self.rel = f"{batch.name}/{name}"
        self.path = root / self.rel
        self.path.parent.mkdir(parents=True, exist_ok=True)
        raw = self.path.open("wb")
        self.raw = raw
        self.fh: IO[bytes] = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if gz else raw  # type: ignore[assignment]
        )
        self.line = 0  # lines written so far (header included)
        self.data_lines = 0
        self.defects: list[tuple[str, int, str]] = []
        self.fields = DEFECT_FIELDS.get(spec.key, {})
        self.kinds = [k for k in KINDS if self._applicable(k)]
        self.next_kind = 0
        header = spec.header(ctx, batch)
        self.sep = ";" if header.count(";") >= header.count(",") else ","
        if spec.bom:
            self.fh.write("\ufeff".encode(spec.encoding))
        self._emit([header])

    def _applicable(self, kind: str) -> bool:
        if self.defect_rate <= 0 or not self.fields:
            return False
        need = {"bad_siret_length": "siret", "bad_siret_letters": "siret", "unknown_code": "code",
                "impossible_date": "date", "wrong_encoding": "name", "broken_quote": "siret"}.get(kind)  # fmt: skip
        return need is None or need in self.fields

    def _emit(self, lines: list[str], latin1: set[int] | None = None) -> None:
        if not lines:
            return
        enc, nl = self.spec.encoding, self.spec.newline
        if latin1:
            chunks = [(ln.encode("latin-1", errors="replace") if i in latin1 else ln.encode(enc)) + nl.encode(enc)
                      for i, ln in enumerate(lines)]  # fmt: skip
            self.fh.write(b"".join(chunks))
        else:
            self.fh.write((nl.join(lines) + nl).encode(enc))
        self.line += len(lines)

    def write(self, lines: list[str], rng: np.random.Generator) -> None:
        self.data_lines += len(lines)
        if not self.kinds or not lines:
            self._emit(lines)
            return
        hit = np.nonzero(rng.random(len(lines)) < self.defect_rate)[0]
        if not len(hit):
            self._emit(lines)
            return
        out: list[str] = []
        latin1: set[int] = set()
        hit_set = set(hit.tolist())
        for i, ln in enumerate(lines):
            if i not in hit_set:
                out.append(ln)
                continue
            kind = self.kinds[self.next_kind % len(self.kinds)]
            self.next_kind += 1
            start = self.line + len(out) + 1  # physical line number of this record
            new = self._corrupt(kind, ln)
            if kind == "duplicate":
                out.append(ln)
                self.defects.append((self.rel, start + 1, kind))
                out.append(ln)
                continue
            if kind == "wrong_encoding":
                latin1.add(len(out))
            self.defects.append((self.rel, start, kind))
            out.extend(new)
        self._emit(out, latin1)

    def _corrupt(self, kind: str, line: str) -> list[str]:
        # split on delimiters outside quotes (DGEFP amounts carry a quoted decimal comma)
        f = re.split(rf'{self.sep}(?=(?:[^"]*"[^"]*")*[^"]*$)', line)
        if kind == "malformed_line":
            return [self.sep.join(f[: max(1, len(f) // 2)])]
        if kind == "duplicate":
            return [line]
        if kind == "broken_quote":
            k, q = self.fields["siret"]
            v = f[k].strip('"')
            first = self.sep.join([*f[:k], '"' + v[:5]])
            second = self.sep.join([v[5:] + '"', *f[k + 1 :]])
            return [first, second]
        if kind in ("bad_siret_length", "bad_siret_letters"):
            k, q = self.fields["siret"]
            v = f[k].strip('"')
            v = v[:-1] if kind == "bad_siret_length" else v[:3] + "AB" + v[5:]
            f[k] = f"{q}{v}{q}"
            return [self.sep.join(f)]
        if kind == "unknown_code":
            k, val = self.fields["code"]
            f[k] = val
            return [self.sep.join(f)]
        if kind == "impossible_date":
            k, fmt = self.fields["date"]
            f[k] = IMPOSSIBLE[fmt]
            return [self.sep.join(f)]
        if kind == "wrong_encoding":
            k, _ = self.fields["name"]
            f[k] = "Société Générale de Bâtiment"
            return [self.sep.join(f)]
        raise ValueError(kind)

    def close(self) -> None:
        if self.spec.trailer is not None:
            self._emit([self.spec.trailer(self.line - 1)])
        if self.fh is not self.raw:
            self.fh.close()
        self.raw.close()


def _batch_name(p: pd.Period) -> str:
    return f"{p.year % 100:02d}{p.month:02d}"


def make_batches(cal: Calendar, monthly: int) -> list[Batch]:
    n = len(cal.delivered)
    if monthly >= n - 12:
        raise ValueError(
            f"--monthly-batches {monthly} leaves less than 12 months of history in the initial batch"
        )
    first_end = n - 1 - monthly
    out = [Batch(_batch_name(cal.start + first_end), first_end, -(10**6), True)]
    for k in range(1, monthly + 1):
        e = first_end + k
        out.append(Batch(_batch_name(cal.start + e), e, e - 1, False))
    return out


def _write_xlsx(path: Path, header: tuple[str, ...], rows: list[list[object]]) -> None:
    """An xlsx with one sheet, byte-reproducible (fixed document dates and zip timestamps)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Feuil1"
    ws.append(list(header))
    for r in rows:
        ws.append(r)
    fixed = datetime(2020, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # only the text: the element keeps its namespace declarations (inline when openpyxl uses lxml)
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>2020-01-01T00:00:00Z\g<2>", data)  # fmt: skip
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, data)


# What the chunk workers need, set before the pool forks (copy-on-write, nothing pickled but the results).
_STATE: dict[str, Any] = {}
ChunkResult = tuple[list[list[str]], dict[str, list[list[object]]], pd.DataFrame]


def _chunk(k: int) -> ChunkResult:
    """Simulate chunk ``k`` of companies and format its lines for every (batch, file), in writer order."""
    st = _STATE
    size = st["chunk_size"]
    rng = np.random.default_rng(st["seeds"][k])
    comp = st["companies"].iloc[k * size : (k + 1) * size].reset_index(drop=True)
    lo = k * size
    etabs = st["etabs"]
    et = etabs[(etabs.company >= lo) & (etabs.company < lo + len(comp))].reset_index(drop=True)
    et = et.assign(company=et.company - lo)
    hidden = simulate_states(comp, st["world"], rng)
    sig = observe(comp, et, hidden, st["world"], st["oracle"], rng, st["oracle_now"])
    ctx, batches = st["ctx"], st["batches"]
    lines = [spec.lines(sig, ctx, b) for b, spec in st["targets"]]
    ellis_rows = {b.name: ellisphere_rows(sig, b, st["seed"]) for b in batches}
    return lines, ellis_rows, sig.truth


def _chunks(n: int, workers: int) -> Iterator[ChunkResult]:
    """Chunk results in order; with several workers, at most ``2 × workers`` chunks are in flight (bounded memory)."""
    if workers == 1:
        yield from (_chunk(k) for k in range(n))
        return
    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: deque[Future[ChunkResult]] = deque()
        nxt = 0
        while nxt < n or pending:
            while nxt < n and len(pending) < 2 * workers:
                pending.append(pool.submit(_chunk, nxt))
                nxt += 1
            yield pending.popleft().result()


def _writers(
    out: Path, batches: list[Batch], ctx: Context, defects: float
) -> tuple[list[tuple[Batch, Writer]], list[Writer]]:
    """One writer per (batch, file delivered in it), in writing order; and the ones whose gzip gets truncated
    (the first batch's CCSF file, when defects are asked for)."""
    writers: list[tuple[Batch, Writer]] = []
    truncated: list[Writer] = []
    for b in batches:
        for spec in FILES:
            if not spec.delivered(b):
                continue
            truncate = defects > 0 and b.initial and spec.key == "ccsf"
            w = Writer(out, b, spec, ctx, 0.0 if truncate else defects, spec.gzip or truncate)
            writers.append((b, w))
            if truncate:
                truncated.append(w)
    return writers, truncated


def generate(cfg: TwinConfig, progress: Callable[[int, int], None] | None = None) -> TwinSummary:
    """Write the twin described by ``cfg`` under ``cfg.out``; ``progress(done, total)`` is called per chunk."""
    end = pd.Period(cfg.end, "M")
    if cfg.months < 24:
        raise ValueError("--months must be at least 24 (the perimeter looks 36 months back; lags up to 24)")
    cal = Calendar(end - cfg.months + 1, end)
    ss = np.random.SeedSequence(cfg.seed)
    world_ss, pop_ss, chunk_ss, defect_ss = ss.spawn(4)
    world = World(cfg.dynamics, cal, np.random.default_rng(world_ss))
    oracle, oracle_now = world.oracle(), world.oracle(frozen=True)
    companies, etabs = make_population(
        cfg.companies, cal, cfg.region, cfg.dynamics, np.random.default_rng(pop_ss)
    )
    depts = departements_of(cfg.region)
    ctx = Context.make(cal, depts)
    batches = make_batches(cal, cfg.monthly_batches)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    writers, truncated = _writers(out, batches, ctx, cfg.defects)
    ellis: dict[str, list[list[object]]] = {b.name: [] for b in batches}
    truth_path = out / "ground_truth.parquet"
    truth_writer = pq.ParquetWriter(truth_path, TRUTH_SCHEMA)
    n_chunks = max(1, -(-len(companies) // cfg.chunk_size))
    chunk_seeds = chunk_ss.spawn(n_chunks)
    defect_rng = np.random.default_rng(defect_ss)
    truth_rows = 0
    months_dates = np.array([m.to_timestamp().date() for m in cal.months])
    _STATE.update(world=world, oracle=oracle, oracle_now=oracle_now, companies=companies, etabs=etabs, ctx=ctx, batches=batches,
                  targets=[(b, w.spec) for b, w in writers], seeds=chunk_seeds, chunk_size=cfg.chunk_size, seed=cfg.seed)  # fmt: skip
    workers = max(1, min(cfg.workers, n_chunks))
    for k, (lines, ellis_rows, t) in enumerate(_chunks(n_chunks, workers)):
        for (_, w), chunk_lines in zip(writers, lines, strict=True):
            w.write(chunk_lines, defect_rng)
        for b in batches:
            ellis[b.name].extend(ellis_rows[b.name])
        truth_writer.write_table(pa.table({
            "siren": pa.array(t.siren.to_numpy(), pa.string()),
            "periode": pa.array(months_dates[t.m.to_numpy()], pa.date32()),
            "p_failure_18m": pa.array(t.p_failure_18m.to_numpy(), pa.float64()),
            "failure_18m": pa.array(t.failure_18m.to_numpy(), pa.int8()),
            "p_failure_18m_now": pa.array(t.p_failure_18m_now.to_numpy(), pa.float64()),
        }, schema=TRUTH_SCHEMA))  # fmt: skip
        truth_rows += len(t)
        if progress:
            progress(k + 1, n_chunks)
    _STATE.clear()
    truth_writer.close()
    files: dict[str, int] = {}
    defects: list[tuple[str, int, str]] = []
    for _, w in writers:
        w.close()
        files[w.rel] = w.data_lines
        defects.extend(w.defects)
    for w in truncated:
        data = w.path.read_bytes()
        w.path.write_bytes(data[: max(20, len(data) // 2)])
        defects.append((w.rel, 0, "truncated_gzip"))
    for b in batches:
        name = f"{b.name}/Ellisphère-Tête de groupe-{b.name}.xlsx"
        _write_xlsx(out / name, ELLISPHERE_HEADER, ellis[b.name])
        files[name] = len(ellis[b.name])
    with (out / "defects.csv").open("w", encoding="utf-8", newline="") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(["file", "line", "kind"])
        wr.writerows(sorted(defects))
    if cfg.urssaf_format == "account":
        for b in batches:
            _account_format(out / b.name)
    elif cfg.urssaf_format != "siret":
        raise ValueError(f"--urssaf-format {cfg.urssaf_format!r}: expected siret or account")
    return TwinSummary(
        out, [b.name for b in batches], files, len(companies), len(etabs), len(defects), truth_rows
    )


#: The URSSAF files of the account-only format and the columns they did not carry then.
ACCOUNT_ONLY_DROP = {
    "sigfaible_cotisdues.csv.gz": ("Siret",),
    "sigfaible_debits.csv": ("Siret", "Siren"),
    "sigfaible_delais.csv": ("Siret",),
    "sigfaible_ccsf.csv": ("Siret",),
}


def _account_format(folder: Path) -> None:
    """Rewrite a batch's URSSAF files in the format before December 2025: no ``Siret`` (nor the débits' ``Siren``)
    column, the account number only; the account map ``Sigfaible_etablissement_utf8.csv`` places the rows."""
    for name, drop in ACCOUNT_ONLY_DROP.items():
        path = folder / name
        if not path.exists():
            continue
        data = path.read_bytes()
        gz = data[:2] == b"\x1f\x8b"
        text = (gzip.decompress(data) if gz else data).decode("utf-8", errors="surrogateescape")
        lines = text.split("\n")
        header = lines[0].split(";")
        keep = [i for i, h in enumerate(header) if h not in drop]
        out = "\n".join(";".join(f[i] for i in keep if i < len(f)) if ln else ln
                         for ln in lines for f in [ln.split(";")])  # fmt: skip
        raw = out.encode("utf-8", errors="surrogateescape")
        path.write_bytes(gzip.compress(raw, mtime=0) if gz else raw)
