"""``signaux-faibles publish --batch AAMM``: load a scored list and the latest data into the platform database.

Everything is written in **one transaction** (after the schema is brought to the latest migration, in its own
transaction):

1. ``companies`` and ``establishments``: upserted from ``clean_sirene_ul`` / ``clean_sirene`` for every SIREN of
   the panel, of the list or of ``clean_sirene_ul`` (SIRENs SIRENE does not know get a row with NULL identity). Rows of earlier
   publications are never deleted (other tables may reference them); ``snapshot_batch`` says which publication
   last carried them. The folded name the search compares (``raison_sociale_folded``, ``identity.fold_name``)
   is computed here, in Python, batch by batch.
2. The series the company page charts are **replaced** by the data directory's current snapshot:
   ``company_months`` (panel), ``diane_statements``, ``bdf_statements``, ``procol_events`` (clean relations),
   and — since issue 23 — the partners' data and the establishment series (``publish_series``):
   ``payment_records`` (Altares paydex and FPI 30/90), ``ccsf_events``, ``group_members`` (Ellisphere),
   ``establishment_months`` (effectif, cotisations, carried-forward URSSAF debt and activité partielle per SIRET
   over the panel's last 36 months) and ``delais``. Each of their clean views is optional (a missing one loads
   nothing). These five tables add to the publication's time: the national benchmark measures it.
3. The list (``lists``, one row per (batch, algo), its id kept when re-published), its ``scores`` and
   ``list_changes`` (the diff) are replaced; earlier lists stay.
4. A ``publications`` row records the run.

A process killed anywhere before the commit leaves the previous state visible and intact: PostgreSQL rolls the
transaction back when the connection drops; SQLite (write-ahead log) never made it visible and ignores it at the
next open. On PostgreSQL an advisory lock serialises publications (SQLite's write lock does it there).

Bulk paths: PostgreSQL ``COPY … FROM STDIN (FORMAT csv)`` fed by Arrow's CSV writer (through a temporary table
for upserts); SQLite ``executemany`` on the raw connection. Inputs are read with DuckDB and streamed by record
batches, so memory stays bounded whatever the size of the panel.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.engine import Connection

from ...contract import ALERT_LEVELS
from ...layout import DataDir
from ..models import (
    DIANE_FIELDS,
    SERIES_FIELDS,
    Base,
    BdfStatement,
    CcsfEvent,
    Company,
    CompanyMonth,
    Delai,
    DianeStatement,
    Establishment,
    EstablishmentMonth,
    GroupMember,
    List,
    ListChange,
    PaymentRecord,
    ProcolEvent,
    Publication,
    Score,
)
from . import publish_series as series_sql
from .db import get_engine, lock, resolve_url, upgrade
from .identity import fold_name

__all__ = ["PUBLISH_TEST_PAUSE", "PublishResult", "publish"]

#: Test hook: when this environment variable names a file, the publication creates it after the first rows of
#: ``company_months`` are inserted (inside the transaction) and then waits, so that a test can kill it there.
PUBLISH_TEST_PAUSE = "SF_PUBLISH_TEST_PAUSE"
BATCH_ROWS = 100_000
#: The clean views a publication reads when they exist (each optional).
CLEAN_VIEWS = (
    "clean_sirene_ul", "clean_sirene", "clean_diane", "clean_bdf", "clean_procol", "clean_paydex", "clean_fpi",
    "clean_ccsf", "clean_ellisphere", "clean_effectif", "clean_cotisation", "clean_debit", "clean_ap", "clean_delai",
)  # fmt: skip

JSON_COLUMNS = ("adjustments", "macro_expl", "micro_expl", "what_if")
SCORE_COLUMNS = (
    "siren", "siret", "periode", "batch", "algo", "id_liste", "probability", "alert", "alert_pre_adjustment",
    "adjustments", "threshold_high", "threshold_moderate", "base_probability", "macro_expl", "micro_expl",
    "what_if", "first_alert", "first_high_alert", "hausse_urssaf", "ap_12m", "etat_proc_collective",
    "dette_urssaf", "rank",
)  # fmt: skip


#: The alert levels as SQL literals (``'Alerte seuil F1', …``).
_LEVELS_SQL = ", ".join("'" + level.replace("'", "''") + "'" for level in ALERT_LEVELS)


@dataclass
class PublishResult:
    """What a publication wrote: rows per table, the list's id and label, the database (without password)."""

    batch: str
    list_id: int
    label: str
    algo: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    database: str = ""


def _glob(folder: Path) -> str | None:
    return str(folder / "*.parquet") if folder.is_dir() and any(folder.glob("*.parquet")) else None


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _finite(col: str, alias: str | None = None) -> str:
    """A DOUBLE column with NaN and infinities as NULL (the databases and the charts want NULL)."""
    return f"CASE WHEN isfinite({col}) THEN {col} END AS {alias or col}"


class _Inputs:
    """The DuckDB views over the data directory and the SQL of each table to publish."""

    def __init__(self, data_dir: Path, batch: str, memory_limit: str = "2GB") -> None:
        self.data_dir = Path(data_dir)
        self.batch = batch
        layout = DataDir(data_dir)
        scores = layout.list(batch) / "scores.parquet"
        if not scores.is_file():
            raise FileNotFoundError(f"{scores} is missing: run `signaux-faibles score --batch {batch}` first")
        panel = _glob(layout.panel)
        if panel is None:
            raise FileNotFoundError(f"{layout.panel} is missing: run the panel first")
        self.con = duckdb.connect()
        self.con.execute("SET threads = 2")
        # the sorts and windows of the series spill to a folder of the data directory beyond the limit (at
        # national size the paydex and establishment months are tens of millions of rows)
        self.spill = tempfile.mkdtemp(prefix=".publish-spill-", dir=self.data_dir)
        self.con.execute(f"SET temp_directory = {_lit(self.spill)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = {_lit(memory_limit)}")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar = false")
        try:
            self._views(layout, panel, scores)
        except BaseException:
            self.close()
            raise

    def _views(self, layout: DataDir, panel: str, scores: Path) -> None:
        self.con.execute(f"CREATE VIEW panel AS SELECT * FROM read_parquet({_lit(panel)})")
        self.con.execute(f"CREATE VIEW scores AS SELECT * FROM read_parquet({_lit(str(scores))})")
        missing = [c for c in SCORE_COLUMNS if c not in self.columns("scores")]
        if missing:
            raise ValueError(f"{scores} lacks the column(s) {missing} of the list contract")
        diff = scores.with_name("diff.parquet")
        self.has_diff = diff.is_file()
        if self.has_diff:
            self.con.execute(f"CREATE VIEW diff AS SELECT * FROM read_parquet({_lit(str(diff))})")
        self.clean: dict[str, bool] = {}
        for name in CLEAN_VIEWS:
            path = _glob(layout.clean(name))
            self.clean[name] = path is not None
            if path is not None:
                self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_lit(path)})")
        # every company of the panel, of the list, and of SIRENE (the perimeter's legal units, so that the search
        # finds a company the panel left out, e.g. one without URSSAF data)
        sirene = " UNION ALL SELECT siren FROM clean_sirene_ul" if self.clean["clean_sirene_ul"] else ""
        self.con.execute(
            "CREATE TABLE universe AS SELECT DISTINCT siren FROM "
            f"(SELECT siren FROM panel UNION ALL SELECT siren FROM scores{sirene}) WHERE siren IS NOT NULL"
        )
        self.con.execute(series_sql.calendar_sql())

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.spill, ignore_errors=True)

    def has(self, view: str) -> bool:
        """Whether the clean view ``view`` exists in the data directory."""
        return self.clean.get(view, False)

    def columns(self, view: str) -> list[str]:
        return [r[0] for r in self.con.execute(f"DESCRIBE {view}").fetchall()]

    def stream(self, sql: str) -> Iterator[pa.RecordBatch]:
        cur = self.con.cursor()  # its own result: other queries may run while this one streams
        try:
            yield from cur.sql(sql).to_arrow_reader(BATCH_ROWS)
        finally:
            cur.close()

    def list_facts(self) -> dict[str, Any]:
        row = self.con.execute(
            "SELECT min(periode), min(id_liste), string_agg(DISTINCT algo, '+' ORDER BY algo), "
            "min(threshold_high), min(threshold_moderate), count(*), count(DISTINCT siren), "
            f"count(*) FILTER (WHERE alert NOT IN ({_LEVELS_SQL}) OR alert_pre_adjustment NOT IN ({_LEVELS_SQL})), "
            "count(DISTINCT batch), min(batch) FROM scores"
        ).fetchall()[0]
        periode, label, algo, high, moderate, n, distinct, bad_alert, n_batches, batch = row
        if n == 0:
            raise ValueError(f"the list of batch {self.batch} is empty")
        if n != distinct:
            raise ValueError(f"the list of batch {self.batch} has {n - distinct} duplicate SIREN(s)")
        if bad_alert:
            raise ValueError(f"{bad_alert} row(s) of the list have an alert outside {ALERT_LEVELS}")
        bad_json = self.con.execute(
            "SELECT count(*) FROM scores WHERE "
            + " OR ".join(f"regexp_matches({c}, '[:,\\[]\\s*-?(NaN|Infinity)')" for c in JSON_COLUMNS)
        ).fetchall()[0][0]
        if bad_json:
            raise ValueError(f"{bad_json} row(s) of the list have NaN or Infinity in their JSON explanations")
        if n_batches != 1 or batch != self.batch:
            raise ValueError(f"scores.parquet of {self.batch} carries batch {batch!r}")
        previous = None
        if self.has_diff:
            previous = self.con.execute("SELECT min(previous_batch) FROM diff").fetchall()[0][0]
        if isinstance(periode, dt.datetime):
            periode = periode.date()
        return {"periode": periode, "label": label, "algo": algo, "threshold_high": high,
                "threshold_moderate": moderate, "previous_batch": previous}  # fmt: skip

    # -- SQL of each table (columns named as the table's) ------------------------------------------------------

    def companies(self) -> str:
        b = _lit(self.batch)
        if not self.clean["clean_sirene_ul"]:
            return f"SELECT siren, {b} AS snapshot_batch FROM universe ORDER BY siren"
        cols = ", ".join(f"ul.{c}" for c in (
            "raison_sociale", "categorie_juridique", "libelle_categorie_juridique", "activite_principale",
            "libelle_activite_principale", "naf_section", "libelle_naf_section", "siret_siege", "departement",
            "libelle_departement", "region", "libelle_region", "creation", "est_actif",
        ))  # fmt: skip
        return (
            f"SELECT u.siren, {cols}, {b} AS snapshot_batch FROM universe u LEFT JOIN "
            "(SELECT * FROM clean_sirene_ul QUALIFY row_number() OVER (PARTITION BY siren) = 1) ul "
            "USING (siren) ORDER BY u.siren"
        )

    def establishments(self) -> str | None:
        if not self.clean["clean_sirene"]:
            return None
        return (
            "SELECT siret, siren, siege, adresse, code_commune, departement, libelle_departement, region, "
            "libelle_region, ape, date_creation, " + _finite("latitude") + ", " + _finite("longitude")
            + f", est_actif, {_lit(self.batch)} AS snapshot_batch FROM clean_sirene "
            "WHERE siret IS NOT NULL AND siren IN (SELECT siren FROM universe) "
            "QUALIFY row_number() OVER (PARTITION BY siret ORDER BY siege DESC NULLS LAST) = 1 ORDER BY siret"
        )  # fmt: skip

    def company_months(self) -> str:
        have = set(self.columns("panel"))
        cols = []
        for c in SERIES_FIELDS:
            col = _t(CompanyMonth).c[c]
            if c not in have:
                cols.append(f"NULL AS {c}")
            elif col.type.python_type is float:
                cols.append(_finite(f"CAST({c} AS DOUBLE)", c))
            elif col.type.python_type is int:
                cols.append(f"CAST({c} AS BIGINT) AS {c}")
            else:
                cols.append(c)
        return (
            f"SELECT siren, periode, {', '.join(cols)} FROM panel WHERE siren IS NOT NULL AND periode IS NOT NULL "
            "QUALIFY row_number() OVER (PARTITION BY siren, periode) = 1 ORDER BY siren, periode"
        )

    def diane(self) -> str | None:
        if not self.clean["clean_diane"]:
            return None
        have = set(self.columns("clean_diane"))
        cols = [_finite(f"CAST({c} AS DOUBLE)", c) if c in have else f"NULL AS {c}" for c in DIANE_FIELDS]
        return (
            "SELECT siren, exercice_diane AS exercice, arrete_bilan_diane AS arrete_bilan, nombre_mois, "
            f"date_publication, {', '.join(cols)} FROM clean_diane WHERE siren IN (SELECT siren FROM universe) "
            "AND exercice_diane IS NOT NULL "
            "QUALIFY row_number() OVER (PARTITION BY siren, exercice_diane ORDER BY arrete_bilan_diane DESC) = 1 "
            "ORDER BY siren, exercice"
        )

    def bdf(self) -> str | None:
        if not self.clean["clean_bdf"]:
            return None
        ratios = ("poids_frng", "taux_marge", "delai_fournisseur", "dette_fiscale", "financier_court_terme",
                  "frais_financier")  # fmt: skip
        return (
            "SELECT siren, arrete_bilan_bdf AS arrete_bilan, annee_bdf AS annee, date_publication, "
            + ", ".join(_finite(c) for c in ratios)
            + " FROM clean_bdf WHERE siren IN (SELECT siren FROM universe) AND arrete_bilan_bdf IS NOT NULL "
            "QUALIFY row_number() OVER (PARTITION BY siren, arrete_bilan_bdf) = 1 ORDER BY siren, arrete_bilan"
        )

    def procol(self) -> str | None:
        if not self.clean["clean_procol"]:
            return None
        return (
            "SELECT siren, date_effet, action_procol, stade_procol, libelle_procol FROM clean_procol "
            "WHERE siren IN (SELECT siren FROM universe) AND date_effet IS NOT NULL AND action_procol IS NOT NULL "
            "AND stade_procol IS NOT NULL "
            "QUALIFY row_number() OVER (PARTITION BY siren, date_effet, action_procol, stade_procol) = 1 "
            "ORDER BY siren, date_effet"
        )

    def scores(self, list_id: int) -> str:
        return (
            f"SELECT {int(list_id)} AS list_id, siren, siret, algo, CAST(rank AS BIGINT) AS rank, probability, "
            "alert, alert_pre_adjustment, coalesce(adjustments, '[]') AS adjustments, "
            + _finite("base_probability")
            + ", macro_expl, micro_expl, what_if, coalesce(first_alert, false) AS first_alert, "
            "coalesce(first_high_alert, false) AS first_high_alert, hausse_urssaf, ap_12m, etat_proc_collective, "
            + _finite("CAST(dette_urssaf AS DOUBLE)", "dette_urssaf")
            + (
                ", coalesce(procedure_en_cours, false) AS procedure_en_cours, etat_procol, "
                "CAST(date_procol AS DATE) AS date_procol"
                if "procedure_en_cours" in self.columns("scores")
                else ""  # a list scored before issue 19: no proceeding flag
            )
            + "".join(
                ", " + _finite(f"CAST({c} AS DOUBLE)", c)
                for c in ("probability_3m", "probability_6m", "probability_12m")
                if c in self.columns("scores")  # a list scored without the hazard model: no term structure
            )
            + " FROM scores ORDER BY siren"
        )

    def changes(self, list_id: int) -> str | None:
        if not self.has_diff:
            return None
        return (
            f"SELECT {int(list_id)} AS list_id, siren, alert_previous, alert, change, previous_batch FROM diff "
            "WHERE siren IS NOT NULL QUALIFY row_number() OVER (PARTITION BY siren) = 1 ORDER BY siren"
        )


# -- bulk writes ---------------------------------------------------------------------------------------------


def _copy_batches(
    conn: Connection, target: str, cols: Sequence[str], batches: Iterable[pa.RecordBatch]
) -> int:
    """PostgreSQL: ``COPY target (cols) FROM STDIN`` in CSV (strings quoted, NULL unquoted-empty)."""
    raw: Any = conn.connection.driver_connection
    n = 0
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    with raw.cursor() as cur, cur.copy(f"COPY {target} ({', '.join(cols)}) FROM STDIN (FORMAT csv)") as cp:
        for b in batches:
            if b.num_rows == 0:
                continue
            sink = pa.BufferOutputStream()
            pacsv.write_csv(b.select(list(cols)), sink, write_options=options)
            cp.write(memoryview(sink.getvalue()))
            n += b.num_rows
    return n


def _sqlite_rows(b: pa.RecordBatch, cols: Sequence[str]) -> Iterable[tuple[Any, ...]]:
    arrays = []
    for c in cols:
        a = b.column(c)
        if pa.types.is_date(a.type) or pa.types.is_timestamp(a.type):
            a = pc.cast(a, pa.string())  # SQLAlchemy's SQLite Date storage: 'YYYY-MM-DD'
        arrays.append(a.to_pylist())
    return zip(*arrays, strict=True)


def _write(
    conn: Connection,
    table: Table,
    batches: Iterable[pa.RecordBatch],
    *,
    upsert_on: Sequence[str] | None = None,
    after_first: Callable[[], None] | None = None,
) -> int:
    """Insert (or upsert on the key ``upsert_on``) record batches whose columns are named as the table's."""
    it = iter(batches)
    first = next(it, None)
    if first is None:
        return 0
    cols = list(first.schema.names)

    def chained() -> Iterator[pa.RecordBatch]:
        yield first
        if after_first is not None:
            after_first()
        yield from it

    name = table.name
    update_cols = [c for c in cols if upsert_on is None or c not in upsert_on]
    if conn.dialect.name == "postgresql":
        if upsert_on is None:
            return _copy_batches(conn, name, cols, chained())
        stage = f"_stage_{name}"
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {stage} (LIKE {name} INCLUDING DEFAULTS) ON COMMIT DROP")
        n = _copy_batches(conn, stage, cols, chained())
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in update_cols)
        conn.exec_driver_sql(
            f"INSERT INTO {name} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM {stage} "
            f"ON CONFLICT ({', '.join(upsert_on)}) DO UPDATE SET {sets}"
        )
        conn.exec_driver_sql(f"DROP TABLE {stage}")
        return n
    sql = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
    if upsert_on is not None:
        sets = ", ".join(f"{c} = excluded.{c}" for c in update_cols)
        sql += f" ON CONFLICT ({', '.join(upsert_on)}) DO UPDATE SET {sets}"
    raw: Any = conn.connection.driver_connection
    cur = raw.cursor()
    n = 0
    try:
        for b in chained():
            cur.executemany(sql, _sqlite_rows(b, cols))
            n += b.num_rows
    finally:
        cur.close()
    return n


def _with_folded_names(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The companies' record batches with ``raison_sociale_folded`` (``fold_name`` of ``raison_sociale``)."""
    for b in batches:
        if "raison_sociale" not in b.schema.names:
            yield b
            continue
        folded = pa.array([fold_name(n) for n in b.column("raison_sociale").to_pylist()], type=pa.string())
        yield pa.RecordBatch.from_arrays(
            [*b.columns, folded], names=[*b.schema.names, "raison_sociale_folded"]
        )


def _t(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _test_pause() -> None:
    marker = os.environ.get(PUBLISH_TEST_PAUSE)
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(3600)


# -- the publication ----------------------------------------------------------------------------------------


def _write_series(conn: Connection, inputs: _Inputs) -> dict[str, int]:
    """Replace every series table by the data directory's snapshot; rows written per table (0: no source)."""
    has = inputs.has
    queries: list[tuple[type[Base], str | None]] = [
        (DianeStatement, inputs.diane()),
        (BdfStatement, inputs.bdf()),
        (ProcolEvent, inputs.procol()),
        (PaymentRecord, series_sql.payment_records(has)),
        (CcsfEvent, series_sql.ccsf(has)),
        (GroupMember, series_sql.group_members(has)),
        (EstablishmentMonth, series_sql.establishment_months(has)),
        (Delai, series_sql.delais(has)),
    ]
    conn.execute(delete(CompanyMonth))
    for model, _ in queries:
        conn.execute(delete(model))
    rows = {
        "company_months": _write(
            conn, _t(CompanyMonth), inputs.stream(inputs.company_months()), after_first=_test_pause
        )
    }
    for model, q in queries:
        rows[model.__tablename__] = 0 if q is None else _write(conn, _t(model), inputs.stream(q))
    return rows


def publish(
    data_dir: Path,
    batch: str,
    database_url: str | None = None,
    *,
    log: Callable[[str], None] = lambda s: None,
    memory_limit: str = "2GB",
) -> PublishResult:
    """Publish the list of ``batch`` and the current data snapshot of ``data_dir`` to the platform database.

    ``database_url`` None: ``sqlite:///DATA_DIR/platform.db``. The schema is upgraded first (Alembic).
    ``memory_limit``: what the DuckDB reading the data directory may use before spilling (the commands pass the
    setting ``duckdb_memory_limit``; empty: DuckDB's default).
    """
    t0 = time.perf_counter()
    inputs = _Inputs(data_dir, batch, memory_limit)
    try:
        facts = inputs.list_facts()  # the list's contract, checked before anything is written
        engine = get_engine(resolve_url(database_url, data_dir))
    except BaseException:
        inputs.close()
        raise
    try:
        upgrade(engine)
        now = dt.datetime.now(dt.UTC)
        rows: dict[str, int] = {}
        with engine.begin() as conn:
            lock(conn)
            log("companies and establishments")
            rows["companies"] = _write(
                conn, _t(Company), _with_folded_names(inputs.stream(inputs.companies())), upsert_on=["siren"]
            )
            sql = inputs.establishments()
            rows["establishments"] = (
                0 if sql is None else
                _write(conn, _t(Establishment), inputs.stream(sql), upsert_on=["siret"])
            )  # fmt: skip
            log("series (replaced by the latest snapshot)")
            rows.update(_write_series(conn, inputs))
            log(f"list {facts['label']} ({facts['algo']})")
            values = {"label": facts["label"], "periode": facts["periode"], "published_at": now,
                      "threshold_high": facts["threshold_high"], "threshold_moderate": facts["threshold_moderate"],
                      "previous_batch": facts["previous_batch"]}  # fmt: skip
            list_id = conn.execute(
                select(List.id).where(List.batch == batch, List.algo == facts["algo"])
            ).scalar_one_or_none()
            if list_id is None:
                list_id = conn.execute(
                    insert(List).values(batch=batch, algo=facts["algo"], **values).returning(List.id)
                ).scalar_one()
            else:
                conn.execute(update(List).where(List.id == list_id).values(**values))
                conn.execute(delete(Score).where(Score.list_id == list_id))
                conn.execute(delete(ListChange).where(ListChange.list_id == list_id))
            rows["scores"] = _write(conn, _t(Score), inputs.stream(inputs.scores(list_id)))
            q = inputs.changes(list_id)
            rows["list_changes"] = 0 if q is None else _write(conn, _t(ListChange), inputs.stream(q))
            seconds = time.perf_counter() - t0
            conn.execute(insert(Publication).values(
                batch=batch, published_at=now, companies=rows["companies"], establishments=rows["establishments"],
                company_months=rows["company_months"], scores=rows["scores"], seconds=seconds,
            ))  # fmt: skip
        # fresh planner statistics for the replaced tables (a list of 100 000 rows estimated at 125 otherwise)
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        log("planner statistics refreshed (ANALYZE)")
        return PublishResult(batch=batch, list_id=int(list_id), label=str(facts["label"]), algo=str(facts["algo"]),
                             rows=rows, seconds=time.perf_counter() - t0,
                             database=engine.url.render_as_string(hide_password=True))  # fmt: skip
    finally:
        engine.dispose()
        inputs.close()
