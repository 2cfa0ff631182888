"""A Spark master URL Spark does not accept stops ingest, panel and monthly with a clear error (issue 24)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from signaux_faibles.cli import app
from signaux_faibles.config import Settings
from signaux_faibles.engine import SPARK_MASTER, SparkUnavailable, spark_session


@pytest.mark.parametrize("master", ["local", "local[2]", "local[*]", "local[2,3]", "spark://host:7077", "yarn",
                                    "k8s://https://host:6443", "mesos://host:5050"])  # fmt: skip
def test_the_masters_spark_accepts(master: str) -> None:
    assert SPARK_MASTER.match(master)


def test_a_wrong_master_is_refused_before_spark_starts(tmp_path: Path) -> None:
    with pytest.raises(SparkUnavailable, match=r"spark_master 'locall\[2\]'.*expected local"):
        spark_session(Settings(data_dir=tmp_path, spark_master="locall[2]"))


def test_ingest_panel_and_monthly_say_it_and_publish_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "2609"
    folder.mkdir()
    (folder / "sigfaible_pcoll.csv").write_text("Siret;Dt_effet;Cd_fin_pcoll;Cd_dept\n")
    monkeypatch.setenv("SF_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SF_SPARK_MASTER", "foo://")
    runner = CliRunner()
    for args in (["ingest", str(folder), "--batch", "2609", "--engine", "spark"],
                 ["panel", "--batch", "2609", "--engine", "spark"],
                 ["monthly", str(folder), "--batch", "2609", "--engine", "spark"]):  # fmt: skip
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert "spark_master 'foo://'" in " ".join(r.output.split()), (args, r.output)
        assert "Traceback" not in r.output
    assert not (tmp_path / "data" / "staging").exists()
