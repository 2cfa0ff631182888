"""``run_benchmark`` and the ``model benchmark`` command: file formats, protocols, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from signaux_faibles.model import FailureClassifier, read_arff, read_table, run_benchmark
from signaux_faibles.model.cli import model_app

QUICK = FailureClassifier(n_estimators=40, n_seeds=1, n_ratio_seeds=1, ratio_top_k=3)
KEYS = {"auc_roc", "auc_pr", "brier", "n_rows", "prevalence", "protocol", "n_splits"}

ARFF = """% a comment
@relation toy
@attribute Attr1 numeric
@attribute Attr2 real
@attribute class {0,1}
@data
1.5,?,0
-0.25,3,1
?,2.5,0
"""


def test_arff_reader_missing_values_and_class(tmp_path: Path):
    path = tmp_path / "toy.arff"
    path.write_text(ARFF)
    df = read_arff(path)
    assert list(df.columns) == ["Attr1", "Attr2", "class"]
    assert df["class"].tolist() == [0, 1, 0]
    assert df["Attr1"].isna().tolist() == [False, False, True]
    assert df["Attr2"].isna().tolist() == [True, False, False]
    pd.testing.assert_frame_equal(read_table(path), df)


def test_kfold10_on_a_small_csv(small_csv: Path):
    res = run_benchmark(small_csv, "failed", None, None, "kfold10", None, None, estimator=QUICK)
    assert res.keys() >= KEYS
    assert res["protocol"] == "kfold10" and res["n_splits"] == 10 and res["n_rows"] == 800
    assert res["n_features"] == 8  # x0..x5, siren and periode (no id/time given: they are features)
    assert 0.7 < res["auc_roc"]["mean"] <= 1.0 and res["auc_roc"]["std"] >= 0
    assert res["auc_pr"]["mean"] > res["prevalence"]
    assert 0 < res["brier"]["mean"] < 0.2
    assert res["brier_probabilities"] == "raw"


def test_seed_draws_other_hold_outs_of_the_same_protocol(small_csv: Path):
    from signaux_faibles.model.benchmark import _splits

    y = pd.read_csv(small_csv)["failed"].to_numpy()
    first = list(_splits(y, None, None, "holdout90"))
    again = list(_splits(y, None, None, "holdout90", 0))
    other = list(_splits(y, None, None, "holdout90", 1))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again, strict=True))  # seed 0 is the default
    assert len(other) == 10 and not any(np.array_equal(a[1], b[1]) for a, b in zip(first, other, strict=True))
    for _, test in other:  # still stratified 90/10
        assert len(test) == 80 and y[test].sum() == round(y.mean() * 80)
    res = run_benchmark(small_csv, "failed", None, None, "holdout90", None, None, estimator=QUICK, n_splits=2,
                        seed=1)  # fmt: skip
    assert res["seed"] == 1 and res["n_splits"] == 2


def test_time_protocol_keeps_ids_apart(small_csv: Path, tmp_path: Path):
    res = run_benchmark(small_csv, "failed", "siren", "periode", "time", None, None, estimator=QUICK)
    assert res["protocol"] == "time" and res["n_splits"] == 1 and res["n_features"] == 6
    from signaux_faibles.model.benchmark import _splits

    df = pd.read_csv(small_csv)
    ((train, test),) = list(_splits(df["failed"].to_numpy(), df["siren"].to_numpy(), df["periode"], "time"))
    assert not set(df["siren"].iloc[train]) & set(df["siren"].iloc[test])
    assert df["periode"].iloc[train].max() < df["periode"].iloc[test].min()


def test_train_test_files_and_parquet(small_csv: Path, tmp_path: Path):
    df = pd.read_csv(small_csv)
    df.iloc[:600].to_parquet(tmp_path / "train.parquet")
    df.iloc[600:].to_csv(tmp_path / "test.csv", index=False)
    res = run_benchmark(None, "failed", "siren", None, "holdout90", tmp_path / "train.parquet",
                        tmp_path / "test.csv", estimator=QUICK)  # fmt: skip
    assert res["protocol"] == "train_test" and res["n_splits"] == 1 and res["n_rows"] == 800
    assert res["auc_roc"]["std"] == 0.0


def test_bad_inputs(small_csv: Path):
    with pytest.raises(ValueError, match="not in"):
        run_benchmark(small_csv, "nope", None, None, "kfold10", None, None)
    with pytest.raises(ValueError, match="--time"):
        run_benchmark(small_csv, "failed", None, None, "time", None, None)


def test_cli_prints_one_json_object_last(small_csv: Path):
    result = CliRunner().invoke(
        model_app, ["benchmark", "--data", str(small_csv), "--target", "failed", "--id", "siren",
                    "--protocol", "holdout90", "--splits", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    last = json.loads(result.output.strip().splitlines()[-1])
    assert last["protocol"] == "holdout90" and last["n_splits"] == 2
    assert {"mean", "std"} == set(last["auc_roc"])
    missing = CliRunner().invoke(model_app, ["benchmark", "--data", "/nonexistent.csv", "--target", "x"])
    assert missing.exit_code == 2


def test_polish_year1_holdout(polish_dir: Path):
    """The first of the ten published hold-outs on the real year-1 file, with the production configuration."""
    res = run_benchmark(polish_dir / "1year.arff", "class", None, None, "holdout90", None, None, n_splits=1)
    assert res["n_rows"] == 7027 and res["n_features"] == 64
    assert res["prevalence"] == pytest.approx(271 / 7027)
    assert res["n_splits"] == 1
    assert res["auc_roc"]["mean"] > 0.93
    assert np.isfinite(res["brier"]["mean"]) and res["brier"]["mean"] < 0.035
