"""The ingest command: nothing lost, layout, stock/flux, idempotence, perimeter, golden staging tables."""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from golden import REFERENCE_BATCH, read_golden
from signaux_faibles.config import Settings
from signaux_faibles.ingest import ingest_batch, run_ingest


def staging(data: Path, table: str):  # type: ignore[no-untyped-def]
    return ds.dataset(str(data / "staging" / table), format="parquet").to_table()


def log(data: Path):  # type: ignore[no-untyped-def]
    return pq.read_table(data / "import_log.parquet")


def test_counts_add_up_and_layout(batch_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (batch_dir / "sigfaible_delais.csv").write_bytes(b"")  # a whole-file error…
    (batch_dir / "notes.txt").write_text("not a source")
    code = run_ingest(batch_dir, "1911", Settings(data_dir=data), no_filter=True)
    assert code == 1  # …makes the command fail, the other files still load
    lg = log(data).to_pylist()
    by_file = {r["file"]: r for r in lg}
    assert by_file["sigfaible_delais.csv"]["status"] == "error"
    assert "empty" in by_file["sigfaible_delais.csv"]["message"]
    assert by_file["notes.txt"]["status"] == "ignored"
    for r in lg:
        assert r["read"] == r["accepted"] + r["quarantined"] + r["filtered"], r
        assert r["batch"] == "1911"
    assert by_file["sigfaible_debits.csv"]["read"] == 3 and by_file["sigfaible_debits.csv"]["quarantined"] == 1
    debit = staging(data, "stg_debit")
    assert {"batch", "source_file", "source_line", "luhn_ok", "pseudo_siret", "periode_prise_en_compte"} <= set(
        debit.column_names)
    assert set(debit.column("source_file").to_pylist()) == {"sigfaible_debits.csv"}
    q = ds.dataset(str(data / "quarantine"), format="parquet").to_table()
    assert {"batch", "file", "line", "column", "raw_value", "reason"} <= set(q.column_names)
    keys = set(zip(q.column("file").to_pylist(), q.column("line").to_pylist(), strict=True))
    assert ("sigfaible_debits.csv", 4) in keys  # 31 February
    assert ("sigfaible_ccsf.csv", 3) in keys  # unknown stade
    assert ("sigfaible_procol.csv", 4) not in keys and ("sigfaible_pcoll.csv", 4) in keys
    assert not (data / "staging" / "stg_delai").exists()


def test_rerun_is_idempotent_and_flux_adds_stock_replaces(
    batch_dir: Path, tmp_path: Path, make_batch: Callable[..., Path]
) -> None:
    data = tmp_path / "data"
    ingest_batch(batch_dir, "1911", data, no_filter=True)
    first = {t: staging(data, t).sort_by("source_line") for t in ("stg_debit", "stg_effectif")}
    ingest_batch(batch_dir, "1911", data, no_filter=True)
    for t, before in first.items():
        assert staging(data, t).sort_by("source_line").equals(before)
    assert log(data).num_rows == len(list(batch_dir.iterdir()))
    nxt = make_batch(tmp_path / "in" / "1912")
    ingest_batch(nxt, "1912", data, no_filter=True)
    assert set(staging(data, "stg_debit").column("batch").to_pylist()) == {"1911", "1912"}  # flux adds
    assert set(staging(data, "stg_effectif").column("batch").to_pylist()) == {"1912"}  # stock replaces
    assert set(log(data).column("batch").to_pylist()) == {"1911", "1912"}
    assert not any(p.name.startswith("tmp-") for p in (data / ".versions").iterdir())
    assert len(list((data / ".versions").iterdir())) == 1


def test_perimeter_filters_and_counts(tmp_path: Path) -> None:
    folder = tmp_path / "in" / "2001"
    folder.mkdir(parents=True)
    (folder / "sigfaible_effectif_siren.csv").write_text(
        "siren;eff201911;eff201912;eff201913;rais_soc\n123456789;12;9;;A\n987654321;3;4;5;B\n")
    head = ("Urssaf_gestion;Dep;num_cpte;Siren;Siret;Dt_immat;Etat_cpte;Cd_pro_col;Periode;Num_Ecn;Num_Hist_Ecn;"
            "Dt_trt_ecn;Mt_PO;Mt_PP;Cd_op_ecn;Motif_ecn;Recours_en_cours")
    line = "1;2;3;{s};{s}00011;20050501;1;0;201911;{n};1;1190315;1;2;1;0;0"
    (folder / "sigfaible_debits.csv").write_text("\n".join(
        [head, line.format(s="123456789", n=1), line.format(s="987654321", n=2), line.format(s="987654321", n=3),
         "bad"]) + "\n")
    data = tmp_path / "data"
    ingest_batch(folder, "2001", data)
    r = {x["file"]: x for x in log(data).to_pylist()}["sigfaible_debits.csv"]
    assert (r["read"], r["accepted"], r["quarantined"], r["filtered"]) == (4, 1, 1, 2)
    assert staging(data, "stg_filter_import").column("siren").to_pylist() == ["123456789"]
    assert staging(data, "stg_debit").column("siret").to_pylist() == ["12345678900011"]
    # a later batch without effectif_ent uses the published perimeter
    later = tmp_path / "in" / "2002"
    later.mkdir()
    shutil.copy(folder / "sigfaible_debits.csv", later)
    ingest_batch(later, "2002", data)
    r2 = {(x["batch"], x["file"]): x for x in log(data).to_pylist()}[("2002", "sigfaible_debits.csv")]
    assert r2["filtered"] == 2


def test_filterread_golden(reference_dir: Path, tmp_path: Path) -> None:
    """The perimeter list from the real filter's test data equals its golden output."""
    import duckdb

    from signaux_faibles.ingest.perimeter import filter_from_effectif_ent
    from signaux_faibles.sources.effectif import EFFECTIF_ENT

    con = duckdb.connect()
    res = EFFECTIF_ENT.parse(reference_dir / "filter" / "test_data.csv", con)
    got = filter_from_effectif_ent(con, res.rows).column("siren").to_pylist()
    expected = [s for s in (reference_dir / "filter" / "test_golden.txt").read_text().split() if s != "siren"]
    assert got == sorted(expected)


# --- golden staging tables of the real system's reference run ---------------------------------------------------

MY_TABLES = ("stg_cotisation", "stg_debit", "stg_delai", "stg_procol", "stg_effectif", "stg_effectif_ent")


def _norm(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _same(g: str, o: str) -> bool:
    if o[:20] == g or (len(g) >= 10 and g[4:5] == "-" and o[:10] == g[:10]):
        return True
    try:
        return math.isclose(float(g), float(o), rel_tol=1e-6, abs_tol=1e-6)
    except ValueError:
        return g.lower() == o.lower()


@pytest.fixture(scope="module")
def reference_run(reference_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reference")
    folder = root / "1910"
    folder.mkdir()
    for src, dst in REFERENCE_BATCH.items():
        shutil.copy(reference_dir / src, folder / dst)
    ingest_batch(folder, "1910", root / "data", no_filter=True)
    return root / "data"


@pytest.mark.parametrize("table", MY_TABLES)
def test_staging_equals_golden(table: str, reference_run: Path, reference_dir: Path) -> None:
    head, grows = read_golden(reference_dir / "golden" / f"test-import.sql.{table}.golden.txt")
    t = staging(reference_run, table)
    cols = [next(c for c in t.column_names if c == h or c.startswith(h)) for h in head]
    orows = [[_norm(v) for v in r] for r in zip(*[t.column(c).to_pylist() for c in cols], strict=True)]
    assert len(orows) == len(grows)
    used = [False] * len(orows)
    for g in grows:
        i = next(i for i, o in enumerate(orows) if not used[i] and all(map(_same, g, o)))
        used[i] = True


def test_reference_log_adds_up(reference_run: Path) -> None:
    lg = log(reference_run)
    assert pc.all(pc.equal(lg.column("read"), pc.add(pc.add(lg.column("accepted"), lg.column("quarantined")),
                                                      lg.column("filtered")))).as_py()
