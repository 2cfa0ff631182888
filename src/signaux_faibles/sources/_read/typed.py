"""Raw string columns → typed rows and rejections, in one DuckDB query (:func:`typed_stage`, :func:`finish`)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from signaux_faibles.sources._base import (
    REJECTION_SCHEMA,
    Column,
    ParseResult,
    Record,
    fatal_result,
    rejections_table,
    rows_schema,
)
from signaux_faibles.sources._read.rules import Check
from signaux_faibles.sources._read.text import RawRead
from signaux_faibles.sources._sql import lit, q


def fetch(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """The result of a query as an Arrow table."""
    rel = con.sql(sql)
    if hasattr(rel, "to_arrow_table"):
        return rel.to_arrow_table()
    return rel.arrow()  # duckdb < 1.4


_counter = [0]
REJECTION_ORDER = [("line", "ascending"), ("level", "ascending"), ("column", "ascending"), ("reason", "ascending")]


def typed_stage(
    con: duckdb.DuckDBPyConnection,
    raw: pa.Table,
    columns: tuple[Column, ...],
    values: dict[str, str],
    checks: Sequence[Check],
) -> tuple[pa.Table, pa.Table]:
    """Type and validate raw records in DuckDB.

    ``values`` maps each staging column to its SQL expression over the raw columns. Exact duplicate records
    (same ``_hash``) after the first are rejected as ``duplicate``.
    """
    _counter[0] += 1
    name = f"_sf_raw_{id(raw):x}_{_counter[0]}"
    con.register(name, raw)
    try:
        flags = ", ".join(f"coalesce(({c.condition}), false) AS _k{i}" for i, c in enumerate(checks))
        row_flags = [f"_k{i}" for i, c in enumerate(checks) if c.level == "row"]
        any_row = " OR ".join(row_flags) if row_flags else "false"
        base = (
            f"WITH src AS (SELECT *, min(_line) OVER (PARTITION BY _hash) AS _first FROM {q(name)}), "
            f"chk AS (SELECT *{', ' + flags if flags else ''} FROM src)"
        )
        select = ", ".join(f"CAST(({values[c.name]}) AS {c.type}) AS {q(c.name)}" for c in columns)
        rows = fetch(
            con,
            f"{base} SELECT {select}, _line FROM chk WHERE _first = _line AND NOT ({any_row}) ORDER BY _line",
        )
        parts = [
            "SELECT _line AS line, NULL::VARCHAR AS column, NULL::VARCHAR AS raw_value, "
            "'duplicate of line ' || _first AS reason, 'row' AS level FROM chk WHERE _first <> _line"
        ]
        for i, c in enumerate(checks):
            raw_expr = c.raw_sql()
            cond = f"_k{i}" if c.level == "row" else f"_k{i} AND NOT ({any_row})"
            parts.append(
                f"SELECT _line, {lit(c.column) if c.column is not None else 'NULL'}, CAST(({raw_expr}) AS VARCHAR), {lit(c.reason)}, {lit(c.level)} "
                f"FROM chk WHERE _first = _line AND {cond}"
            )
        rejections = fetch(con, f"{base} SELECT * FROM ({' UNION ALL '.join(parts)}) ORDER BY line, level, \"column\", reason")
    finally:
        con.unregister(name)
    rows = rows.cast(rows_schema(columns))
    rejections = pa.Table.from_arrays(
        [rejections.column(i).cast(REJECTION_SCHEMA.field(i).type) for i in range(5)], schema=REJECTION_SCHEMA
    )
    return rows, rejections


def finish(
    con: duckdb.DuckDBPyConnection,
    columns: tuple[Column, ...],
    raw: RawRead,
    values: dict[str, str],
    checks: Sequence[Check],
) -> ParseResult:
    """Run :func:`typed_stage` on a :class:`RawRead` and assemble the :class:`ParseResult`."""
    if raw.fatal is not None:
        return fatal_result(columns, raw.fatal)
    rows, rejections = typed_stage(con, raw.table, columns, values, checks)
    return ParseResult(rows=rows, rejections=with_early(rejections, raw.rejections), read=raw.read)


def with_early(rejections: pa.Table, early: Sequence[Record]) -> pa.Table:
    """The rejections found while reading (``early``) merged with those of :func:`typed_stage`, in order."""
    if not early:
        return rejections
    return pa.concat_tables([rejections_table(early), rejections]).sort_by(REJECTION_ORDER)
