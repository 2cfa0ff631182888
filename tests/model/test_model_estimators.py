"""The production classifier and the logistic pipeline: estimator contract, missing values, ratio features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from signaux_faibles.model import FailureClassifier, make_baseline_lightgbm, make_logistic_pipeline

FAST = {
    "n_estimators": 30,
    "n_seeds": 1,
    "n_ratio_seeds": 1,
    "n_xgb_seeds": 1,
    "n_xgb_ratio_seeds": 1,
    "ratio_top_k": 3,
}
LGB_ONLY = {"n_xgb_seeds": 0, "n_xgb_ratio_seeds": 0}


# LightGBM's min_child_samples counts rows, not weights: weight 2 is not the same as a repeated row.
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": "LightGBM counts rows in min_child_samples"
}


@parametrize_with_checks([FailureClassifier(**FAST)], expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_fit_returns_self_and_learns_underscored_state(small_data):
    X, y = small_data
    clf = FailureClassifier(**FAST)
    assert clf.fit(X, y) is clf
    assert list(clf.classes_) == [0, 1]
    assert clf.n_features_in_ == 6
    assert list(clf.feature_names_in_) == list(X.columns)
    assert len(clf.boosters_) == 4
    assert [type(b).__name__ for b in clf.boosters_] == ["LGBMClassifier"] * 2 + ["XGBClassifier"] * 2
    assert clf.booster_uses_ratios_ == [False, True, False, True]
    assert len(clf.ratio_pairs_) == 3 * 2
    # params untouched by fit, and clone gives an unfitted twin
    assert clf.get_params()["n_estimators"] == 30
    assert not hasattr(clone(clf), "boosters_")


def test_ranks_held_out_rows_with_missing_values(small_data):
    X, y = small_data
    assert X.isna().to_numpy().any()
    clf = FailureClassifier(n_estimators=150, n_seeds=1, n_ratio_seeds=1).fit(X.iloc[:450], y[:450])
    p = clf.predict_proba(X.iloc[450:])
    assert p.shape == (150, 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert roc_auc_score(y[450:], p[:, 1]) > 0.75


def test_ratio_pairs_come_from_training_columns_only(small_data):
    X, y = small_data
    clf = FailureClassifier(n_estimators=30, n_seeds=0, n_ratio_seeds=1, ratio_top_k=3, **LGB_ONLY).fit(X, y)
    assert clf.booster_uses_ratios_ == [True]
    used = {i for pair in clf.ratio_pairs_ for i in pair}
    assert used <= set(range(6))
    assert 2 in used  # the ratio-driven column x2 is among the most useful
    plain = FailureClassifier(n_estimators=30, n_seeds=1, ratio_top_k=0, **LGB_ONLY).fit(X, y)
    assert plain.ratio_pairs_ == [] and plain.booster_uses_ratios_ == [False]
    # without ratio columns, the XGBoost members only take the plain view (so n_ratio_seeds=0 means no ratios at all)
    mixed = FailureClassifier(
        n_estimators=30, n_seeds=1, n_ratio_seeds=0, n_xgb_seeds=1, n_xgb_ratio_seeds=1
    ).fit(X, y)
    assert mixed.ratio_pairs_ == [] and mixed.booster_uses_ratios_ == [False, False]


@pytest.mark.parametrize(
    "params",
    [
        FAST,
        {**FAST, **LGB_ONLY},
        {**FAST, "n_seeds": 0, "n_ratio_seeds": 0},
        {**FAST, "n_xgb_ratio_seeds": 2},
    ],
)
def test_contributions_sum_to_the_margin_for_every_member_type(small_data, params):
    X, y = small_data
    clf = FailureClassifier(**params).fit(X, y)
    c = clf.contributions(X)
    assert c.shape == (len(X), X.shape[1] + 1)
    np.testing.assert_allclose(c.sum(axis=1), clf.margin(X), rtol=0, atol=1e-9)
    # the margin is the mean raw score of the members, and its sigmoid ranks like the averaged probability
    p = clf.predict_proba(X)[:, 1]
    assert roc_auc_score(y, p) > 0.75 and roc_auc_score(y, clf.margin(X)) > 0.75
    # XGBoost's own decomposition (single precision) matches its members' share before the residue goes to the bias
    for b, r in zip(clf.boosters_, clf.booster_uses_ratios_, strict=True):
        if type(b).__name__ == "XGBClassifier" and not r:
            own = b.get_booster().predict(xgb.DMatrix(X.to_numpy(dtype=float)), pred_contribs=True)
            np.testing.assert_allclose(
                own.sum(axis=1), b.predict(X.to_numpy(dtype=float), output_margin=True), atol=1e-4
            )


def test_deterministic_for_a_seed(small_data):
    X, y = small_data
    a = FailureClassifier(**FAST, random_state=3).fit(X, y).predict_proba(X)
    b = FailureClassifier(**FAST, random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_string_labels_and_binary_only(small_data):
    X, y = small_data
    labels = np.where(y == 1, "failed", "alive")
    clf = FailureClassifier(**FAST).fit(X, labels)
    assert list(clf.classes_) == ["alive", "failed"]
    assert set(clf.predict(X)) <= {"alive", "failed"}
    with pytest.raises(ValueError, match="Only binary"):
        FailureClassifier(**FAST).fit(X, np.arange(len(y)) % 3)


def test_probabilities_roughly_calibrated(small_data):
    X, y = small_data
    p = cross_val_score(
        FailureClassifier(n_estimators=100, n_seeds=1, n_ratio_seeds=0), X, y, cv=3, scoring="neg_brier_score"
    )
    assert -p.mean() < 0.1  # prevalence ~0.13: no resampling, so Brier stays below the prior's ~0.11


def test_logistic_pipeline_and_baseline(small_data):
    X, y = small_data
    pipe = make_logistic_pipeline()
    assert [name for name, _ in pipe.steps] == ["impute", "scale", "logreg"]
    p = pipe.fit(X, y).predict_proba(X)[:, 1]
    assert roc_auc_score(y, p) > 0.7
    base = make_baseline_lightgbm().fit(X, y)
    assert base.predict_proba(pd.DataFrame(X)).shape == (len(y), 2)
