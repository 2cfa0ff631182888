"""The discrete-time hazard model: estimator contract, composition of the hazards, censored rows, contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from signaux_faibles.model.artefact import TERM_COLUMNS, Calibrator, ColumnSubset, FailureModel
from signaux_faibles.model.dataset import PanelEncoder, hazard_targets
from signaux_faibles.model.hazard import HazardClassifier, compose, interval_rows
from signaux_faibles.model.metrics import Thresholds

FAST = {"n_estimators": 30, "num_leaves": 4, "min_child_samples": 5}
# Weight 2 is not a repeated row: LightGBM's min_child_samples counts rows, and the logistic model's imputation and
# standardisation are fitted on the rows (the exposure weights enter the regression only).
EXPECTED_FAILURES = {
    "lightgbm": {"check_sample_weight_equivalence_on_dense_data": "LightGBM counts rows in min_child_samples"},
    "logistic": {"check_sample_weight_equivalence_on_dense_data": "the standardisation is fitted on the rows"},
}


@parametrize_with_checks(
    [HazardClassifier(**FAST), HazardClassifier(base="logistic", C=1.0)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES[est.base],
)
def test_sklearn_contract(estimator, check):  # type: ignore[no-untyped-def]
    """Without durations the hazard model is a plain classifier: scikit-learn's checks apply."""
    check(estimator)


def _survival(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows with a risk driven by x0, a month of the first judgment (exponential) and a censoring month."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    t = np.ceil(rng.exponential(80 / np.exp(0.9 * X[:, 0])))
    c = rng.integers(1, 30, size=n).astype(float)  # months observed before the batch
    y = (t <= c).astype(int)
    return X, y, np.where(y == 1, t, c), t


def test_the_horizon_probability_is_the_composition_of_the_hazards() -> None:
    X, y, d, _ = _survival()
    est = HazardClassifier(**FAST).fit(X, y, duration=d)
    h = est.predict_hazards(X[:50])
    cum = est.predict_cumulative(X[:50])
    expected = 1.0 - np.cumprod(1.0 - h, axis=1)
    np.testing.assert_allclose(cum, expected, rtol=1e-12)
    np.testing.assert_allclose(est.predict_proba(X[:50])[:, 1], 1.0 - np.prod(1.0 - h, axis=1), rtol=1e-9)
    np.testing.assert_allclose(est.margin(X[:50]), compose(np.log(h / (1 - h))), rtol=1e-9)
    assert (np.diff(cum, axis=1) >= 0).all()  # a term structure never decreases
    assert cum.shape == (50, 4) and est.intervals == (3, 6, 12, 18)


def test_censored_rows_enter_the_fit_of_the_intervals_they_reach() -> None:
    """A row observed for 4 months enters the first interval fully and the second for a third of it; it never
    enters the later intervals, and its (unknown) 18-month outcome is never used."""
    y = np.array([0, 0, 1, 1, 0])
    d = np.array([4.0, 20.0, 2.0, 8.0, 1.0])
    at_risk, event, w = interval_rows(y, d, 3, 6)
    np.testing.assert_array_equal(at_risk, [True, True, False, True, False])
    np.testing.assert_array_equal(event, [0, 0, 0, 0, 0])
    np.testing.assert_allclose(w[at_risk], [1 / 3, 1.0, 1.0])
    at_risk, event, w = interval_rows(y, d, 0, 3)
    np.testing.assert_array_equal(at_risk, [True, True, True, True, True])
    np.testing.assert_array_equal(event, [0, 0, 1, 0, 0])
    np.testing.assert_allclose(w, [1.0, 1.0, 1.0, 1.0, 1 / 3])
    X, y2, d2, _ = _survival()
    est = HazardClassifier(**FAST).fit(X, y2, duration=d2)
    assert est.interval_rows_[0] == len(X)  # every row observed at least a month enters the first interval
    assert est.interval_rows_[-1] == int((d2 > 12).sum())
    # the short (censored) rows change the fit: they are used, not dropped
    long = d2 >= 18
    only_long = HazardClassifier(**FAST).fit(X[long], y2[long], duration=d2[long])
    assert not np.allclose(only_long.predict_hazards(X[:20])[:, 0], est.predict_hazards(X[:20])[:, 0])


def test_censoring_does_not_bias_the_hazards() -> None:
    """With the actuarial weights, heavy censoring leaves the 3-month probability close to the true one."""
    rng = np.random.default_rng(3)
    n = 40_000
    X = rng.normal(size=(n, 1))
    t = np.ceil(rng.exponential(24.0, size=n))  # monthly hazard ~4 %, no covariate effect
    c = rng.integers(1, 10, size=n).astype(float)
    y = (t <= c).astype(int)
    est = HazardClassifier(base="logistic", C=1.0).fit(X, y, duration=np.where(y == 1, t, c))
    p3 = float(est.predict_cumulative(X[:1000])[:, 0].mean())
    assert p3 == pytest.approx(float((t <= 3).mean()), abs=0.01)


def test_ranks_by_risk_and_clones() -> None:
    X, y, d, t = _survival(seed=1)
    est = HazardClassifier(**FAST).fit(X[:3000], y[:3000], duration=d[:3000])
    assert roc_auc_score(t[3000:] <= 18, est.predict_proba(X[3000:])[:, 1]) > 0.7
    assert not hasattr(clone(est), "models_") and clone(est).get_params() == est.get_params()


@pytest.mark.parametrize("base", ["lightgbm", "logistic"])
def test_contributions_add_up_to_the_horizon_log_odds(base: str) -> None:
    X, y, d, _ = _survival(seed=2)
    est = HazardClassifier(**FAST, base=base).fit(X, y, duration=d)
    c = est.contributions(X[:300])
    assert c.shape == (300, 4)
    np.testing.assert_allclose(c.sum(axis=1), est.margin(X[:300]), atol=1e-9)
    assert np.ptp(c[:, -1]) == 0  # one bias for every row (the waterfall's base probability)
    # the risk driver carries the contributions
    assert np.abs(c[:, 0]).mean() > 3 * np.abs(c[:, 1:3]).mean()


def test_an_interval_without_judgment_is_a_constant() -> None:
    X, y, d, _ = _survival(seed=4)
    y = np.where(d > 3, 0, y)  # no judgment after the first interval
    est = HazardClassifier(**FAST).fit(X, y, duration=d)
    assert est.interval_events_[1:] == [0, 0, 0]
    h = est.predict_hazards(X[:10])
    assert (h[:, 1:] < 1e-5).all()
    np.testing.assert_allclose(est.contributions(X[:10]).sum(axis=1), est.margin(X[:10]), atol=1e-9)


def test_panel_targets_censor_at_the_month_before_the_batch() -> None:
    df = pd.DataFrame({
        "periode": pd.PeriodIndex(["2026-01", "2026-07", "2026-08", "2026-03", "2026-05"], freq="M"),
        "time_til_failure": [5.0, None, None, -1.0, 2.0],
    })  # fmt: skip
    event, duration = hazard_targets(df, pd.Period("2026-09", "M"))
    np.testing.assert_array_equal(event, [1, 0, 0, 0, 1])
    np.testing.assert_array_equal(duration, [5.0, 1.0, 0.0, 0.0, 2.0])


def test_term_structure_of_a_saved_model() -> None:
    """``FailureModel.term_structure``: the hazard's shape, its 18-month point the displayed probability, 1 at
    every horizon for a signal fort; a subset of the columns is seen from all of them."""
    X, y, d, _ = _survival(seed=5)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(z=0.0)
    enc = PanelEncoder(columns=["a", "b", "c", "z"], categorical=[]).fit(df)
    hz = ColumnSubset(HazardClassifier(**FAST), [0, 1, 2], 4).fit(enc.transform(df), y, duration=d)
    raw = 1 / (1 + np.exp(-hz.margin(enc.transform(df))))
    model = FailureModel(kind="hazard", encoder=enc, estimator=hz, calibrator=Calibrator("platt").fit(raw, y),
                         thresholds=Thresholds(0.3, 0.1), groups={}, term_model=hz)  # fmt: skip
    rows = df.head(40).assign(signal_fort=[True] + [False] * 39)
    ts = model.term_structure(rows)
    assert list(ts.columns) == list(TERM_COLUMNS)
    np.testing.assert_allclose(ts["probability_18m"], model.predict_proba(rows))
    assert (ts.iloc[0] == 1.0).all()
    assert (ts.diff(axis=1).iloc[:, 1:].to_numpy() >= -1e-12).all()
    c = model.contributions(rows)
    assert (c["z"] == 0).all()
    np.testing.assert_allclose(c.sum(axis=1), model.margin(rows), atol=1e-9)
