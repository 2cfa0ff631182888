"""Training at national size (issue 24): what ``run_train`` reads, and the sample of the survivors.

The sample (``dataset.PanelSample``) keeps every failing company whole and a seeded share of the others, whole
too; its weights bring the calibrated probabilities back to the population's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from signaux_faibles.layout import batch_month
from signaux_faibles.model import train as train_module
from signaux_faibles.model.dataset import (
    load_panel,
    make_splits,
    panel_columns,
    panel_companies,
    sample_companies,
    sample_draw,
)
from signaux_faibles.model.train import TrainConfig, run_train, train, training_columns

#: The grids of the session's ``trained`` fixture (tests/conftest.py).
SMALL = {
    "lightgbm_grid": ({"n_estimators": 150, "num_leaves": 7, "min_child_samples": 50},
                      {"n_estimators": 150, "num_leaves": 15, "min_child_samples": 100}),
    "logistic_grid": ({"C": 0.01}, {"C": 0.1}),
    "n_seeds": 1,
}  # fmt: skip


def test_training_reads_only_its_columns_and_months(
    twin_panel: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run_train`` pushes a column and a month selection into the Parquet scan: fewer columns than the panel
    has, no month after the batch, and the same rows as the whole panel cut at the batch."""
    data, batch = twin_panel
    last = batch_month(batch)
    every = panel_columns(data)
    wanted = training_columns(every)
    assert len(wanted) < len(every)
    assert {"siren", "periode", "failure", "signal_fort", "time_til_failure"} <= set(wanted)
    assert "in_perimeter" not in wanted and "code_ape" not in wanted

    seen: dict[str, Any] = {}
    real_load = train_module.load_panel

    def spy(*args: Any, **kwargs: Any) -> pd.DataFrame:
        seen["df"] = real_load(*args, **kwargs)
        return seen["df"]

    class Stop(Exception):
        pass

    def stop(*args: Any, **kwargs: Any) -> None:
        seen["ground_truth"] = args[3]
        raise Stop

    monkeypatch.setattr(train_module, "load_panel", spy)
    monkeypatch.setattr(train_module, "train", stop)
    with pytest.raises(Stop):
        run_train(data, batch, cfg=TrainConfig(max_rows=10**9))
    df = seen["df"]
    assert list(df.columns) == wanted
    assert df.periode.max() <= last
    whole = load_panel(data)
    whole = whole[whole.periode <= last].reset_index(drop=True)
    pd.testing.assert_frame_equal(df, whole[wanted])  # same rows, same order, same values
    gt = seen["ground_truth"]
    if gt is not None:  # the twin's ground truth: its oracle columns and the months the comparisons read
        assert set(gt.columns) <= {"siren", "periode", "failure_18m", "p_failure_18m", "p_failure_18m_now"}
        months = pd.to_datetime(gt["periode"]).dt.to_period("M")
        assert months.max() <= last and months.min() > last - 36


def test_sample_keeps_failing_companies_whole_and_is_reproducible(twin_panel: tuple[Path, str]) -> None:
    data, batch = twin_panel
    last = batch_month(batch)
    companies, panel_last = panel_companies(data, last)
    assert panel_last is not None and panel_last >= last
    total = int(companies.rows.sum())
    assert sample_companies(companies, total) is None  # at or below the setting: the whole panel

    s = sample_companies(companies, total // 3, seed=1)
    assert s is not None and 0 < s.rate < 1
    kept = set(s.sirens)
    assert set(companies.siren[companies.failing]) <= kept  # every failing company
    survivors = companies[~companies.failing]
    share = survivors.siren.isin(kept).mean()
    assert abs(share - s.rate) < 0.1  # the others at the rate
    assert s.kept_rows == int(companies.rows[companies.siren.isin(kept)].sum())
    assert s.kept_rows < total // 2

    # whole companies: every row of a kept company is read, none of the others
    df = load_panel(data, ["siren", "periode", "failure"], until=last, sirens=s.sirens)
    assert set(df.siren) == kept
    counts = df.groupby("siren").size()
    expected = companies.set_index("siren").rows
    assert (counts == expected.loc[counts.index]).all()

    # reproducible with the seed, another seed draws other survivors
    again = sample_companies(companies, total // 3, seed=1)
    assert again == s
    other = sample_companies(companies, total // 3, seed=2)
    assert other is not None and set(other.sirens) != kept
    # the draw is independent of the split groups (another hash)
    assert not np.allclose(sample_draw(companies.siren, 0), sample_draw(companies.siren, 1))


def test_sampled_training_stays_calibrated_to_the_population(
    twin_panel: tuple[Path, str], trained: tuple[Path, str, Any]
) -> None:
    """Trained on every failing company and a third of the others, the weighted calibration gives probabilities
    close to the unsampled training's (the session's ``trained``) on the same rows, although the sample's
    prevalence is far higher; the evaluation is reported on the representative part."""
    data, batch, full = trained
    last = batch_month(batch)
    companies, _ = panel_companies(data, last)
    s = sample_companies(companies, int(companies.rows.sum()) // 3, seed=0)
    assert s is not None
    df = load_panel(data, training_columns(panel_columns(data)), until=last, sirens=s.sirens, float32=True)
    cfg = TrainConfig(**SMALL, refit=False, backtest_offsets=(), max_rows=s.max_rows)  # type: ignore[arg-type]
    logs: list[str] = []
    out = train(df, last, cfg, None, logs.append, sample=s)
    assert out.metrics["sample"]["rate"] == s.rate
    assert any("sample of the survivors" in line for line in logs)
    assert out.model.encoder.dtype == "float32"

    # the weighted calibration: on the sample's calibration rows, the weighted mean probability is the weighted
    # rate of failures (Horvitz–Thompson), the population's estimate; the sample's own rate is far higher
    model = out.evaluated["lightgbm"]
    sp = make_splits(df, cfg.splits, last)
    early_s = ~df.signal_fort.fillna(False).to_numpy(dtype=bool)
    calib = sp.calib & early_s
    w = s.weights(df.siren, df.failure)[calib]
    y = df.failure.to_numpy()[calib]
    p_calib = model.predict_proba(df.loc[calib])
    assert np.average(p_calib, weights=w) == pytest.approx(np.average(y, weights=w), rel=0.02)
    assert y.mean() > 1.5 * np.average(y, weights=w)

    # against the unsampled training, every company of the panel in the calibration's months (not yet judged)
    whole = load_panel(data)
    whole = whole[whole.periode <= last].reset_index(drop=True)
    splits = make_splits(whole, cfg.splits, last)
    early = ~whole.signal_fort.fillna(False).to_numpy(dtype=bool)
    rows = whole[early & (whole.periode >= splits.valid_start).to_numpy() & (whole.periode <= splits.dev_end).to_numpy()]
    p_sampled = model.predict_proba(rows)
    p_full = full.evaluated["lightgbm"].predict_proba(rows)
    in_sample = df.failure.to_numpy()[(df.periode >= splits.valid_start).to_numpy()
                                      & (df.periode <= splits.dev_end).to_numpy() & early_s].mean()  # fmt: skip
    assert in_sample > 1.5 * p_full.mean()  # unweighted, the sample would overstate the risk by half or more
    assert abs(p_sampled.mean() - p_full.mean()) < 0.25 * p_full.mean()
    assert np.corrcoef(p_sampled, p_full)[0, 1] > 0.3

    # reported on the representative part (companies drawn below the rate): its rows only, the population's
    # prevalence rather than the sample's
    test = out.metrics["lightgbm"]["test"]["without_signaux_forts"]
    reported = sp.test & s.representative(df.siren) & early_s
    assert test["rows"] == int(reported.sum()) < int((sp.test & early_s).sum())
    assert test["prevalence"] < df.failure.to_numpy()[sp.test & early_s].mean()

def test_sample_is_told_in_the_model_card(tmp_path: Path, trained: tuple[Path, str, Any]) -> None:
    from signaux_faibles.model.report import write_report

    _data, batch, full = trained
    sample = {"rate": 0.25, "seed": 0, "max_rows": 1000, "panel_rows": 5000, "panel_companies": 100,
              "failing_companies": 10, "rows": 1900, "companies": 32, "survivor_weight": 4.0,
              "representative_test_rows": 120}  # fmt: skip
    full.metrics["sample"] = sample
    try:
        html = write_report(full, tmp_path / "report.html", batch=batch, ground_truth=True).read_text()
    finally:
        del full.metrics["sample"]
    assert 'id="sample"' in html and "train_max_rows" in html and "0.2500" in html
    plain = write_report(full, tmp_path / "plain.html", batch=batch, ground_truth=True).read_text()
    assert 'id="sample"' not in plain


def test_train_max_rows_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The setting's default leaves the tests' and the demo's twins unsampled; below 1 000 it is refused."""
    from pydantic import ValidationError

    from signaux_faibles.config import get_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SF_CONFIG", raising=False)
    monkeypatch.delenv("SF_TRAIN_MAX_ROWS", raising=False)
    assert get_settings().train_max_rows >= 20_000 * 72
    monkeypatch.setenv("SF_TRAIN_MAX_ROWS", "50000")
    assert get_settings().train_max_rows == 50_000
    monkeypatch.setenv("SF_TRAIN_MAX_ROWS", "10")
    with pytest.raises(ValidationError, match="train_max_rows"):
        get_settings()
