"""``signaux-faibles ingest DIR --batch AAMM``: parse a batch folder into staging tables, quarantine and log.

Every data record of every file ends in exactly one place: its staging table (accepted), the quarantine
(quarantined, with file, physical line, column, raw value and reason), or counted as filtered (outside the
perimeter). The import log holds, per file, ``read = accepted + quarantined + filtered``. See ``docs/data.md``.

Memory is bounded by the largest file, not the batch: each file's parsed rows are written to a spill Parquet
file (``DATA_DIR/.ingest-spill/``) as soon as it is parsed, and read back by chunks of :data:`CHUNK_ROWS` when
the perimeter is applied and the new version is written (one ``ParquetWriter`` per table).

On Spark (``ingest --engine spark``, or the setting ``engine = "spark"``), the files are parsed by the Spark
executors, one task per file, with the same parsers; each task writes its spill file and sends back its report
(counts and rejections, not the rows). The account map (``Sigfaible_etablissement_utf8.csv``) is parsed first on
the driver, since account-only URSSAF files need it. The driver then applies the perimeter and writes the same
Parquet layout as the default engine. The data directory must be on a file system every executor sees.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from signaux_faibles.config import Settings
from signaux_faibles.ingest._store import Store
from signaux_faibles.ingest.accounts import explain_unmapped, is_account_only, with_siret
from signaux_faibles.ingest.perimeter import (
    N_MONTHS,
    PROCESSING_MONTHS,
    apply_exclusions,
    filter_from_effectif_ent,
)
from signaux_faibles.layout import DataDir
from signaux_faibles.sources import _sql
from signaux_faibles.sources._base import ParseResult, Source
from signaux_faibles.sources.registry import source_for

__all__ = [
    "IMPORT_LOG_SCHEMA", "QUARANTINE_SCHEMA", "BatchRefused", "FileReport", "check_batch", "ingest_batch", "run_ingest",
]

#: Examples of the files a batch folder holds (the error message of an empty or unrecognised folder).
EXPECTED_FILES = ("sigfaible_cotisdues.csv", "sigfaible_debits.csv", "sigfaible_delais.csv", "sigfaible_pcoll.csv",
                  "sigfaible_effectif_siren.csv", "consommation_ap.csv", "demande_ap.csv", "sireneUL.csv",
                  "StockEtablissement_utf8_geo.csv", "bdf*.csv", "Diane*.txt (see docs/data.md)")

BATCH_RE = re.compile(r"^[0-9]{4}(_[0-9]{2})?$")

IMPORT_LOG_SCHEMA = pa.schema(
    [
        ("batch", pa.string()),
        ("file", pa.string()),
        ("source", pa.string()),
        ("table", pa.string()),
        ("read", pa.int64()),
        ("accepted", pa.int64()),
        ("quarantined", pa.int64()),
        ("filtered", pa.int64()),
        ("rows", pa.int64()),
        ("field_rejections", pa.int64()),
        ("status", pa.string()),
        ("message", pa.string()),
        ("path", pa.string()),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
        ("seconds", pa.float64()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("batch", pa.string()),
        ("file", pa.string()),
        ("source", pa.string()),
        ("line", pa.int64()),
        ("column", pa.string()),
        ("raw_value", pa.string()),
        ("reason", pa.string()),
        ("level", pa.string()),
    ]
)

FILTER_TABLE = "stg_filter_import"

#: Rows read back at a time from a file's spill when the perimeter is applied and the staging tables written.
CHUNK_ROWS = 500_000


@dataclass
class FileReport:
    """One line of the import log."""

    file: str
    path: Path
    source: Source | None
    result: ParseResult | None = None
    status: str = "ok"
    message: str = ""
    seconds: float = 0.0
    filtered: int = 0
    kept: int | None = None  # rows staged (inside the perimeter); None until the file's table is written
    spill: Path | None = None  # the parsed rows, written as soon as parsed (``result.rows`` is then emptied)
    parsed: int = 0  # rows parsed (staging rows: a wide source gives several per record)
    extra: dict[str, object] = field(default_factory=dict)

    def rows(self, columns: list[str] | None = None) -> pa.Table:
        """The parsed rows (read back from the spill when they were written there)."""
        assert self.result is not None
        if self.spill is not None:
            return pq.read_table(self.spill, columns=columns)
        return self.result.rows.select(columns) if columns is not None else self.result.rows

    def chunks(self) -> Iterator[pa.Table]:
        """The parsed rows by chunks of at most :data:`CHUNK_ROWS`."""
        assert self.result is not None
        if self.spill is None:
            yield self.result.rows
            return
        for b in pq.ParquetFile(self.spill).iter_batches(batch_size=CHUNK_ROWS):
            yield pa.Table.from_batches([b])

    @property
    def quarantined(self) -> int:
        return self.result.rejected_rows if self.result is not None else 0

    @property
    def read(self) -> int:
        return self.result.read if self.result is not None else 0

    @property
    def accepted(self) -> int:
        return self.read - self.quarantined - self.filtered

    @property
    def field_rejections(self) -> int:
        if self.result is None or self.result.rejections.num_rows == 0:
            return 0
        return int(pc.sum(pc.equal(self.result.rejections.column("level"), "field")).as_py() or 0)


def _read_published(store: Store, table: str) -> pa.Table | None:
    cur = store.current()
    if cur is None or not (cur / "staging" / table).is_dir():
        return None
    files = sorted((cur / "staging" / table).glob("*.parquet"))
    if not files:
        return None
    return ds.dataset([str(f) for f in files], format="parquet").to_table()


def _flags(con: duckdb.DuckDBPyConnection, rows: pa.Table, key: str | None) -> pa.Table:
    """Append ``luhn_ok`` (and ``pseudo_siret`` for SIRET keys): checked and flagged, never rejected."""
    if key not in ("siret", "siren") or key not in rows.column_names:
        return rows
    con.register("_sf_rows", rows)
    try:
        width = 14 if key == "siret" else 9
        extra = f", {_sql.luhn_ok(key, width)} AS luhn_ok"
        if key == "siret":
            extra += ", (regexp_full_match(siret, '[0-9]{14}') AND siret[10:10] IN ('5','6','7','9')) AS pseudo_siret"
        return con.sql(f"SELECT *{extra} FROM _sf_rows").to_arrow_table()
    finally:
        con.unregister("_sf_rows")


def ingest_batch(
    batch_dir: Path,
    batch: str,
    data_dir: Path,
    no_filter: bool = False,
    con: duckdb.DuckDBPyConnection | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    stock_shrink_limit: float = 0.2,
    memory_limit: str | None = None,
    spark: Any | None = None,
) -> list[FileReport]:
    """Ingest one batch folder and publish it atomically; return the per-file reports.

    ``progress(file, done, total)`` is called before each file is parsed and once at the end. A stock file (a
    source whose delivery replaces the previous one) with no record, or with fewer records than the stock in
    force by more than ``stock_shrink_limit``, is refused (status ``error``) and the stock in force stays.
    Raises ``ValueError`` on a batch code that is not a real month or a missing folder, and
    :class:`BatchRefused` (a ``ValueError``) on a folder without any file of a known source or where no file
    could be read: nothing is published. ``memory_limit`` bounds the DuckDB connection (``SET memory_limit``).
    With a ``spark`` session, the files are parsed by its executors (see the module's docstring).
    """
    check_batch(batch)
    if not 0 <= stock_shrink_limit <= 1:
        raise ValueError(f"stock_shrink_limit {stock_shrink_limit}: expected a share between 0 and 1 (0.2 for 20 %)")
    entries = _batch_entries(batch_dir)
    con = con or duckdb.connect()
    if memory_limit:
        con.execute("SET memory_limit = '" + memory_limit.replace("'", "''") + "'")
    store = Store(data_dir)
    reports: list[FileReport] = []
    started = dt.datetime.now(dt.UTC)
    # the account map first: account-only URSSAF files of the batch need it (ingest/accounts.py)
    paths = sorted((p for p in entries if p.is_file() or p.is_symlink()),
                   key=lambda p: (getattr(source_for(p.name), "table", "") != "stg_compte", p.name))  # fmt: skip
    with _spill_dir(data_dir) as spill, tempfile.TemporaryDirectory(prefix="sf-accounts-") as scratch:
        for i, path in enumerate(paths):
            if spark is not None and getattr(source_for(path.name), "table", "") != "stg_compte":
                reports.extend(_parse_on_spark(spark, list(enumerate(paths))[i:], reports, store, spill, progress))
                break
            if progress:
                progress(path.name, i, len(paths))
            rep = FileReport(file=path.name, path=path.absolute(), source=source_for(path.name))
            reports.append(rep)
            _parse_file(rep, path, lambda: _account_map(reports, store), Path(scratch), con)
            _spill(rep, spill / f"{i:05d}.parquet")
        if not any(r.result is not None and r.result.fatal is None for r in reports):
            errors = [r.message for r in reports if r.status == "error"]
            raise BatchRefused(
                f"{batch_dir}: no file of the batch could be read ({len(errors)} in error: " + "; ".join(errors[:5])
                + ("; …" if len(errors) > 5 else "") + "); nothing published", reports)  # fmt: skip
        with store.locked():
            _refuse_shrunk_stocks(reports, store, stock_shrink_limit)
            good = [r for r in reports if r.result is not None and r.status != "error"]
            filter_table, perimeter, note = _perimeter(con, good, store, no_filter)
            new_filter = filter_table if _effectif_ent(good) else None
            _publish(store, batch, reports, new_filter, started, con, perimeter, note)
    if progress:
        progress("published", len(paths), len(paths))
    return reports


@contextlib.contextmanager
def _spill_dir(data_dir: Path) -> Iterator[Path]:
    """A private folder for this run's spill files under ``data_dir/.ingest-spill`` (same disk as the data),
    removed at the end; folders left by killed runs (their process gone) are removed first."""
    root = data_dir / ".ingest-spill"
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        pid = old.name.split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            root.rmdir()  # when no other run is using it


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _spill(rep: FileReport, path: Path) -> None:
    """Write the file's parsed rows to ``path`` and drop them from memory (nothing to do for an empty file)."""
    if rep.result is None:
        return
    rows = rep.result.rows
    rep.parsed = rows.num_rows
    if rows.num_rows == 0:
        return
    pq.write_table(rows, path)
    rep.spill = path
    rep.result.rows = rows.schema.empty_table()  # a slice would keep the buffers alive


def _batch_entries(batch_dir: Path) -> list[Path]:
    """The batch folder's entries (hidden ones aside); refuse a folder with no file of a known source."""
    if not batch_dir.is_dir():
        raise ValueError(f"{batch_dir}: not a folder")
    entries = sorted(p for p in batch_dir.iterdir() if not p.name.startswith("."))
    if not any(p.is_file() and source_for(p.name) is not None for p in entries):
        broken = [p for p in entries if p.is_symlink() and not p.exists()]
        what = ("is empty" if not entries else "holds no file of a known source" + "".join(
            f"; {_broken_link(p)}" for p in broken[:5]))  # fmt: skip
        raise BatchRefused(f"{batch_dir} {what}; nothing published. Expected files such as " + ", ".join(EXPECTED_FILES))
    return entries


def _parse_on_spark(
    spark: Any, items: list[tuple[int, Path]], reports: list[FileReport], store: Store, spill: Path,
    progress: Callable[[str, int, int], None] | None,
) -> list[FileReport]:  # fmt: skip
    """Parse ``items`` (index in the batch, path) on the Spark executors, one task per file; their reports, in
    order. The account map, when an account-only file needs it, is written once for the executors to read."""
    if progress:
        progress(f"{len(items)} file(s) parsed by Spark", items[0][0], items[0][0] + len(items))
    accounts: str | None = None
    sources = [(p, source_for(p.name)) for _, p in items]
    if any(s is not None and p.is_file() and is_account_only(p, s.name) for p, s in sources):
        mapping = _account_map(reports, store)
        if mapping is not None:
            accounts = str(spill / "accounts.parquet")
            pq.write_table(mapping, accounts)
    task = partial(_parse_task, spill=str(spill), accounts=accounts)
    out: list[FileReport] = spark.sparkContext.parallelize(items, len(items)).map(task).collect()
    return out


def _parse_task(item: tuple[int, Path], spill: str, accounts: str | None) -> FileReport:
    """One Spark task: parse one file with its own DuckDB connection, write its spill, return its report."""
    i, path = item
    rep = FileReport(file=path.name, path=path.absolute(), source=source_for(path.name))
    con = duckdb.connect()
    try:
        with tempfile.TemporaryDirectory(prefix="sf-accounts-") as scratch:
            _parse_file(rep, path, lambda: pq.read_table(accounts) if accounts else None, Path(scratch), con)
        _spill(rep, Path(spill) / f"{i:05d}.parquet")
    finally:
        con.close()
    return rep


def _parse_file(
    rep: FileReport, path: Path, account_map: Callable[[], pa.Table | None], scratch: Path,
    con: duckdb.DuckDBPyConnection,
) -> None:  # fmt: skip
    """Parse one file of the batch into ``rep`` (its result, status and message); never raises.

    ``account_map()`` gives the account → SIRET map when the file is account-only (None: there is none)."""
    source = rep.source
    if not path.exists():  # a broken symbolic link: an error of the delivery, not a file to skip
        rep.status, rep.message = "error", _broken_link(path)
        return
    rep.path = path.resolve()
    if source is None:
        rep.status, rep.message = "ignored", "no source for this file name"
        return
    t0 = time.perf_counter()
    parse_path = path
    if is_account_only(path, source.name):
        mapping = account_map()
        if mapping is None:
            rep.status = "error"
            rep.message = (f"{path.name}: no Siret column and no account map (Sigfaible_etablissement_utf8.csv) in "
                           "this batch or an earlier one: its rows cannot be placed")  # fmt: skip
            return
        parse_path, unmapped = with_siret(path, source.name, mapping, scratch)
        rep.extra["account_only"] = unmapped
    try:
        rep.result = source.parse(parse_path, con.cursor())  # a cursor each: no parser can block another
        if parse_path is not path and rep.result is not None:
            rep.result.rejections = explain_unmapped(rep.result.rejections)
    except Exception as exc:  # a bug in one parser must not stop the batch
        rep.result = None
        rep.status = "error"
        rep.message = f"{path.name}: internal error while parsing ({type(exc).__name__}: {exc})"
        rep.extra["traceback"] = traceback.format_exc()
    rep.seconds = time.perf_counter() - t0
    if rep.result is not None and rep.result.fatal:
        rep.status, rep.message = "error", rep.result.fatal
    elif rep.result is not None and rep.result.rejections.num_rows:
        rep.status = "ok"
        rep.message = f"{rep.quarantined} row(s) quarantined, {rep.field_rejections} value(s) dropped"


def _effectif_ent(good: list[FileReport]) -> list[FileReport]:
    """This batch's readable effectif_ent files (the perimeter's source)."""
    return [r for r in good if r.source is not None and r.source.name == "effectif_ent" and r.result is not None]


def _perimeter(
    con: duckdb.DuckDBPyConnection, good: list[FileReport], store: Store, no_filter: bool
) -> tuple[pa.Table | None, set[str] | None, str]:
    """The filter table (``stg_filter_import``), the SIRENs whose rows are kept (None: no filtering) and a note."""
    eff_ent = [r.rows() for r in _effectif_ent(good)]  # read back from their spill once
    filter_table: pa.Table | None = None
    perimeter: set[str] | None = None
    note = ""
    row_filter: pa.Table | None = None
    if eff_ent:
        all_eff = pa.concat_tables(eff_ent)
        filter_table = filter_from_effectif_ent(con.cursor(), all_eff)
        # rows are kept for every company that was in the perimeter at some month of the processing window
        # (5 years), not only at the batch date: no survivor bias in the history the model learns from
        row_filter = filter_from_effectif_ent(con.cursor(), all_eff, n_months=N_MONTHS + PROCESSING_MONTHS)
    elif (stock := _read_stock(store, "stg_effectif_ent", ["siren", "periode", "effectif_ent"])) is not None:
        # no effectif_ent file in this batch, or it was refused: the perimeter of the stock in force, over
        # the processing window as above (stg_filter_import stays as published)
        filter_table = filter_from_effectif_ent(con.cursor(), stock)
        row_filter = filter_from_effectif_ent(con.cursor(), stock, n_months=N_MONTHS + PROCESSING_MONTHS)
    else:
        filter_table = _read_published(store, FILTER_TABLE)
        if filter_table is not None:
            filter_table = filter_table.select(["siren"])
    if not no_filter:
        if filter_table is None:
            note = "no perimeter (no effectif_ent file in this batch or before): rows not filtered"
        else:
            ul = _batch_or_published(good, store, "stg_sirene_ul")
            etab = _batch_or_published(good, store, "stg_sirene")
            per, removed = apply_exclusions(con.cursor(), row_filter or filter_table, ul, etab)
            perimeter = set(per.column("siren").to_pylist())
            note = f"perimeter over the processing window: {len(perimeter)} SIREN" + "".join(f", {v} removed ({k})" for k, v in removed.items())
    return filter_table, perimeter, note


def _stage_table(
    con: duckdb.DuckDBPyConnection, reps: list[FileReport], batch: str, staged: Path, outside: Path,
    perimeter: set[str] | None, note: str,
) -> None:  # fmt: skip
    """Write the rows of ``reps`` (the readable files of one table) chunk by chunk: inside the perimeter, with
    their flags, to ``staged``; outside, kept apart with the same columns but the flags, to ``outside`` (removed
    when there is none). Sets each report's ``kept``, ``filtered`` and message."""
    key = reps[0].source.key if reps[0].source is not None else None
    value_set = pa.array(sorted(perimeter), pa.string()) if perimeter is not None else None
    extra = [pa.field("batch", pa.string()), pa.field("source_file", pa.string())]

    def final(schema: pa.Schema) -> pa.Schema:
        fields = [f.with_name("source_line") if f.name == "_line" else f for f in schema]
        return pa.schema(fields + extra)

    empty = [r.result.rows.schema.empty_table() for r in reps if r.result is not None]
    staged_schema = pa.unify_schemas([final(_flags(con.cursor(), t, key).schema) for t in empty],
                                     promote_options="default")  # fmt: skip
    outside_schema = pa.unify_schemas([final(t.schema) for t in empty], promote_options="default")
    for path in (staged, outside):
        if path.exists():
            path.unlink()  # may be a hard link shared with the published version: never write through it
    out_writer: pq.ParquetWriter | None = None
    with contextlib.ExitStack() as stack:
        writer = stack.enter_context(pq.ParquetWriter(staged, staged_schema))
        for rep in reps:
            rep.kept = 0
            out_lines: list[np.ndarray] = []
            kept_lines: list[np.ndarray] = []
            for rows in rep.chunks():
                if value_set is not None and key is not None and key in rows.column_names and rows.num_rows:
                    inside = pc.fill_null(pc.is_in(pc.utf8_slice_codeunits(rows.column(key), 0, 9),
                                                   value_set=value_set), False)  # fmt: skip
                    out = rows.filter(pc.invert(inside))
                    rows = rows.filter(inside)
                    if out.num_rows:
                        out_lines.append(np.unique(out.column("_line").to_numpy()))
                        if out_writer is None:
                            out_writer = stack.enter_context(pq.ParquetWriter(outside, outside_schema))
                        out_writer.write_table(_conform(_tagged(out, batch, rep.file), outside_schema))
                    if rows.num_rows:
                        kept_lines.append(np.unique(rows.column("_line").to_numpy()))
                flagged = _flags(con.cursor(), rows, key)
                rep.kept += flagged.num_rows
                if flagged.num_rows:
                    writer.write_table(_conform(_tagged(flagged, batch, rep.file), staged_schema))
            if out_lines:
                gone = np.unique(np.concatenate(out_lines))
                if kept_lines:
                    gone = np.setdiff1d(gone, np.concatenate(kept_lines))
                rep.filtered = len(gone)
            if note and key is not None:
                rep.message = "; ".join(m for m in (rep.message, note) if m)


def _tagged(rows: pa.Table, batch: str, file: str) -> pa.Table:
    """The rows with ``batch`` and ``source_file`` appended and ``_line`` named ``source_line``."""
    n = rows.num_rows
    rows = rows.append_column("batch", pa.array([batch] * n, pa.string()))
    rows = rows.append_column("source_file", pa.array([file] * n, pa.string()))
    return rows.rename_columns([("source_line" if c == "_line" else c) for c in rows.column_names])


def _conform(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """The rows with exactly ``schema``'s columns (missing ones null, as a concatenation would give)."""
    cols = [rows.column(f.name).cast(f.type) if f.name in rows.column_names else pa.nulls(rows.num_rows, f.type)
            for f in schema]  # fmt: skip
    return pa.Table.from_arrays(cols, schema=schema)


def _publish(
    store: Store, batch: str, reports: list[FileReport], filter_table: pa.Table | None, started: dt.datetime,
    con: duckdb.DuckDBPyConnection, perimeter: set[str] | None, note: str,
) -> None:  # fmt: skip
    """Write the batch into a new version and publish it (one rename); a failure leaves the published one."""
    new = store.begin()
    try:
        _write_batch(new, batch, reports, filter_table, con, perimeter, note)
        _write_log(new, batch, reports, started)
        pause = os.environ.get("SF_INGEST_PAUSE_BEFORE_SWAP")  # test hook: lets a test kill -9 us here
        if pause:
            time.sleep(float(pause))
        store.commit(new)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise


class BatchRefused(ValueError):
    """The batch is refused whole; nothing is published. ``reports`` holds the per-file reports when the files
    were read (every one in error), for the summary table."""

    def __init__(self, message: str, reports: list[FileReport] | None = None) -> None:
        super().__init__(message)
        self.reports = reports or []


def _broken_link(path: Path) -> str:
    return f"{path.name}: broken symbolic link (its target {os.readlink(path)!r} does not exist)"


def _read_stock(store: Store, table: str, columns: list[str]) -> pa.Table | None:
    """These columns of the stock in force for ``table``: its staged rows and those kept apart (``filtered/``)."""
    cur = store.current()
    if cur is None:
        return None
    files = [str(f) for part in ("staging", "filtered") for f in sorted((cur / part / table).glob("*.parquet"))]
    if not files:
        return None
    parts = [pq.read_table(f, columns=columns) for f in files]
    return pa.concat_tables(parts, promote_options="default")


def _account_map(reports: list[FileReport], store: Store) -> pa.Table | None:
    """The account → SIRET map: this batch's (parsed first), else the published ``stg_compte``."""
    parts = [r.rows() for r in reports if r.source is not None and r.source.table == "stg_compte"
             and r.result is not None and r.status != "error" and r.parsed]  # fmt: skip
    if parts:
        return pa.concat_tables(parts)
    return _read_published(store, "stg_compte")


def check_batch(batch: str) -> None:
    """A batch code is ``AAMM`` (or ``AAMM_NN``) with a real month, 01 to 12; raise ``ValueError`` if not."""
    m = BATCH_RE.match(batch)
    if not m or not 1 <= int(batch[2:4]) <= 12:
        raise ValueError(f"batch {batch!r}: expected AAMM (or AAMM_NN) with a real month, e.g. 2609 for September 2026")
    month = dt.date(2000 + int(batch[:2]), int(batch[2:4]), 1)
    today = dt.datetime.now(ZoneInfo("Europe/Paris")).date()
    if month > today.replace(day=1):
        raise ValueError(f"batch {batch!r}: {month:%Y-%m} is after the current month ({today:%Y-%m})")


def _stock_rows(store: Store, table: str) -> int:
    """Rows of the stock in force for ``table``: staged, and kept apart outside the perimeter."""
    cur = store.current()
    if cur is None:
        return 0
    n = 0
    for part in ("staging", "filtered"):
        for f in (cur / part / table).glob("*.parquet"):
            n += pq.ParquetFile(f).metadata.num_rows
    return n


def _refuse_shrunk_stocks(reports: list[FileReport], store: Store, limit: float) -> None:
    """Refuse the stock files of this batch that are empty or shrink by more than ``limit`` (see ingest_batch).

    Counts are staging rows (a wide source's long rows), before the perimeter: the stock in force counts its
    staged rows and those kept apart outside the perimeter."""
    by_table: dict[str, list[FileReport]] = {}
    for r in reports:
        if r.source is not None and r.source.kind == "stock" and r.result is not None and r.status != "error":
            by_table.setdefault(r.source.table, []).append(r)
    for table, reps in by_table.items():
        new = sum(r.parsed for r in reps if r.result is not None)
        read = sum(r.read for r in reps)
        before = _stock_rows(store, table)
        if new == 0:
            why = (f"holds no record ({read:,} read, {sum(r.quarantined for r in reps):,} quarantined: a header "
                   "alone, or every line quarantined)")  # fmt: skip
        elif before and new < before * (1 - limit):
            why = (f"gives {new:,} rows ({read:,} records read) against {before:,} in the stock in force of {table} "
                   f"(-{1 - new / before:.0%}, more than the limit of -{limit:.0%})")  # fmt: skip
        else:
            continue
        for r in reps:
            r.status = "error"
            r.message = (f"{r.file}: stock file refused: it {why}; the stock in force ({before:,} rows) stays "
                         "(to accept a smaller stock, raise stock_shrink_limit / SF_STOCK_SHRINK_LIMIT)")


def _batch_or_published(good: list[FileReport], store: Store, table: str) -> pa.Table | None:
    parts = [r.rows() for r in good if r.source is not None and r.source.table == table
             and r.result is not None]
    if parts:
        return pa.concat_tables(parts)
    return _read_published(store, table)


def _write_batch(
    new: Path, batch: str, reports: list[FileReport], filter_table: pa.Table | None,
    con: duckdb.DuckDBPyConnection, perimeter: set[str] | None, note: str,
) -> None:  # fmt: skip
    by_table: dict[str, list[FileReport]] = {}
    for rep in reports:
        if rep.source is not None:
            by_table.setdefault(rep.source.table, []).append(rep)
    for table, reps in by_table.items():
        source = reps[0].source
        assert source is not None
        ok = [r for r in reps if r.result is not None and r.status != "error"]
        if not ok and not any(r.result is not None and r.result.rejections.num_rows for r in reps):
            continue  # every file of this table failed: keep what was published
        sdir, qdir = DataDir(new).staging(table), DataDir(new).quarantine(table)
        qdir.mkdir(parents=True, exist_ok=True)
        if ok:  # else (every file refused or unreadable) the table stays as published; its quarantine is written
            fdir = DataDir(new).filtered(table)  # rows outside the perimeter: counted, never discarded
            for folder in (sdir, fdir):
                folder.mkdir(parents=True, exist_ok=True)
                if source.kind == "stock":  # a stock replaces every earlier batch
                    for old in folder.glob("*.parquet"):
                        old.unlink()
            _stage_table(con, ok, batch, sdir / f"{batch}.parquet", fdir / f"{batch}.parquet", perimeter, note)
        qparts = []
        for r in reps:
            if r.result is None or r.result.rejections.num_rows == 0:
                continue
            rj = r.result.rejections
            n = rj.num_rows
            qparts.append(
                pa.table(
                    {
                        "batch": pa.array([batch] * n, pa.string()),
                        "file": pa.array([r.file] * n, pa.string()),
                        "source": pa.array([source.name] * n, pa.string()),
                        "line": rj.column("line"),
                        "column": rj.column("column"),
                        "raw_value": rj.column("raw_value"),
                        "reason": rj.column("reason"),
                        "level": rj.column("level"),
                    },
                    schema=QUARANTINE_SCHEMA,
                )
            )
        qfile = qdir / f"{batch}.parquet"
        if qparts:
            _atomic_parquet(pa.concat_tables(qparts), qfile)
        elif qfile.exists():
            qfile.unlink()
    if filter_table is not None:
        fdir = DataDir(new).staging(FILTER_TABLE)
        fdir.mkdir(parents=True, exist_ok=True)
        for old in fdir.glob("*.parquet"):
            old.unlink()  # stock
        ft = filter_table.select(["siren"])
        ft = ft.append_column("batch", pa.array([batch] * ft.num_rows, pa.string()))
        _atomic_parquet(ft, fdir / f"{batch}.parquet")


def _atomic_parquet(table: pa.Table, path: Path) -> None:
    if path.exists():
        path.unlink()  # may be a hard link shared with the published version: never write through it
    pq.write_table(table, path)


def _write_log(new: Path, batch: str, reports: list[FileReport], started: dt.datetime) -> None:
    rows = []
    for r in reports:
        rows.append(
            {
                "batch": batch,
                "file": r.file,
                "source": r.source.name if r.source is not None else None,
                "table": r.source.table if r.source is not None else None,
                "read": r.read,
                "accepted": r.accepted if r.status != "error" else 0,
                "quarantined": r.quarantined,
                "filtered": r.filtered,
                "rows": r.kept or 0,
                "field_rejections": r.field_rejections,
                "status": r.status,
                "message": r.message,
                "path": str(r.path),
                "ingested_at": started,
                "seconds": round(r.seconds, 3),
            }
        )
    log = pa.Table.from_pylist(rows, schema=IMPORT_LOG_SCHEMA)
    path = DataDir(new).import_log
    if path.exists():
        old = pq.read_table(path).cast(IMPORT_LOG_SCHEMA)
        old = old.filter(pc.not_equal(old.column("batch"), batch))
        log = pa.concat_tables([old, log])
    _atomic_parquet(log, path)


def _summary(reports: list[FileReport], batch: str, console: Console) -> None:
    table = Table(title=f"ingest batch {batch}")
    for col in ("file", "source", "read", "accepted", "quarantined", "filtered", "status", "message"):
        table.add_column(col, justify="right" if col in ("read", "accepted", "quarantined", "filtered") else "left")
    for r in reports:
        style = {"error": "red", "ignored": "dim"}.get(r.status, "")
        table.add_row(
            r.file,
            r.source.name if r.source else "-",
            str(r.read),
            str(r.accepted if r.status != "error" else 0),
            str(r.quarantined),
            str(r.filtered),
            r.status,
            r.message[:160],
            style=style,
        )
    console.print(table)


def run_ingest(
    batch_dir: Path, batch: str, settings: Settings, no_filter: bool, engine: str | None = None,
    spark_master: str | None = None,
) -> int:  # fmt: skip
    """CLI entry point: ingest ``batch_dir`` as ``batch`` under ``settings.data_dir``; print a summary table.

    ``engine`` (default ``settings.engine``): ``spark`` parses the files on Spark (``spark_master``, default
    ``settings.spark_master``), ``duckdb`` in this process.

    Returns the exit code: 0 when every file was read, 1 when a file could not be read at all or was refused (the
    other files are still loaded), 2 when the batch is refused whole (a batch code that is not a real month, a
    folder with no file of a known source, or no file that could be read): nothing is published.
    """
    console = Console() if Console().is_terminal else Console(width=200)
    if spark_master:
        settings = settings.model_copy(update={"spark_master": spark_master})
    spark = None
    try:
        if (engine or settings.engine) == "spark":
            from signaux_faibles.engine import spark_session

            spark = spark_session(settings)  # SparkUnavailable, a ValueError: nothing published
        with Progress(
            TextColumn("[bold]Ingestion {task.fields[batch]}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True,
        ) as bar:
            task = bar.add_task("", total=None, batch=batch)

            def step(name: str, done: int, total: int) -> None:
                bar.update(task, description=name, completed=done, total=total)

            reports = ingest_batch(Path(batch_dir), batch, Path(settings.data_dir), no_filter=no_filter, progress=step,
                                   stock_shrink_limit=settings.stock_shrink_limit,
                                   memory_limit=settings.duckdb_memory_limit, spark=spark)
    except ValueError as exc:  # BatchRefused, a batch code that is not a real month, no Spark: nothing published
        if isinstance(exc, BatchRefused) and exc.reports:
            _summary(exc.reports, batch, console)
        console.print(f"[red]error:[/red] {exc}")
        return 2
    finally:
        if spark is not None:
            spark.stop()
    _summary(reports, batch, console)
    errors = [r for r in reports if r.status == "error"]
    for r in errors:
        console.print(f"[red]error:[/red] {r.message}")
    return 1 if errors else 0
