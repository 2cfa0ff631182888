"""Benchmark: parsing a large débits file, side by side with its limits.

    uv run python benchmarks/ingest.py [--rows 10000000] [--keep FILE]

Generates ``sigfaible_debits.csv`` in the real format (Periode YYYYQM, Dt_trt_ecn (A)AAMMJJ, amounts in
centimes), then times, each in its own process (peak memory = that process's max RSS):

- ``count``:  DuckDB ``SELECT count(*) FROM read_csv(...)`` of the file (the limit: a plain scan);
- ``parse``:  our ``DEBIT.parse`` (typed rows as Arrow + rejections, line numbers, duplicate check);
- ``ingest``: the whole ``ingest`` of a batch holding only that file (parse + flags + Parquet + atomic swap);
- ``pandas``: a straightforward pandas implementation of the same parsing.

Each stage runs ``--repeat`` times (3 by default; pandas once), each run in a fresh process with the modules it
needs imported before the clock starts; the run of median time is kept (this shared 2-core machine varies by
±30 % from one run to the next). Goal: ``parse`` within 3× of ``count``, and at least 5× faster than ``pandas``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _con():  # type: ignore[no-untyped-def]
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def generate(path: Path, rows: int) -> None:
    _con().execute(
        f"""COPY (
        SELECT (100 + i % 900)::VARCHAR AS Urssaf_gestion, lpad((1 + i % 95)::VARCHAR, 2, '0') AS Dep,
          lpad((i * 7919 % 999999999999999999)::VARCHAR, 18, '0') AS num_cpte,
          lpad((i // 3 % 999999999)::VARCHAR, 9, '0') AS Siren,
          lpad((i // 3 % 999999999)::VARCHAR, 9, '0') || lpad((i % 3 * 17)::VARCHAR, 5, '0') AS Siret,
          strftime(DATE '1990-01-01' + (i % 10000)::INTEGER, '%Y%m%d') AS Dt_immat,
          (1 + i % 3)::VARCHAR AS Etat_cpte, (i % 3)::VARCHAR AS Cd_pro_col,
          (2015 + i % 8)::VARCHAR || (1 + i % 4)::VARCHAR || (i % 4)::VARCHAR AS Periode,
          (i % 100000)::VARCHAR AS Num_Ecn, (1 + i % 12)::VARCHAR AS Num_Hist_Ecn,
          (year(d) - 1900)::VARCHAR || strftime(d, '%m%d') AS Dt_trt_ecn,
          (i * 37 % 10000000)::VARCHAR AS Mt_PO, (i * 91 % 10000000)::VARCHAR AS Mt_PP,
          (1 + i % 5)::VARCHAR AS Cd_op_ecn, (i % 28)::VARCHAR AS Motif_ecn, (i % 2)::VARCHAR AS Recours_en_cours
        FROM (SELECT i, DATE '2015-01-01' + (i % 3000)::INTEGER AS d FROM range({rows}) t(i))
        ) TO '{path}' (FORMAT csv, DELIMITER ';', HEADER true, QUOTE '')"""
    )


def stage_count(path: Path) -> int:
    return int(_con().execute(f"SELECT count(*) FROM read_csv('{path}')").fetchone()[0])


def stage_parse(path: Path) -> int:
    from signaux_faibles.sources.urssaf import DEBIT

    res = DEBIT.parse(path, _con())
    assert res.fatal is None, res.fatal
    return res.rows.num_rows


def stage_ingest(path: Path) -> int:
    from signaux_faibles.ingest import ingest_batch

    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "1901"
        folder.mkdir()
        os.symlink(path, folder / "sigfaible_debits.csv")
        reports = ingest_batch(folder, "1901", Path(d) / "data", no_filter=True, con=_con())
        return reports[0].accepted


def stage_pandas(path: Path) -> int:
    import pandas as pd

    df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    out = pd.DataFrame({"siret": df["Siret"], "numero_compte": df["num_cpte"], "numero_ecart_negatif": df["Num_Ecn"]})
    num = pd.to_numeric(df["Dt_trt_ecn"], errors="coerce") + 19000000
    out["date_traitement"] = pd.to_datetime(num.astype("Int64").astype(str), format="%Y%m%d", errors="coerce")
    out["part_ouvriere"] = pd.to_numeric(df["Mt_PO"], errors="coerce") / 100
    out["part_patronale"] = pd.to_numeric(df["Mt_PP"], errors="coerce") / 100
    out["numero_historique_ecart_negatif"] = pd.to_numeric(df["Num_Hist_Ecn"], errors="coerce")
    out["etat_compte"] = pd.to_numeric(df["Etat_cpte"], errors="coerce")
    p = df["Periode"]
    year = pd.to_numeric(p.str[:4], errors="coerce")
    q, m = pd.to_numeric(p.str[4], errors="coerce"), pd.to_numeric(p.str[5], errors="coerce")
    k = (year - 1970) * 12 + (q - 1) * 3 + m.where(m > 0, 1) - 1  # months since 1970-01 (vectorised)
    length = m.where(m == 0, 1).where(m > 0, 3)
    out["periode_debut"] = pd.to_datetime(k.astype("Int64").to_numpy("int64", na_value=0).astype("datetime64[M]"))
    out["periode_fin"] = pd.to_datetime((k + length).astype("Int64").to_numpy("int64", na_value=0).astype("datetime64[M]"))
    d = out["date_traitement"]
    month = d.to_numpy().astype("datetime64[M]")
    out["periode_prise_en_compte"] = pd.to_datetime(month + (d.dt.day > 20).to_numpy().astype("timedelta64[M]"))
    out["recours_en_cours"] = df["Recours_en_cours"].isin(["1", "true", "t", "T", "TRUE", "True"])
    out["debit_id"] = (out["siret"] + out["periode_debut"].dt.strftime("%Y%m%d")
                       + out["periode_fin"].dt.strftime("%Y%m%d") + out["numero_ecart_negatif"])
    bad = ~out["siret"].str.fullmatch(r"[0-9]{14}") | out["date_traitement"].isna()
    return int((~bad).sum())


STAGES = {"count": stage_count, "parse": stage_parse, "ingest": stage_ingest, "pandas": stage_pandas}
#: Modules each stage needs, imported before its clock starts: the stages time the work on the file, not Python's
#: start-up (importing our parsers costs about 0.6 s, pandas about 0.4 s, DuckDB about 0.1 s, whatever the file).
IMPORTS = {
    "count": ("duckdb",),
    "parse": ("duckdb", "signaux_faibles.sources.urssaf"),
    "ingest": ("duckdb", "signaux_faibles.ingest", "signaux_faibles.sources.urssaf"),
    "pandas": ("pandas",),
}


def run_stage(name: str, path: Path, repeat: int = 1) -> dict[str, float]:
    """Run a stage ``repeat`` times, each in a fresh process; keep the run of median time (and its peak memory)."""
    runs = []
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, __file__, "--stage", name, "--file", str(path)], capture_output=True,
                              text=True, check=False)  # fmt: skip
        if proc.returncode != 0:
            return {"seconds": float("nan"), "peak_mb": float("nan"), "rows": -1, "error": proc.stderr[-500:]}  # type: ignore[dict-item]
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    runs.sort(key=lambda r: r["seconds"])
    res: dict[str, float] = runs[len(runs) // 2]
    res["all"] = [round(r["seconds"], 2) for r in runs]  # type: ignore[assignment]
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="reuse/keep the generated file here")
    ap.add_argument("--skip", nargs="*", default=[], help="stages to skip (e.g. pandas)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per stage (the median is kept; pandas runs once)")
    ap.add_argument("--stage")
    ap.add_argument("--file", type=Path)
    args = ap.parse_args()
    if args.stage:
        import importlib

        for module in IMPORTS[args.stage]:
            importlib.import_module(module)
        t0 = time.perf_counter()
        n = STAGES[args.stage](args.file)
        dt = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": dt, "peak_mb": peak, "rows": n}))
        return
    with tempfile.TemporaryDirectory() as d:
        path = args.keep or Path(d) / "sigfaible_debits.csv"
        if not path.exists():
            t0 = time.perf_counter()
            generate(path, args.rows)
            print(f"generated {args.rows:,} rows, {path.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - t0:.1f} s")
        results = {name: run_stage(name, path, 1 if name == "pandas" else args.repeat)
                   for name in STAGES if name not in args.skip}  # fmt: skip
        base = results["count"]["seconds"]
        print(f"{'stage':<8} {'seconds':>9} {'× count':>8} {'peak MB':>9} {'rows':>12}  runs (s)")
        for name, r in results.items():
            print(f"{name:<8} {r['seconds']:>9.2f} {r['seconds'] / base:>8.2f} {r['peak_mb']:>9.0f} {r['rows']:>12,}"
                  f"  {r.get('all', '')}")  # fmt: skip
            if "error" in r:
                print("  error:", r["error"])
        if "pandas" in results and "parse" in results:
            print(f"parse is {results['pandas']['seconds'] / results['parse']['seconds']:.1f}× faster than pandas")


if __name__ == "__main__":
    main()
