"""The analytics engine: the only module that knows DuckDB or Spark (for analytics; parsing uses DuckDB directly).

Every later stage (panel, model, lists) takes an Ibis backend from :func:`connect`, reads the published tables
with :func:`read_table` and writes its own with :func:`write_table`; the same Ibis code then runs on either engine.

- ``duckdb`` (default): an in-memory DuckDB database, embedded, nothing to install; its memory is bounded by
  ``settings.duckdb_memory_limit`` (3 GB by default; larger joins and sorts spill to disk) and insertion order is
  not preserved (tables are sets; readers sort).
- ``spark``: a PySpark session on ``settings.spark_master`` (``local[2]`` by default, any Spark master URL), UI
  and console progress off, a temporary ``spark.sql.warehouse.dir``, Arrow transfers on, and Ibis's
  ``treat_nan_as_null`` so that floating NaN coming from pandas/Arrow behave as NULL as on DuckDB.

Layout on disk, both engines: a table is a folder of Parquet files (``<data_dir>/<layer>/<name>/*.parquet``; the
ingest writes one file per batch). :func:`write_table` writes one file, ``part-00000.parquet``: on DuckDB with its own
writer (``COPY … TO``, parallel and streaming, so the result is never held whole in memory; columns cast to their
Ibis types), on Spark through Arrow (``expr.to_pyarrow()`` then :func:`pyarrow.parquet.write_table`); same
Parquet types on both, fine for the sizes the panel and lists produce. For national-scale outputs on a cluster, use Spark's own writer
(``con._session.sql(...).write.parquet(path)``), which gives one file per partition in the same kind of folder.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq

from signaux_faibles.config import Settings

__all__ = ["ENGINES", "connect", "read_table", "stop", "write_table"]

ENGINES = ("duckdb", "spark")
_PART = "part-00000.parquet"


def connect(settings: Settings, engine: str | None = None) -> ibis.BaseBackend:
    """An Ibis backend for ``engine`` (default ``settings.engine``): DuckDB in memory, or a local/remote Spark."""
    name = (engine or settings.engine or "duckdb").lower()
    if name == "duckdb":
        return _duckdb(settings)
    if name == "spark":
        return _spark(settings)
    raise ValueError(f"engine {name!r}: expected one of {', '.join(ENGINES)}")


def _duckdb(settings: Settings) -> ibis.BaseBackend:
    """In-memory DuckDB, bounded: ``memory_limit`` from the settings (spilling to a temporary folder under the
    data directory, removed at exit), and no insertion order to preserve (every table of the pipeline is a set:
    readers sort when they need an order), which lets DuckDB stream and parallelise writes with less memory."""
    con = ibis.duckdb.connect()
    con.raw_sql("SET preserve_insertion_order = false")
    if settings.duckdb_memory_limit:
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        spill = tempfile.mkdtemp(prefix=".duckdb-spill-", dir=settings.data_dir)
        atexit.register(shutil.rmtree, spill, True)
        con.raw_sql(f"SET memory_limit = '{_sql_str(settings.duckdb_memory_limit)}'")
        con.raw_sql(f"SET temp_directory = '{_sql_str(spill)}'")
    if settings.duckdb_threads:
        con.raw_sql(f"SET threads = {int(settings.duckdb_threads)}")
    return con


def _sql_str(value: object) -> str:
    return str(value).replace("'", "''")


def _spark(settings: Settings) -> ibis.BaseBackend:
    from pyspark.sql import SparkSession

    warehouse = tempfile.mkdtemp(prefix="sf-spark-warehouse-")
    atexit.register(shutil.rmtree, warehouse, True)
    session = (
        SparkSession.builder.master(settings.spark_master)
        .appName("signaux-faibles")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    con = ibis.pyspark.connect(session)
    ibis.options.pyspark.treat_nan_as_null = True  # the option exists once the backend is loaded
    return con


def stop(con: ibis.BaseBackend) -> None:
    """Release the engine (stops the Spark session; DuckDB just disconnects)."""
    if con.name == "pyspark":
        session: Any = con._session
        session.stop()
    else:
        con.disconnect()


def table_path(data_dir: Path, layer: str, name: str) -> Path:
    """Folder of a table: ``data_dir/layer/name`` (symbolic links resolved, for Spark)."""
    return (Path(data_dir) / layer / name).resolve()


def read_table(con: ibis.BaseBackend, data_dir: Path, layer: str, name: str) -> ibis.Table:
    """Read the Parquet folder ``data_dir/layer/name/`` (every ``*.parquet`` file in it) on either engine."""
    folder = table_path(data_dir, layer, name)
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"{folder}: no Parquet file (table {layer}/{name} not published?)")
    if con.name == "pyspark":
        return con.read_parquet(str(folder), table_name=f"{layer}_{name}")
    return con.read_parquet([str(f) for f in files], table_name=f"{layer}_{name}")


def write_table(con: ibis.BaseBackend, expr: ibis.Table, path: Path) -> Path:
    """Write ``expr`` as the Parquet folder ``path`` (replaced), one file ``part-00000.parquet``; return it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if con.name == "duckdb":
        _duckdb_copy(con, expr, tmp / _PART)
    else:
        pq.write_table(con.to_pyarrow(expr), tmp / _PART)
    if path.exists():
        shutil.rmtree(path)
    tmp.rename(path)
    return path / _PART


def _duckdb_copy(con: Any, expr: ibis.Table, path: Path) -> None:
    """DuckDB's own Parquet writer (``COPY … TO``: parallel, streaming; the result is never held whole in memory),
    each column cast to its Ibis type first (DuckDB widens e.g. ``SUM(BIGINT)`` to ``HUGEINT``, which Ibis's
    Arrow path casts back and ``COPY`` would not): same Parquet types as the Arrow path."""
    con._run_pre_execute_hooks(expr)  # registers memtables
    query = con.compile(expr)
    mapper = con.compiler.type_mapper
    cols = ", ".join(
        f'CAST("{c}" AS {mapper.from_ibis(t).sql("duckdb")}) AS "{c}"' for c, t in expr.schema().items()
    )
    con.raw_sql(f"COPY (SELECT {cols} FROM ({query})) TO '{path}' (FORMAT parquet)")
