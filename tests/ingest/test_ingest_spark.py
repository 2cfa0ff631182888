"""Ingestion on Spark (issue 24): the files parsed by Spark's executors give the same published tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from signaux_faibles.config import Settings
from signaux_faibles.engine import spark_session
from signaux_faibles.ingest import ingest_batch
from signaux_faibles.twin import TwinConfig, generate

pytestmark = pytest.mark.spark

VOLATILE = ("path", "ingested_at", "seconds")


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    session = spark_session(Settings(data_dir=tmp_path_factory.mktemp("spark-ingest-data")))
    yield session
    session.stop()


def _tables(data: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("staging", "filtered", "quarantine"):
        for f in sorted((data / part).glob("*/*.parquet")):
            out[f"{part}/{f.parent.name}/{f.name}"] = pq.read_table(f)
    out["import_log"] = pq.read_table(data / "import_log.parquet").drop(list(VOLATILE))
    return out


@pytest.mark.parametrize("urssaf_format", ["siret", "account"])
def test_spark_ingestion_publishes_the_same_tables(spark: Any, tmp_path: Path, urssaf_format: str) -> None:
    """Two batches (an initial load with defects, then a monthly batch), with URSSAF files keyed by SIRET or by
    account only (the account map parsed on the driver first): every staging, filtered and quarantine file and
    the import log equal the default engine's."""
    twin = tmp_path / "twin"
    summary = generate(TwinConfig(out=twin, companies=250, months=24, seed=13, monthly_batches=1, defects=0.01,
                                  urssaf_format=urssaf_format))  # fmt: skip
    for batch in summary.batches:
        local = ingest_batch(twin / batch, batch, tmp_path / "duckdb")
        distributed = ingest_batch(twin / batch, batch, tmp_path / "spark", spark=spark)
        assert [(r.file, r.status, r.read, r.accepted, r.quarantined, r.filtered) for r in distributed] == [
            (r.file, r.status, r.read, r.accepted, r.quarantined, r.filtered) for r in local]
    a, b = _tables(tmp_path / "duckdb"), _tables(tmp_path / "spark")
    assert sorted(a) == sorted(b)
    assert any(k.startswith("quarantine/") and v.num_rows for k, v in a.items())  # the defects reached it
    for name in a:
        assert a[name].equals(b[name]), name
    assert not (tmp_path / "spark" / ".ingest-spill").exists()  # the spill files are removed


def test_spark_submit_runs_the_command_line(tmp_path: Path) -> None:
    """The documented ``spark-submit … scripts/spark_main.py ingest … --engine spark`` works (docs/lists.md)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    summary = generate(TwinConfig(out=tmp_path / "twin", companies=80, months=24, seed=2))
    batch = summary.batches[0]
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, SF_DATA_DIR=str(tmp_path / "data"), PYSPARK_PYTHON=sys.executable)
    done = subprocess.run(
        [str(bin_dir / "spark-submit"), "--master", "local[1]", "--driver-memory", "1g",
         str(root / "scripts" / "spark_main.py"), "ingest", str(tmp_path / "twin" / batch), "--batch", batch,
         "--engine", "spark"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    log = pq.read_table(tmp_path / "data" / "import_log.parquet").to_pylist()
    assert log and all(r["status"] == "ok" for r in log if r["source"])
