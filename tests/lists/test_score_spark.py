"""Scoring on Spark (``engine="spark"``, ``mapInPandas`` over the saved model) gives the DuckDB engine's list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from signaux_faibles.lists.score import score

pytestmark = pytest.mark.spark

ADJUSTMENTS = ["urssaf_2021", "tailoring_2022"]


def _score(trained: tuple[Path, str, object], work: Path, engine: str) -> Path:
    """Two lists (the previous month's, then the batch's) on a copy of the trained twin, with the one model the
    DuckDB side trained, by chunks of 200 companies (several Spark partitions)."""
    data, batch, _ = trained
    for part in ("panel", "clean", "models"):
        shutil.copytree(data / part, work / part)
    model = work / "models" / batch / "model.joblib"
    for b, period in (("2608", "2026-07"), (batch, None)):
        score(work, b, period, model_path=model, adjustments=ADJUSTMENTS, engine=engine, chunk_companies=200)
    return work


def test_spark_scores_the_same_list_as_duckdb(
    trained: tuple[Path, str, object], tmp_path_factory: pytest.TempPathFactory
) -> None:
    duck = _score(trained, tmp_path_factory.mktemp("duckdb") / "data", "duckdb")
    spark = _score(trained, tmp_path_factory.mktemp("spark") / "data", "spark")
    for b in ("2608", trained[1]):
        a = pd.read_parquet(duck / "lists" / b / "scores.parquet")
        s = pd.read_parquet(spark / "lists" / b / "scores.parquet")
        assert list(a.siren) == list(s.siren) and len(a) > 600  # the same companies, ranked the same
        assert (a.probability - s.probability).abs().max() <= 1e-6
        for col in ("alert", "alert_pre_adjustment", "adjustments", "macro_expl", "micro_expl", "what_if",
                    "explication_procedure", "hausse_urssaf", "ap_12m", "first_alert", "procedure_en_cours"):  # fmt: skip
            assert a[col].equals(s[col]), col
        assert a.macro_expl.notna().sum() > 10
        pd.testing.assert_frame_equal(a, s, check_exact=False, rtol=1e-9)  # and every other column
        for name in ("diff.parquet",):
            pd.testing.assert_frame_equal(
                pd.read_parquet(duck / "lists" / b / name), pd.read_parquet(spark / "lists" / b / name)
            )
        sa, ss = (json.loads((d / "lists" / b / "summary.json").read_text("utf-8")) for d in (duck, spark))
        assert sa == ss
