"""The fast path: a reader splits the fields, one query types them, flagged records go per line (step 2)."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from signaux_faibles.sources._base import Column, ParseResult, Record, rejections_table, rows_schema
from signaux_faibles.sources._read import vector as vec
from signaux_faibles.sources._read.arrow import arrow_fast
from signaux_faibles.sources._read.duplicates import find_duplicates, numbers, top_bits
from signaux_faibles.sources._read.prescan import (
    EXTRA,
    Fallback,
    Prescan,
    fetch_lines,
    int64_array,
    line_numbers,
    prescan,
)
from signaux_faibles.sources._read.rules import Job, Projection
from signaux_faibles.sources._read.slow import check_sql, pre_ctes, slow_subset
from signaux_faibles.sources._read.sniff import ENC_MARK, MAX_LINE, FileInfo, field_names
from signaux_faibles.sources._sql import ident, lit


def parse_fast(
    con: duckdb.DuckDBPyConnection,
    job: Job,
) -> ParseResult:
    """A reader splits the fields; only flagged records take the per-line rules (package docstring, 2)."""
    info, columns, project, delimiter, hashed = job.info, job.columns, job.project, job.delimiter, job.hashed
    fields = {key: f"c{i}" for key, i in field_names(info.header).items()}
    proj = project(fields, info.header)
    if proj.unnest is not None:
        raise Fallback("wide → long source")
    keys = key_columns(info, columns, hashed)
    pre: Prescan | None = None
    if job.vector is not None and len(delimiter) == 1 and keys:
        arrow, pre = arrow_fast(job, keys)
        if arrow is not None and pre is not None:
            out, raw_of, among = arrow
            return finish_fast(con, job, pre, out, raw_of, keys, among)
    if pre is None:
        pre = prescan(info)
    out, raw_of = duckdb_fast(con, job, proj, pre)
    return finish_fast(con, job, pre, out, raw_of)


def key_columns(info: FileInfo, columns: tuple[Column, ...], hashed: tuple[int, ...]) -> list[str]:
    """Staging columns typed from the hashed raw fields (equal raw fields → equal values)."""
    raw = {info.header[i].lower() for i in hashed}
    return [c.name for c in columns if c.raw is not None and c.raw.lower() in raw]


def duckdb_fast(
    con: duckdb.DuckDBPyConnection,
    job: Job,
    proj: Projection,
    pre: Prescan,
) -> tuple[pa.Table, Callable[[np.ndarray], list[str | None]]]:
    """DuckDB's reader splits the fields, one streaming query types and checks them."""
    info, columns, delimiter, hashed = job.info, job.columns, job.delimiter, job.hashed
    n = len(info.header)
    raw_cols = [f"c{i}" for i in range(n)] + [f"_x{j}" for j in range(EXTRA)]
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in raw_cols)
    nl = "\\r\\n" if info.newline == "\r\n" else "\\n"
    d = lit(delimiter)
    source = (
        f"read_csv({lit(str(info.path))}, columns={{{spec}}}, header=false, skip=1, delim={d}, quote='', "
        f"escape='', comment='', encoding='utf-8', auto_detect=false, strict_mode=false, null_padding=true, "
        f"nullstr={lit(ENC_MARK)}, ignore_errors=false, new_line='{nl}', max_line_size={MAX_LINE}, "
        f"compression='{'gzip' if info.gzip else 'none'}')"
    )
    ok = f"c{n - 1} IS NOT NULL AND _x0 IS NULL"
    if pre.quotes:
        ok += f" AND NOT contains(concat({', '.join(raw_cols[:n])}), '\"')"
    if pre.nul:  # a NUL byte sends its line to the per-line rules, which quarantine it
        ok += f" AND NOT contains(concat({', '.join(raw_cols[:n])}), chr(0))"
    value_cols = ", ".join(f"{expr} AS {ident(name)}" for name, expr in proj.exprs.items())
    select = proj.select(columns)
    pre_text, pre_last = pre_ctes(proj, "r", "p")
    query = f"""
        WITH r AS (
            SELECT *, ({ok}) AS _ok, hash({", ".join(raw_cols[i] for i in hashed)}) AS _h FROM {source}
        ){pre_text}, c AS (
            SELECT *, {value_cols}, ({check_sql(proj.checks)}) AS _chk FROM {pre_last}
        )
        SELECT {select}, _h, NOT _ok OR _chk AS _flag,
               CASE WHEN NOT _ok OR _chk THEN concat_ws({d}, {", ".join(raw_cols)}) END AS _raw
        FROM c"""
    try:
        out = con.sql(query).to_arrow_table()
    except duckdb.Error as exc:  # invalid UTF-8, truncated gzip…: the per-line path reports it precisely
        raise Fallback(str(exc)) from exc
    raw_col = out.column("_raw")

    def raw_of(idx: np.ndarray) -> list[str | None]:
        return raw_col.take(int64_array(idx)).to_pylist()

    return out.drop_columns(["_raw"]), raw_of


def finish_fast(
    con: duckdb.DuckDBPyConnection,
    job: Job,
    pre: Prescan,
    out: pa.Table,
    raw_of: Callable[[np.ndarray], list[str | None]],
    keys: list[str] | None = None,
    among: np.ndarray | None = None,
) -> ParseResult:
    """Flagged records through the per-line rules, then the duplicate search (package docstring, 2, 3, 5).

    ``among``: the hashes of every record (flagged ones too), sorted, when at hand."""
    info, columns, delimiter = job.info, job.columns, job.delimiter
    n = len(info.header)
    if out.num_rows != pre.records:
        raise Fallback(f"reader returned {out.num_rows} records, expected {pre.records}")
    lines = line_numbers(out.num_rows, pre.blanks)
    flag = out.column("_flag")
    n_flagged = int(pc.sum(flag).as_py() or 0)
    schema = rows_schema(columns)
    hashes = numbers(out.column("_h"), np.uint64)
    if n_flagged == 0:
        fast = out.drop_columns(["_flag"]).append_column("_line", int64_array(lines))
        slow_rows = None
        rejections: list[Record] = []
        slow_keys: list[tuple[int, int]] = []
        slow_raw: dict[int, str] = {}
        key_lines, key_hashes = lines, hashes
    else:
        flag_np = flag.to_numpy(zero_copy_only=False)
        flagged_idx = np.flatnonzero(flag_np)
        raws = raw_of(flagged_idx)
        flagged_lines = lines[flagged_idx]
        # a raw line rebuilt from every extra column may have lost fields beyond them: read it again
        refetch = {int(ln) for ln, raw in zip(flagged_lines, raws, strict=True)
                   if raw is None or raw.count(delimiter) >= n + EXTRA - 1}
        again = fetch_lines(info, refetch)
        slow_raw = {int(ln): again.get(int(ln), raw or "") for ln, raw in zip(flagged_lines, raws, strict=True)}
        keep = pc.invert(flag)
        fast = out.drop_columns(["_flag"]).append_column("_line", int64_array(lines)).filter(keep)
        slow_rows, rejections, slow_keys = slow_subset(con, slow_raw, job)
        if keys is not None:  # the fast records' hash is of typed values: the same for these
            slow_keys = list(zip(slow_rows.column("_line").to_pylist(),
                                 vec.key_hash([slow_rows.column(k) for k in keys], slow_rows.num_rows).tolist(),
                                 strict=True))
        kept = ~np.asarray(flag_np, dtype=bool)
        key_lines, key_hashes = lines[kept], hashes[kept]
    # exact duplicates among accepted records
    if slow_keys:
        slow_h = np.array([k[1] for k in slow_keys], dtype=np.uint64)
        key_lines = np.concatenate([key_lines, np.array([k[0] for k in slow_keys], dtype=np.int64)])
        key_hashes = np.concatenate([key_hashes, slow_h])
        if among is not None:
            among = np.concatenate([among, np.sort(top_bits(slow_h))])
            among.sort(kind="stable")  # merges the two sorted runs
    dups = find_duplicates(key_lines, key_hashes,
                       lambda want: {**fetch_lines(info, want - set(slow_raw)),
                                     **{ln: slow_raw[ln] for ln in want if ln in slow_raw}}, among)
    rows = fast.drop_columns(["_h"])
    if dups:
        dup_set = pa.array(sorted(dups), pa.int64())
        rows = rows.filter(pc.invert(pc.is_in(rows.column("_line"), value_set=dup_set)))
        if slow_rows is not None and slow_rows.num_rows:
            slow_rows = slow_rows.filter(pc.invert(pc.is_in(slow_rows.column("_line"), value_set=dup_set)))
        rejections.extend((ln, None, raw, "duplicate: same record as an earlier line", "row")
                          for ln, raw in dups.items())
    rows = rows.cast(schema)
    if slow_rows is not None and slow_rows.num_rows:
        rows = pa.concat_tables([rows, slow_rows.cast(schema)]).sort_by("_line")
    rejections.sort(key=lambda r: r[0])
    return ParseResult(rows=rows, rejections=rejections_table(rejections), read=out.num_rows)
