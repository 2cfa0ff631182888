"""``list_vs_oracle``: the list's AUC-PR against the twin's oracle, on the listed companies with a known outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from signaux_faibles.model.metrics import list_vs_oracle


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
