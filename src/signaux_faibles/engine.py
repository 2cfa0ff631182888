"""The analytics engine: the only module that knows DuckDB or Spark (for analytics; parsing uses DuckDB directly).

Every later stage (panel, model, lists) takes an Ibis backend from :func:`connect`, reads the published tables
with :func:`read_table` and writes its own with :func:`write_table`; the same Ibis code then runs on either engine.

- ``duckdb`` (default): an in-memory DuckDB database, embedded, nothing to install; its memory is bounded by
  ``settings.duckdb_memory_limit`` (3.5 GB by default; larger joins and sorts spill to disk) and insertion order is
  not preserved (tables are sets; readers sort).
- ``spark``: a PySpark session on ``settings.spark_master`` (``local[2]`` by default, any Spark master URL), UI
  and console progress off, a temporary ``spark.sql.warehouse.dir``, Arrow transfers on, and Ibis's
  ``treat_nan_as_null`` so that floating NaN coming from pandas/Arrow behave as NULL as on DuckDB.

Layout on disk, both engines: a table is a folder of Parquet files (``<data_dir>/<layer>/<name>/*.parquet``; the
ingest writes one file per batch). :func:`write_table` writes each engine's own way: on DuckDB one file,
``part-00000.parquet``, with DuckDB's writer (``COPY … TO``, parallel and streaming, so the result is never held
whole in memory; columns cast to their Ibis types); on Spark with Spark's writer (one ``part-*.parquet`` per
partition, written by the executors, nothing collected to the driver; timestamps as microseconds). Readers take
every ``*.parquet`` of the folder (Spark's ``_SUCCESS`` and ``.crc`` files are ignored).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq

from signaux_faibles.config import Settings
from signaux_faibles.layout import DataDir

__all__ = [
    "ENGINES",
    "SparkUnavailable",
    "bucket_of",
    "connect",
    "read_bucket",
    "read_table",
    "spark_session",
    "stop",
    "write_buckets",
    "write_parts",
    "write_table",
]

ENGINES = ("duckdb", "spark")
#: Spark master URLs Spark accepts (``spark_master``); anything else is refused before Spark is started.
SPARK_MASTER = re.compile(r"^(local(\[(\d+|\*)(,\d+)?\])?|spark://\S+|yarn|k8s://\S+|mesos://\S+)$")


class SparkUnavailable(ValueError):
    """Spark cannot be used: a master URL it does not accept, or a session that does not start."""


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
    session = spark_session(settings)
    con = ibis.pyspark.connect(session)
    ibis.options.pyspark.treat_nan_as_null = True  # the option exists once the backend is loaded
    return con


def spark_session(settings: Settings) -> Any:
    """The PySpark session on ``settings.spark_master`` (see the module's docstring); the ingest uses it bare.

    Under ``spark-submit`` (its gateway given by ``PYSPARK_GATEWAY_PORT``), the master and driver memory are
    ``spark-submit``'s own (``--master``, ``--driver-memory``), not the settings'."""
    from pyspark.sql import SparkSession

    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # launched by spark-submit: its options decide
    master = settings.spark_master
    if not submitted and not SPARK_MASTER.match(master):
        raise SparkUnavailable(
            f"spark_master {master!r} (setting spark_master, SF_SPARK_MASTER or --spark-master): expected local, "
            "local[N], local[*], spark://host:port, yarn, k8s://… or mesos://…")  # fmt: skip
    # the executors' Python: this interpreter unless told otherwise (right for a local[…] master; on a cluster,
    # PYSPARK_PYTHON names the interpreter that has signaux_faibles installed on every node)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    warehouse = tempfile.mkdtemp(prefix="sf-spark-warehouse-")
    atexit.register(shutil.rmtree, warehouse, True)
    builder = SparkSession.builder
    if not submitted:
        builder = builder.master(master).config("spark.driver.memory", settings.spark_driver_memory)
    try:
        session = (
            builder.appName("signaux-faibles")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.warehouse.dir", warehouse)
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
            .getOrCreate()
        )
    except Exception as exc:  # a JVM that does not start, a master that does not answer
        where = "spark-submit's master" if submitted else f"master {master!r}"
        raise SparkUnavailable(f"Spark did not start on {where}: {str(exc).strip().splitlines()[0]}") from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


def stop(con: ibis.BaseBackend) -> None:
    """Release the engine (stops the Spark session; DuckDB just disconnects)."""
    if con.name == "pyspark":
        session: Any = con._session
        session.stop()
    else:
        con.disconnect()


def table_path(data_dir: Path, layer: str, name: str) -> Path:
    """Folder of a table: ``data_dir/layer/name`` (symbolic links resolved, for Spark)."""
    return DataDir(data_dir).table(layer, name).resolve()


def read_table(con: ibis.BaseBackend, data_dir: Path, layer: str, name: str) -> ibis.Table:
    """Read the Parquet folder ``data_dir/layer/name/`` (every ``*.parquet`` file in it) on either engine."""
    folder = table_path(data_dir, layer, name)
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"{folder}: no Parquet file (table {layer}/{name} not published?)")
    if con.name == "pyspark":
        return con.read_parquet(str(folder), table_name=f"{layer}_{name}")
    return con.read_parquet([str(f) for f in files], table_name=f"{layer}_{name}")


def write_table(con: ibis.BaseBackend, expr: ibis.Table, path: Path) -> int:
    """Write ``expr`` as the Parquet folder ``path`` (replaced once complete); return the number of rows written.

    DuckDB writes one file, ``part-00000.parquet``, with its own streaming writer; Spark writes with its own
    writer too (one ``part-*.parquet`` per partition, written by the executors: nothing is collected to the
    driver)."""
    return write_parts(con, [expr], path)


def write_parts(con: ibis.BaseBackend, exprs: Iterable[ibis.Table], path: Path) -> int:
    """Write each of ``exprs`` (same schema) as parts of the one Parquet folder ``path`` (replaced once all are
    complete), one query at a time; return the number of rows written. On DuckDB, part ``i`` is
    ``part-<i>.parquet``; on Spark, each part appends its own ``part-*.parquet`` files."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for i, expr in enumerate(exprs):
        if con.name == "duckdb":
            _duckdb_copy(con, expr, tmp / f"part-{i:05d}.parquet")
        else:
            con._run_pre_execute_hooks(expr)  # registers memtables
            con._session.sql(_typed_query(con, expr, "spark")).write.mode("append").parquet(str(tmp))
    return _replace(tmp, path, "*.parquet")


def _replace(tmp: Path, path: Path, files: str) -> int:
    """Put the complete folder ``tmp`` in place of ``path``; return the rows of its ``files`` (a glob)."""
    if path.exists():
        shutil.rmtree(path)
    tmp.rename(path)
    return sum(pq.ParquetFile(f).metadata.num_rows for f in path.glob(files))


#: Name of the partition column of :func:`write_buckets` (a folder ``_bucket=<b>`` per bucket).
_BUCKET = "_bucket"


def bucket_of(key: ibis.Value, buckets: int) -> ibis.Value:
    """The bucket (0 .. ``buckets`` − 1) of each value of ``key``: a hash, the engine's own (DuckDB and Spark
    give different buckets, each engine the same for equal values: a bucket holds whole keys)."""
    n = int(buckets)
    return (key.hash() % n + n) % n


def write_buckets(con: ibis.BaseBackend, expr: ibis.Table, path: Path, key: str, buckets: int) -> int:
    """Write ``expr`` as the Parquet folder ``path``, split by :func:`bucket_of` its column ``key`` into
    ``buckets`` sub-folders (``_bucket=<b>``, written by the engine's partitioned writer in one pass; an empty
    bucket gets an empty file with the schema); return the number of rows written. Read a bucket back with
    :func:`read_bucket`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    parted = expr.mutate(**{_BUCKET: bucket_of(expr[key].cast("string"), buckets)})
    if con.name == "duckdb":
        tmp.mkdir(parents=True)
        con._run_pre_execute_hooks(parted)
        con.raw_sql(
            f"COPY ({_typed_query(con, parted, 'duckdb')}) TO '{_sql_str(tmp)}' "
            f"(FORMAT parquet, PARTITION_BY ({_BUCKET}))"
        )
    else:
        tmp.parent.mkdir(parents=True, exist_ok=True)
        con._run_pre_execute_hooks(parted)
        sql = _typed_query(con, parted, "spark")
        con._session.sql(sql).write.mode("overwrite").partitionBy(_BUCKET).parquet(str(tmp))
    files = sorted(tmp.glob(f"{_BUCKET}=*/*.parquet"))
    schema = pq.read_schema(files[0]) if files else expr.schema().to_pyarrow()
    for b in range(int(buckets)):
        folder = tmp / f"{_BUCKET}={b}"
        if not any(folder.glob("*.parquet")):
            folder.mkdir(exist_ok=True)
            pq.write_table(schema.empty_table(), folder / "empty.parquet")
    return _replace(tmp, path, f"{_BUCKET}=*/*.parquet")


def read_bucket(con: ibis.BaseBackend, path: Path, bucket: int) -> ibis.Table:
    """Bucket ``bucket`` of a folder written by :func:`write_buckets` (without the partition column)."""
    folder = Path(path).resolve() / f"{_BUCKET}={int(bucket)}"
    name = f"{Path(path).name}_{_BUCKET}{int(bucket)}"
    if con.name == "pyspark":
        return con.read_parquet(str(folder), table_name=name)
    files = [str(f) for f in sorted(folder.glob("*.parquet"))]
    return con.read_parquet(files, table_name=name, hive_partitioning=False)


def _typed_query(con: Any, expr: ibis.Table, dialect: str) -> str:
    """``expr``'s SQL with each column cast to its Ibis type: the engines sometimes widen or change a type that
    Ibis believes unchanged (DuckDB: ``SUM(BIGINT)`` is ``HUGEINT``; Spark: ``date_trunc`` gives a timestamp), and
    Ibis elides such casts; the files must carry the Ibis schema on both engines."""
    query = con.compile(expr)
    mapper = con.compiler.type_mapper
    quote = "`" if dialect == "spark" else '"'
    cols = ", ".join(
        f"CAST({quote}{c}{quote} AS {mapper.from_ibis(t).sql(dialect)}) AS {quote}{c}{quote}"
        for c, t in expr.schema().items()
    )
    return f"SELECT {cols} FROM ({query}) AS _typed"


def _duckdb_copy(con: Any, expr: ibis.Table, path: Path) -> None:
    """DuckDB's own Parquet writer (``COPY … TO``: parallel, streaming; the result is never held whole in memory),
    columns cast to their Ibis types (:func:`_typed_query`)."""
    con._run_pre_execute_hooks(expr)  # registers memtables
    con.raw_sql(f"COPY ({_typed_query(con, expr, 'duckdb')}) TO '{path}' (FORMAT parquet)")
