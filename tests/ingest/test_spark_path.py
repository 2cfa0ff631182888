"""The staging tables read the same through the Spark backend as through DuckDB (engine.read_table)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ibis
import pytest

from signaux_faibles import engine
from signaux_faibles.config import Settings
from signaux_faibles.ingest import ingest_batch
from signaux_faibles.twin import TwinConfig, generate

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spark-path")
    summary = generate(TwinConfig(out=root / "twin", companies=100, months=24, seed=3))
    data = root / "data"
    for b in summary.batches:
        ingest_batch(root / "twin" / b, b, data)
    return data


@pytest.fixture(scope="module")
def spark(data_dir: Path) -> Iterator[ibis.BaseBackend]:
    con = engine.connect(Settings(data_dir=data_dir, spark_master="local[2]"), "spark")
    yield con
    engine.stop(con)


def _tables(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "staging").iterdir() if any(p.glob("*.parquet")))


def test_every_staging_table_reads_the_same_on_spark(data_dir: Path, spark: ibis.BaseBackend) -> None:
    duck = engine.connect(Settings(data_dir=data_dir))
    names = _tables(data_dir)
    assert {"stg_debit", "stg_cotisation", "stg_effectif", "stg_sirene"} <= set(names)
    for name in names:
        d = engine.read_table(duck, data_dir, "staging", name)
        s = engine.read_table(spark, data_dir, "staging", name)
        assert list(d.columns) == list(s.columns), name
        n = d.count().to_pyarrow().as_py()
        assert n == s.count().to_pyarrow().as_py(), name
        keys = [
            c for c in ("source_file", "source_line", "siret", "siren", "periode", "batch") if c in d.columns
        ]
        if not keys:
            continue
        left = d.select(*keys).order_by(keys).to_pandas()
        right = s.select(*keys).order_by(keys).to_pandas()
        assert len(left) == n
        assert left.astype(str).values.tolist() == right.astype(str).values.tolist(), name
    duck.disconnect()


def test_write_table_same_layout_on_both_engines(
    data_dir: Path, spark: ibis.BaseBackend, tmp_path: Path
) -> None:
    duck = engine.connect(Settings(data_dir=data_dir))
    out = {}
    for label, con in (("duckdb", duck), ("spark", spark)):
        t = engine.read_table(con, data_dir, "staging", "stg_debit")
        expr = t.group_by("siret").aggregate(n=t.count(), po=t.part_ouvriere.sum()).order_by("siret")
        written = engine.write_table(con, expr, tmp_path / label / "debit_by_siret")
        assert written == len(expr.execute())
        assert list((tmp_path / label / "debit_by_siret").glob("*.parquet"))
        back = engine.read_table(duck, tmp_path, label, "debit_by_siret").order_by("siret").to_pandas()
        out[label] = back
    assert out["duckdb"]["siret"].tolist() == out["spark"]["siret"].tolist()
    assert out["duckdb"]["n"].tolist() == out["spark"]["n"].tolist()
    assert out["duckdb"]["po"].round(6).tolist() == out["spark"]["po"].round(6).tolist()
    duck.disconnect()
