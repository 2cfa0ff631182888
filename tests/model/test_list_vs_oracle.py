"""``list_vs_oracle``: the list's AUC-PR against the twin's oracle, on the listed companies with a known outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from signaux_faibles.model.metrics import list_vs_oracle, monthly_auc_pr


def _truth(n: int, rng: np.random.Generator) -> pd.DataFrame:
    p = rng.uniform(0.0, 0.3, n)
    return pd.DataFrame({
        "siren": [f"{100000000 + i}" for i in range(n)], "periode": pd.Timestamp("2026-08-01"),
        "p_failure_18m": p, "failure_18m": (rng.random(n) < p).astype(float),
    })  # fmt: skip


def test_ratio_on_the_listed_companies_with_a_known_outcome() -> None:
    rng = np.random.default_rng(0)
    truth = _truth(2000, rng)
    truth.loc[:9, "failure_18m"] = np.nan  # outcome unknown: left out
    scores = pd.DataFrame({
        "siren": truth.siren, "periode": [dt.date() for dt in truth.periode],  # dates, as in scores.parquet
        "probability": truth.p_failure_18m + rng.normal(0, 0.05, len(truth)),
    })  # fmt: skip
    # a signal fort (already in proceedings, probability 1) has no ground-truth row: it drops out
    scores.loc[len(scores)] = ["999999999", truth.periode.iloc[0].date(), 1.0]
    vs = list_vs_oracle(scores, truth)
    assert vs is not None
    known = truth.iloc[10:]
    y = known.failure_18m.to_numpy().astype(int)
    assert vs["rows"] == len(known) and vs["failures"] == y.sum()
    model = average_precision_score(y, scores.probability.iloc[10:2000])
    oracle = average_precision_score(y, known.p_failure_18m)
    assert vs["auc_pr"] == model and vs["oracle_auc_pr"] == oracle and vs["ratio"] == model / oracle
    assert vs["ratio"] < 1.0  # a noisy copy of the oracle ranks worse
    # the oracle itself scores a ratio of 1
    same = scores.iloc[:2000].assign(probability=truth.p_failure_18m.to_numpy())
    assert list_vs_oracle(same, truth)["ratio"] == 1.0  # type: ignore[index]


def test_too_few_known_failures_give_none() -> None:
    truth = _truth(50, np.random.default_rng(1)).assign(failure_18m=0.0)
    scores = truth[["siren", "periode"]].assign(probability=0.1)
    assert list_vs_oracle(scores, truth) is None


def test_monthly_auc_pr_ranks_within_each_month() -> None:
    # two months; the scores rank perfectly within each month but month 2's are all lower than month 1's
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.1, 0.05])
    month = np.array(["2025-01"] * 4 + ["2025-02"] * 4)
    assert monthly_auc_pr(y, p, month) == 1.0
    assert average_precision_score(y, p) < 1.0  # pooled, month 2's failure comes after month 1's survivors
    # a month with a single class is skipped, not counted as 0 or 1
    y3 = np.concatenate([y, [0, 0]])
    p3 = np.concatenate([p, [0.99, 0.98]])
    m3 = np.concatenate([month, ["2025-03"] * 2])
    assert monthly_auc_pr(y3, p3, m3) == 1.0
    # the mean of the months' AUC-PR
    p_bad = p.copy()
    p_bad[4] = 0.0  # month 2's failure ranked last of its month
    expected = (1.0 + average_precision_score(y[4:], p_bad[4:])) / 2
    assert monthly_auc_pr(y, p_bad, month) == expected
