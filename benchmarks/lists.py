"""Benchmark the monthly lists: publication of 100 000 companies to the platform database (SQLite, PostgreSQL).

    uv run python benchmarks/lists.py [--companies 100000] [--months 60] [--work /tmp/sf-bench-lists]
                                      [--pg postgresql+psycopg://postgres@127.0.0.1:5432] [--skip-pg]

``bench_publish``: synthesises (once, cached in ``--work``) the inputs ``signaux-faibles publish`` reads, at the
size of ``--companies`` companies × ``--months`` months: the panel (``panel/company_month``, the ten published
series plus 20 other columns), ``clean_sirene_ul``, ``clean_sirene`` (≈ 2.2 establishments per company),
``clean_diane``, ``clean_bdf``, ``clean_procol`` and a list following the ``scores.parquet`` contract (with
explanations for the alerted companies) and its diff. Then, each in its own child process (peak memory = the
child's max RSS; the PostgreSQL server's own memory is not counted):

- **read**: the baseline, measured in the same run: DuckDB reads every row the publication writes, to Arrow;
- **SQLite first / again**: ``publish`` into a new SQLite file, then again into the full database (the monthly
  case: series deleted and re-inserted, companies upserted, the list replaced);
- **PostgreSQL first / again**: the same into a throwaway database, dropped at the end.

Goal: each publication under 5 minutes.

``bench_score`` (first): ``signaux-faibles score`` at each of ``--score-companies`` sizes (100 000 and 400 000
companies: the companies of a ``--score-source``-company twin, trained once and cached, replicated under new SIRENs
with 13 months of panel each, written to a panel folder replica by replica), explanations and what-if for the
alerted ones, in a child process (its peak memory is the scoring's own), against the baseline measured in the
same run: the month's rows read and their plain probabilities, in a child process too. Scoring goes by chunks of
``score_chunk_companies`` companies, so its memory should stay nearly flat as the companies grow. Goal: under 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

BATCH = "2609"
GOAL_SECONDS = 300.0


# ------------------------------------------------------------------------------------------- synthetic inputs


def _sirens(n: int, rng: np.random.Generator) -> np.ndarray:
    ids = 100_000_000 + rng.choice(899_999_999, size=n, replace=False)
    return np.sort(ids.astype("U9"))


def _nullify(x: np.ndarray, share: float, rng: np.random.Generator) -> pa.Array:
    return pa.array(x, mask=rng.uniform(size=len(x)) < share)


def _write(table: pa.Table, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "part-00000.parquet", row_group_size=500_000)


def synthesise(data: Path, companies: int, months: int, seed: int = 0) -> None:
    """Write the publication's inputs under ``data`` (see the module docstring)."""
    from signaux_faibles.platform.models import DIANE_FIELDS

    rng = np.random.default_rng(seed)
    sirens = _sirens(companies, rng)
    last = np.datetime64("2026-09-01", "M")
    first = last - (months - 1)
    # panel: every company from a start month (80 % the whole window) to the last month
    start = np.where(rng.uniform(size=companies) < 0.8, 0, rng.integers(0, months, size=companies))
    writer = None
    path = data / "panel" / "company_month" / "part-00000.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    for lo in range(0, companies, 10_000):
        hi = min(lo + 10_000, companies)
        lengths = months - start[lo:hi]
        idx = np.repeat(np.arange(lo, hi), lengths)
        offset = np.concatenate([np.arange(s, months) for s in start[lo:hi]])
        n = len(idx)
        periode = (first + offset).astype("datetime64[D]")
        eff = rng.integers(5, 200, size=n)
        cols: dict[str, Any] = {
            "siren": pa.array(sirens[idx]),
            "periode": pa.array(periode, pa.date32()),
            "in_perimeter": pa.array(rng.uniform(size=n) < 0.9),
            "cotisation": _nullify(rng.gamma(2.0, 5_000.0, size=n).round(2), 0.05, rng),
            "montant_part_ouvriere": _nullify(np.where(rng.uniform(size=n) < 0.1, rng.gamma(1.0, 3e3, n), 0.0), 0.02, rng),
            "montant_part_patronale": _nullify(np.where(rng.uniform(size=n) < 0.1, rng.gamma(1.0, 8e3, n), 0.0), 0.02, rng),
            "delai_montant_echeancier": _nullify(rng.gamma(1.0, 1e4, size=n), 0.97, rng),
            "delai_nb_jours_restants": _nullify(rng.integers(0, 365, size=n), 0.97, rng),
            "effectif": _nullify(eff, 0.05, rng),
            "effectif_ent": pa.array(eff.astype(np.int32), mask=rng.uniform(size=n) < 0.05),
            "apart_heures_autorisees": _nullify(np.where(rng.uniform(size=n) < 0.03, rng.gamma(1.0, 500, n), 0.0), 0.0, rng),
            "apart_heures_consommees": _nullify(np.where(rng.uniform(size=n) < 0.02, rng.gamma(1.0, 300, n), 0.0), 0.0, rng),
            "etat_proc_collective": pa.array(np.where(rng.uniform(size=n) < 0.02, "redressement", "in_bonis")),
        }  # fmt: skip
        for k in range(20):  # the panel's other columns (not published)
            cols[f"feature_{k:02}"] = _nullify(rng.normal(size=n), 0.2, rng)
        table = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=500_000)
    assert writer is not None
    writer.close()

    deps = np.array(["21", "25", "39", "58", "70", "71", "89", "90"])
    dep = deps[rng.integers(0, len(deps), size=companies)]
    # establishments: 1 + Poisson(1.2) per company, the first one the head office
    n_et = 1 + rng.poisson(1.2, size=companies)
    owner = np.repeat(np.arange(companies), n_et)
    rank = np.concatenate([np.arange(k) for k in n_et])
    sirets = np.char.add(sirens[owner], np.char.zfill((rank * 17 + 11).astype("U5"), 5))
    siege = rank == 0
    ne = len(owner)
    _write(
        pa.table({
            "siren": sirens[owner], "siret": sirets, "siege": siege,
            "adresse": np.char.add(np.char.add((rank + 1).astype("U3"), " RUE DE LA GARE\n"), dep[owner]),
            "code_commune": np.char.add(dep[owner], "123"), "departement": dep[owner],
            "libelle_departement": np.char.add("Département ", dep[owner]), "region": np.full(ne, "27"),
            "libelle_region": np.full(ne, "Bourgogne-Franche-Comté"), "ape": np.full(ne, "47.91B"),
            "naf_section": np.full(ne, "G"),
            "date_creation": pa.array(np.datetime64("2005-01-01") + rng.integers(0, 6000, ne), pa.date32()),
            "longitude": rng.uniform(2.8, 7.1, ne).round(2), "latitude": rng.uniform(46.2, 48.4, ne).round(2),
            "est_actif": rng.uniform(size=ne) < 0.9,
        }),
        data / "clean" / "clean_sirene",
    )  # fmt: skip
    _write(
        pa.table({
            "siren": sirens, "raison_sociale": np.char.add("SOCIETE ", sirens),
            "categorie_juridique": np.full(companies, "5710"),
            "libelle_categorie_juridique": np.full(companies, "SAS, société par actions simplifiée"),
            "activite_principale": np.full(companies, "47.91B"),
            "libelle_activite_principale": np.full(companies, "Vente à distance sur catalogue spécialisé"),
            "naf_section": np.full(companies, "G"),
            "libelle_naf_section": np.full(companies, "COMMERCE ; RÉPARATION D'AUTOMOBILES ET DE MOTOCYCLES"),
            "departement": dep, "siret_siege": sirets[siege], "libelle_departement": np.char.add("Département ", dep),
            "region": np.full(companies, "27"), "libelle_region": np.full(companies, "Bourgogne-Franche-Comté"),
            "creation": pa.array(np.datetime64("2005-01-01") + rng.integers(0, 6000, companies), pa.date32()),
            "est_actif": rng.uniform(size=companies) < 0.95,
        }),
        data / "clean" / "clean_sirene_ul",
    )  # fmt: skip
    # DIANE: 3 exercises for 40 % of the companies; BdF: 2 closings for 20 %; procol: 2 events for 5 %
    has = np.flatnonzero(rng.uniform(size=companies) < 0.4)
    d_owner = np.repeat(has, 3)
    year = np.tile(np.array([2023, 2024, 2025], dtype=np.int32), len(has))
    nd = len(d_owner)
    diane: dict[str, Any] = {
        "siren": sirens[d_owner], "exercice_diane": year,
        "arrete_bilan_diane": pa.array((year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + 364, pa.date32()),
        "nombre_mois": np.full(nd, 12, dtype=np.int32),
        "date_publication": pa.array((year - 1969).astype("datetime64[Y]").astype("datetime64[D]") + 212, pa.date32()),
    }  # fmt: skip
    for f in DIANE_FIELDS:
        diane[f] = _nullify(rng.normal(100, 50, nd).round(2), 0.1, rng)
    _write(pa.table(diane), data / "clean" / "clean_diane")
    has = np.flatnonzero(rng.uniform(size=companies) < 0.2)
    b_owner = np.repeat(has, 2)
    year = np.tile(np.array([2024, 2025], dtype=np.int32), len(has))
    nb = len(b_owner)
    bdf: dict[str, Any] = {
        "siren": sirens[b_owner], "annee_bdf": year + 1,
        "arrete_bilan_bdf": pa.array((year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + 364, pa.date32()),
    }  # fmt: skip
    for f in ("poids_frng", "taux_marge", "delai_fournisseur", "dette_fiscale", "financier_court_terme",
              "frais_financier"):  # fmt: skip
        bdf[f] = _nullify(rng.normal(40, 20, nb).round(1), 0.05, rng)
    bdf["date_publication"] = pa.array(
        (year - 1969).astype("datetime64[Y]").astype("datetime64[D]") + 212, pa.date32()
    )
    _write(pa.table(bdf), data / "clean" / "clean_bdf")
    has = np.flatnonzero(rng.uniform(size=companies) < 0.05)
    p_owner = np.repeat(has, 2)
    npc = len(p_owner)
    _write(
        pa.table({
            "siren": sirens[p_owner],
            "date_effet": pa.array(np.datetime64("2022-01-01") + rng.integers(0, 1500, npc), pa.date32()),
            "action_procol": np.full(npc, "redressement"),
            "stade_procol": np.tile(np.array(["ouverture", "plan_continuation"]), len(has)),
            "libelle_procol": np.tile(np.array(["Redressement judiciaire", "Plan de redressement"]), len(has)),
        }),
        data / "clean" / "clean_procol",
    )  # fmt: skip
    # the list: the perimeter companies at the last month
    listed = sirens[rng.uniform(size=companies) < 0.9]
    nl = len(listed)
    p = rng.beta(0.5, 8, size=nl)
    alert = np.where(p > 0.3, "Alerte seuil F1", np.where(p > 0.1, "Alerte seuil F2", "Pas d'alerte"))
    alerted = alert != "Pas d'alerte"
    from signaux_faibles.contract import THEMES as themes

    macro = [json.dumps({t: round(float(v), 6) for t, v in zip(themes, row, strict=True)}, ensure_ascii=False)
             for row in rng.normal(0, 0.5, size=(nl, len(themes)))]  # fmt: skip
    micro = [json.dumps({f"feature_{k:02}": round(float(v), 6) for k, v in enumerate(rng.normal(0, 0.3, 20))})
             if a else None for a in alerted]  # fmt: skip
    whatif = [json.dumps({t: round(float(x) / 2, 6) for t in themes}, ensure_ascii=False) if a else None
              for x, a in zip(p, alerted, strict=True)]  # fmt: skip
    order = np.argsort(-p, kind="stable")
    siege_of = dict(zip(sirens, sirets[siege], strict=True))
    scores = pa.table({
        "siren": listed, "siret": [siege_of[s] for s in listed],
        "periode": pa.array(np.full(nl, np.datetime64("2026-07-01")), pa.date32()),
        "batch": np.full(nl, BATCH), "algo": np.full(nl, "lightgbm-bench"), "id_liste": np.full(nl, "Juillet 2026"),
        "probability": p, "alert": alert, "alert_pre_adjustment": alert,
        "adjustments": np.where(rng.uniform(size=nl) < 0.05, '["urssaf_2021"]', "[]"),
        "threshold_high": np.full(nl, 0.3), "threshold_moderate": np.full(nl, 0.1), "base_probability": np.full(nl, 0.05),
        "macro_expl": macro, "micro_expl": micro, "what_if": whatif, "first_alert": alerted,
        "first_high_alert": alert == "Alerte seuil F1", "hausse_urssaf": rng.uniform(size=nl) < 0.1,
        "ap_12m": rng.uniform(size=nl) < 0.05, "etat_proc_collective": pa.nulls(nl, pa.string()),
        "dette_urssaf": _nullify(rng.gamma(1.0, 1e4, nl), 0.8, rng),
    }).take(order)  # fmt: skip
    scores = scores.append_column("rank", pa.array(np.arange(1, nl + 1, dtype=np.int64)))
    folder = data / "lists" / BATCH
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(scores, folder / "scores.parquet")
    moved = np.flatnonzero(alerted)
    pq.write_table(
        pa.table({
            "siren": listed[moved], "alert_previous": pa.nulls(len(moved), pa.string()), "alert": alert[moved],
            "change": np.full(len(moved), "entrée"), "previous_batch": np.full(len(moved), "2608"),
        }),
        folder / "diff.parquet",
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------- children


def _peak_mb() -> float:
    """This process's peak resident set (``VmHWM``; ``ru_maxrss`` would carry the parent's over ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(kind: str, data: Path, url: str | None) -> None:
    t0 = time.perf_counter()
    if kind == "read":
        from signaux_faibles.platform.store.publish import _Inputs

        inp = _Inputs(data, BATCH)
        queries = [inp.companies(), inp.establishments(), inp.company_months(), inp.diane(), inp.bdf(),
                   inp.procol(), inp.scores(1), inp.changes(1)]  # fmt: skip
        rows = {"rows": sum(b.num_rows for q in queries if q for b in inp.stream(q))}
    else:
        from signaux_faibles.platform.store.publish import publish

        rows = publish(data, BATCH, url).rows
    seconds = time.perf_counter() - t0
    peak = _peak_mb()
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "rows": rows}))


def _run(kind: str, data: Path, url: str | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, "--data", str(data)] + (["--url", url] if url else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def bench_publish(
    companies: int, months: int, work: Path, pg: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """Publication of ``companies`` companies' series on SQLite and PostgreSQL; returns (name, figures) rows."""
    data = work / f"publish_{companies}_{months}"
    done = data / ".synthesised"
    if not done.is_file():
        t = time.perf_counter()
        synthesise(data, companies, months)
        done.write_text("ok")
        print(f"inputs synthesised in {time.perf_counter() - t:.1f} s under {data}")
    results = [("read (baseline)", _run("read", data))]
    db = work / "platform.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    results.append(("SQLite first", _run("publish", data, url)))
    results.append(("SQLite again", _run("publish", data, url)))
    results[-1][1]["db_mb"] = db.stat().st_size / 2**20
    if pg:
        from sqlalchemy import create_engine, text

        admin = create_engine(f"{pg}/postgres", isolation_level="AUTOCOMMIT")
        name = f"sf_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            results.append(("PostgreSQL first", _run("publish", data, f"{pg}/{name}")))
            results.append(("PostgreSQL again", _run("publish", data, f"{pg}/{name}")))
            with admin.connect() as c:
                size = c.execute(text("SELECT pg_database_size(:n)"), {"n": name}).scalar_one()
            results[-1][1]["db_mb"] = size / 2**20
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return results


def _print_publish(results: list[tuple[str, dict[str, Any]]], companies: int, months: int) -> None:
    base = results[0][1]["seconds"]
    rows = results[1][1]["rows"] if len(results) > 1 else {}
    print(
        f"\npublication of {companies:,} companies x {months} months: "
        + ", ".join(f"{k} {v:,}" for k, v in rows.items())
    )
    print(f"{'step':<18} {'seconds':>8} {'x read':>7} {'x goal':>7} {'peak MB':>8} {'db MB':>8}")
    for name, r in results:
        db = f"{r['db_mb']:>8,.0f}" if "db_mb" in r else f"{'':>8}"
        print(f"{name:<18} {r['seconds']:>8.1f} {r['seconds'] / base:>7.1f} {r['seconds'] / GOAL_SECONDS:>7.2f} "
              f"{r['peak_mb']:>8,.0f} {db}")  # fmt: skip


# ------------------------------------------------------------------------------------------------ scoring


def _score_source(work: Path, companies: int) -> tuple[Path, str]:
    """A twin of ``companies`` companies, ingested, its panel built and a model trained (cached in ``work``)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from model import build  # benchmarks/model.py
    from signaux_faibles.layout import DataDir
    from signaux_faibles.model.train import run_train

    data, batch = build(work, companies, 60, 2)
    if not (DataDir(data).model(batch) / "model.joblib").is_file():
        run_train(data, batch, log=lambda s: None)
    return data, batch


def _replicated(work: Path, source: Path, batch: str, companies: int) -> tuple[Path, str]:
    """A data directory whose panel holds ``companies`` companies: the source twin's companies scored at the
    list's month, replicated under new SIRENs with their 13 last months; written replica by replica (one Parquet
    file each), never held whole."""
    import shutil

    import pyarrow.parquet as pq

    from signaux_faibles.layout import DataDir, batch_month
    from signaux_faibles.model.dataset import complete_month, load_panel

    panel = load_panel(source)
    month = complete_month(panel, batch_month(batch))
    recent = panel[(panel.periode > month - 13) & (panel.periode <= month)]
    base = list(recent.siren[recent.periode == month].unique())  # the companies scored at the month
    recent = recent[recent.siren.isin(set(base))].assign(
        periode=lambda d: d.periode.dt.to_timestamp().dt.date
    )
    del panel
    index = {s: i for i, s in enumerate(base)}
    data = work / f"score_bench_{companies}"
    shutil.rmtree(data, ignore_errors=True)
    target = DataDir(data).panel
    target.mkdir(parents=True)
    for k in range(-(-companies // len(base))):
        keep = set(base[: companies - k * len(base)])
        part = recent[recent.siren.isin(keep)].copy()
        part["siren"] = [f"{k:02d}{index[s]:07d}" for s in part.siren]
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), target / f"part-{k:05d}.parquet")
    (data / "models" / batch).mkdir(parents=True)
    shutil.copy(DataDir(source).model(batch) / "model.joblib", data / "models" / batch / "model.joblib")
    (data / "month").write_text(str(month))
    return data, str(month)


def _score_child(kind: str, data: Path) -> None:
    """In a child process (its peak memory is its own): ``score`` on the replicated panel, or the baseline (the
    month's rows read and their plain probabilities)."""
    import pandas as pd

    from signaux_faibles.layout import DataDir
    from signaux_faibles.lists.chunks import read_month
    from signaux_faibles.lists.score import score
    from signaux_faibles.model.artefact import FailureModel

    batch = next(p.name for p in (data / "models").iterdir())
    month = (data / "month").read_text().strip()
    t0 = time.perf_counter()
    if kind == "plain":
        rows = read_month(DataDir(data).panel, pd.Period(month, "M"))
        FailureModel.load(data / "models" / batch / "model.joblib").predict_proba(rows)
        out = {"companies": len(rows), "alerted": 0}
    else:
        res = score(data, batch, month, engine="duckdb")
        out = {"companies": len(res.scores), "alerted": int((res.scores.alert != "Pas d'alerte").sum())}
    print(json.dumps({**out, "seconds": time.perf_counter() - t0, "peak_mb": _peak_mb(), "month": month}))


def bench_score(sizes: list[int], work: Path, source_companies: int) -> list[dict[str, Any]]:
    """Score each of ``sizes`` companies (the source twin's companies replicated under new SIRENs, 13 months of
    panel each, on disk), explanations and what-if for the alerted ones, each in a child process; baseline: the
    month's rows read and their plain probabilities, in a child process too."""
    source, batch = _score_source(work, source_companies)
    results = []
    for n in sizes:
        data, _ = _replicated(work, source, batch, n)
        plain = _run("score-plain", data)
        full = _run("score", data)
        results.append(
            {**full, "plain_seconds": plain["seconds"], "plain_peak_mb": plain["peak_mb"], "size": n}
        )
    return results


def _print_score(results: list[dict[str, Any]]) -> None:
    for r in results:
        print(
            f"score {r['companies']:,} companies at {r['month']} ({r['alerted']:,} alerted: explanations and "
            f"what-if): {r['seconds']:.1f} s (goal < 60 s), peak memory {r['peak_mb']:,.0f} MB; baseline (the "
            f"month's rows read, plain probabilities): {r['plain_seconds']:.1f} s, {r['plain_peak_mb']:,.0f} MB; "
            f"ratios {r['seconds'] / r['plain_seconds']:.1f}x time, {r['peak_mb'] / r['plain_peak_mb']:.2f}x memory"
        )
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(f"scoring's peak memory from {a['companies']:,} to {b['companies']:,} companies "
              f"({b['companies'] / a['companies']:.1f}x): {b['peak_mb'] / a['peak_mb']:.2f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--work", type=Path, default=Path("/tmp/sf-bench-lists"))
    parser.add_argument(
        "--pg", default=os.environ.get("SF_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--score-companies", type=int, nargs="+", default=[100_000, 400_000])
    parser.add_argument("--score-source", type=int, default=10_000, help="companies of the replicated twin")
    parser.add_argument("--skip-score", action="store_true")
    parser.add_argument("--skip-publish", action="store_true")
    parser.add_argument(
        "--child", choices=["read", "publish", "score", "score-plain"], help=argparse.SUPPRESS
    )
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child in ("score", "score-plain"):
        _score_child("plain" if args.child == "score-plain" else "score", args.data)
        return
    if args.child:
        _child(args.child, args.data, args.url)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    if not args.skip_score:
        _print_score(bench_score(args.score_companies, args.work, args.score_source))
    if not args.skip_publish:
        results = bench_publish(args.companies, args.months, args.work, None if args.skip_pg else args.pg)
        _print_publish(results, args.companies, args.months)


if __name__ == "__main__":
    main()
