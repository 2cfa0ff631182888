"""The per-line path: each physical line split and typed in DuckDB by the exact rules (step 3)."""

from __future__ import annotations

import gzip
import itertools
import os
import tempfile
import zlib
from pathlib import Path

import duckdb
import pyarrow as pa

from signaux_faibles.sources._base import (
    ParseResult,
    Record,
    fatal_result,
    nul_reason,
    rejections_table,
    rows_schema,
    stray_quote_field,
    stray_quote_reason,
)
from signaux_faibles.sources._read.rules import Check, Job, Projection
from signaux_faibles.sources._read.sniff import (
    ENC_MARK,
    LINE_DELIM,
    MAX_LINE,
    FileInfo,
    field_names,
    read_error,
)
from signaux_faibles.sources._sql import ident, lit

_counter = itertools.count()


def load_lines(con: duckdb.DuckDBPyConnection, table: str, info: FileInfo, path: Path) -> None:
    nl = "\\r\\n" if info.newline == "\r\n" else "\\n"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT line FROM read_csv({lit(str(path))}, columns={{'line': 'VARCHAR'}}, header=false,
            delim={lit(LINE_DELIM)}, quote='', escape='', comment='', encoding='utf-8',
            auto_detect=false, strict_mode=false, new_line='{nl}', max_line_size={MAX_LINE},
            compression='{"gzip" if info.gzip and path == info.path else "none"}')"""
    )


def transcode(info: FileInfo, out: Path) -> tuple[int, int]:
    """Copy the file as UTF-8, one physical line per line, undecodable lines replaced by the marker.

    Returns (number of non-ASCII lines, number of undecodable lines).
    """
    opener = gzip.open if info.gzip else open
    non_ascii = bad = 0
    with opener(info.path, "rb") as src, out.open("wb") as dst:
        for raw in src:
            body = raw.rstrip(b"\n")
            if body.isascii():
                dst.write(body + b"\n")
                continue
            non_ascii += 1
            try:
                body.decode("utf-8")
                dst.write(body + b"\n")
            except UnicodeDecodeError:
                bad += 1
                dst.write(ENC_MARK.encode() + body.decode("latin-1").encode("utf-8").hex().encode() + b"\n")
    return non_ascii, bad




def check_sql(checks: list[Check]) -> str:
    return " OR ".join(f"coalesce(({c.condition}), false)" for c in checks) or "false"


def pre_ctes(proj: Projection, base: str, prefix: str) -> tuple[str, str]:
    """CTEs computing ``proj.pre`` over ``base``: (text to put after ``WITH … AS (…)``, name of the last one)."""
    stages = proj.pre if isinstance(proj.pre, list) else [proj.pre]
    text, last = "", base
    for i, stage in enumerate(s for s in stages if s):
        name = f"{prefix}{i}"
        text += f", {name} AS (SELECT *" + "".join(f", {e} AS {ident(n)}" for n, e in stage.items()) + f" FROM {last})"
        last = name
    return text, last


def slow_subset(
    con: duckdb.DuckDBPyConnection,
    raw: dict[int, str],
    job: Job,
) -> tuple[pa.Table, list[Record], list[tuple[int, int]]]:
    """The per-line rules on a few physical lines: (kept rows, rejections, (line, hash) of kept records)."""
    columns = job.columns
    uid = next(_counter)
    lines_t, parsed_t = f"_sf_lines_{os.getpid()}_{uid}", f"_sf_parsed_{os.getpid()}_{uid}"
    items = sorted(raw.items())
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {lines_t} AS SELECT unnest(?::BIGINT[]) AS _line, unnest(?::VARCHAR[]) AS line",
        [[k for k, _ in items], [v for _, v in items]],
    )
    try:
        proj = typed_lines(con, lines_t, parsed_t, job, True)
        rejections = line_rejections(con, parsed_t, job.info.header, job.delimiter, proj.checks)
        keys = [(int(a), int(b)) for a, b in con.execute(
            f"SELECT _line, _h FROM {parsed_t} WHERE NOT _row_bad ORDER BY _line").fetchall()]
        select = proj.select(columns)
        rows = con.sql(f"SELECT {select}, _line FROM {parsed_t} WHERE NOT _row_bad ORDER BY _line").to_arrow_table()
        return rows, rejections, keys
    finally:
        con.execute(f"DROP TABLE IF EXISTS {lines_t}")
        con.execute(f"DROP TABLE IF EXISTS {parsed_t}")


def parse_slow(
    con: duckdb.DuckDBPyConnection,
    job: Job,
) -> ParseResult:
    """Every physical line through the per-line rules (package docstring, 3)."""
    info, columns = job.info, job.columns
    path = info.path
    uid = next(_counter)
    raw_t, parsed_t = f"_sf_raw_{os.getpid()}_{uid}", f"_sf_parsed_{os.getpid()}_{uid}"
    lines_v = f"_sf_lines_{os.getpid()}_{uid}"
    tmpdir: tempfile.TemporaryDirectory[str] | None = None
    enc_rejections: list[Record] = []
    try:
        try:
            load_lines(con, raw_t, info, path)
        except duckdb.Error as exc:
            if "unicode" not in str(exc).lower() and "utf" not in str(exc).lower():
                return fatal_result(columns, read_error(info, exc))
            tmpdir = tempfile.TemporaryDirectory(prefix="sf-transcode-")
            clean = Path(tmpdir.name) / "clean.csv"
            try:
                non_ascii, bad = transcode(info, clean)
            except (OSError, EOFError, zlib.error) as exc2:
                return fatal_result(columns, read_error(info, exc2))
            if bad >= 20 and bad * 2 > non_ascii:
                return fatal_result(
                    columns,
                    f"{path.name}: not UTF-8 ({bad} of {non_ascii} non-ASCII lines undecodable; "
                    "looks like Latin-1/Windows-1252), expected UTF-8 text",
                )
            try:
                load_lines(con, raw_t, FileInfo(clean, False, "\n", info.header), clean)
            except duckdb.Error as exc2:
                return fatal_result(columns, read_error(info, exc2))
            for line, hexed in con.execute(
                f"SELECT rowid + 1, substr(line, {len(ENC_MARK) + 1}) FROM {raw_t} "
                f"WHERE starts_with(line, {lit(ENC_MARK)})"
            ).fetchall():
                enc_rejections.append(
                    (int(line), None, bytes.fromhex(hexed).decode("utf-8"), "encoding: not valid UTF-8", "row")
                )
            con.execute(f"UPDATE {raw_t} SET line = NULL WHERE starts_with(line, {lit(ENC_MARK)})")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {lines_v} AS SELECT rowid + 1 AS _line, line FROM {raw_t} "
                    "WHERE rowid >= 1")  # header is physical line 1
        return parse_lines(con, lines_v, parsed_t, job, enc_rejections)
    finally:
        con.execute(f"DROP VIEW IF EXISTS {lines_v}")
        con.execute(f"DROP TABLE IF EXISTS {raw_t}")
        con.execute(f"DROP TABLE IF EXISTS {parsed_t}")
        if tmpdir is not None:
            tmpdir.cleanup()


def typed_lines(
    con: duckdb.DuckDBPyConnection,
    lines_t: str,
    parsed_t: str,
    job: Job,
    exact_field_count: bool,
) -> Projection:
    """Split the physical lines of ``lines_t`` (``_line``, ``line``) and type them into ``parsed_t``."""
    header, project, delimiter, hashed = job.info.header, job.project, job.delimiter, job.hashed
    n = len(header)
    fields: dict[str, str] = {}
    raw_select = []
    for key, i in field_names(header).items():
        alias = f"r{i}"
        fields[key] = alias
        raw_select.append(
            f"CASE WHEN NOT _q THEN f[{i + 1}] WHEN starts_with(f[{i + 1}], '\"') AND ends_with(f[{i + 1}], '\"') "
            f"AND length(f[{i + 1}]) >= 2 THEN replace(f[{i + 1}][2:-2], '\"\"', '\"') "
            f"ELSE f[{i + 1}] END AS {alias}"
        )
    proj = project(fields, header)
    checks = proj.checks
    count_ok = f"len(f) = {n}" if exact_field_count else f"len(f) >= {n}"
    quote_bad = (  # CASE, not AND: DuckDB evaluates both sides of AND, CASE only the selected rows
        "CASE WHEN _q THEN list_bool_or(list_transform(f, lambda x: contains(x, '\"') "
        "AND NOT regexp_full_match(x, '\"([^\"]|\"\")*\"'))) ELSE false END"
    )
    check_cols = ", ".join(
        f"CASE WHEN ({c.condition}) THEN coalesce(({c.raw_sql()})::VARCHAR, '') END AS _k{j}" for j, c in enumerate(checks)
    )
    row_checks = [j for j, c in enumerate(checks) if c.level == "row"]
    field_checks = [j for j, c in enumerate(checks) if c.level == "field"]
    row_bad = " OR ".join(f"_k{j} IS NOT NULL" for j in row_checks) or "false"
    field_bad = " OR ".join(f"_k{j} IS NOT NULL" for j in field_checks) or "false"
    value_cols = ", ".join(f"{expr} AS {ident(name)}" for name, expr in proj.exprs.items())
    d = lit(delimiter)
    hash_args = ", ".join(f"f[{i + 1}]" for i in hashed)  # same hash as the fast path's raw fields
    pre_text, pre_last = pre_ctes(proj, "p", "p")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {parsed_t} AS
        WITH s AS (
            SELECT _line, line, string_split(line, {d}) AS f, contains(line, '"') AS _q,
                   contains(line, chr(0)) AS _z
            FROM {lines_t} WHERE line IS NOT NULL AND line <> ''
        ), r AS (
            SELECT _line, f, _q, _z, ({count_ok}) AS _count_ok, ({quote_bad}) AS _quote_bad,
                   hash({hash_args}) AS _h, {", ".join(raw_select)} FROM s
        ), p AS (
            SELECT * FROM r WHERE _count_ok AND NOT _quote_bad AND NOT _z
        ){pre_text}, c AS (
            SELECT *, {check_cols + "," if check_cols else ""} {value_cols} FROM {pre_last}
        )
        SELECT _line, _h, false AS _count_bad, false AS _quote_bad_, false AS _nul_bad, ({row_bad}) AS _row_bad,
               ({field_bad}) AS _field_bad, * EXCLUDE (_line, _h, f, _q, _z, _count_ok, _quote_bad)
        FROM c
        UNION ALL BY NAME
        SELECT _line, _h, NOT _z AND NOT _count_ok AS _count_bad, NOT _z AND _count_ok AND _quote_bad AS _quote_bad_,
               _z AS _nul_bad, true AS _row_bad, false AS _field_bad,
               replace(array_to_string(f, {d}), chr(0), '\\0') AS _rawline
        FROM r WHERE NOT _count_ok OR _quote_bad OR _z
        """
    )
    return proj


def line_rejections(
    con: duckdb.DuckDBPyConnection, parsed_t: str, header: tuple[str, ...], delimiter: str, checks: list[Check]
) -> list[Record]:
    """Malformed lines and check failures recorded in ``parsed_t`` (a malformed line's reason names its field)."""
    n = len(header)
    rejections: list[Record] = []
    for line, count_bad, nul_bad, raw in con.execute(
        f"SELECT _line, _count_bad, _nul_bad, _rawline FROM {parsed_t} "
        "WHERE _count_bad OR _quote_bad_ OR _nul_bad ORDER BY _line"
    ).fetchall():
        column: str | None = None
        if count_bad:
            reason = f"malformed line: wrong number of fields (expected {n})"
        elif nul_bad:
            column, reason = nul_reason(raw.replace("\\0", "\x00"), delimiter, header)
        else:
            column, reason = stray_quote_reason(stray_quote_field(raw, delimiter), header)
        rejections.append((int(line), column, raw, reason, "row"))
    if checks:
        kcols = ", ".join(f"_k{j}" for j in range(len(checks)))
        for rec in con.execute(
            f"SELECT _line, {kcols} FROM {parsed_t} WHERE NOT _count_bad AND NOT _quote_bad_ AND NOT _nul_bad "
            f"AND (_row_bad OR _field_bad) ORDER BY _line"
        ).fetchall():
            for j, c in enumerate(checks):
                if rec[j + 1] is not None:
                    rejections.append((int(rec[0]), c.column, rec[j + 1], c.reason, c.level))
    return rejections


def parse_lines(
    con: duckdb.DuckDBPyConnection,
    lines_t: str,
    parsed_t: str,
    job: Job,
    enc_rejections: list[Record],
) -> ParseResult:
    info, columns, delimiter = job.info, job.columns, job.delimiter
    proj = typed_lines(con, lines_t, parsed_t, job, job.exact_field_count)
    counted = next(iter(con.execute(f"SELECT count(*) FROM {parsed_t}").fetchall()), None)
    read = (int(counted[0]) if counted else 0) + len(enc_rejections)
    rejections: list[Record] = list(enc_rejections)
    rejections.extend(line_rejections(con, parsed_t, info.header, delimiter, proj.checks))
    # exact duplicates among accepted records: same raw line → later occurrences rejected
    dups = con.execute(
        f"""WITH ok AS (SELECT _line, _h FROM {parsed_t} WHERE NOT _row_bad),
        cand AS (SELECT _h FROM ok GROUP BY _h HAVING count(*) > 1),
        lines AS (SELECT ok._line, r.line FROM ok JOIN cand USING (_h) JOIN {lines_t} r ON r._line = ok._line)
        SELECT _line, line FROM (
            SELECT _line, line, row_number() OVER (PARTITION BY line ORDER BY _line) AS rn FROM lines) WHERE rn > 1
        ORDER BY _line"""
    ).fetchall()
    dup_lines = [int(x[0]) for x in dups]
    for line, raw in dups:
        rejections.append((int(line), None, raw, "duplicate: same record as an earlier line", "row"))
    names = [c.name for c in columns]
    select = proj.select(columns)
    dup_filter = ""
    if dup_lines:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {parsed_t}_dups AS SELECT unnest(?::BIGINT[]) AS _line",
                    [dup_lines])
        dup_filter = f"AND _line NOT IN (SELECT _line FROM {parsed_t}_dups)"
    unnest = proj.unnest
    if unnest is None:
        query = f"SELECT {select}, _line FROM {parsed_t} WHERE NOT _row_bad {dup_filter} ORDER BY _line"
    else:
        query = (
            f"SELECT {select}, _line FROM (SELECT * EXCLUDE ({ident(unnest)}), unnest({ident(unnest)}) AS _u "
            f"FROM {parsed_t} WHERE NOT _row_bad {dup_filter}) WHERE _u IS NOT NULL ORDER BY _line"
        )
    rows = con.sql(query).to_arrow_table()
    if dup_lines:
        con.execute(f"DROP TABLE IF EXISTS {parsed_t}_dups")
    rows = rows.select([*names, "_line"]).cast(rows_schema(columns))
    rejections.sort(key=lambda r: r[0])
    return ParseResult(rows=rows, rejections=rejections_table(rejections), read=read)
