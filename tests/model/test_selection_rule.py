"""The list model's selection: the average by default, replaced only by a model that beats it beyond the noise of
the validation (Poisson bootstrap of its companies); never a model the logistic baseline beats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from signaux_faibles.model.artefact import Calibrator, FailureModel
from signaux_faibles.model.dataset import PanelEncoder
from signaux_faibles.model.metrics import Thresholds, weighted_average_precision
from signaux_faibles.model.train import _selection


class Column:
    """An estimator whose log-odds are one column of the matrix (each candidate reads its own column)."""

    def __init__(self, j: int) -> None:
        self.j = j

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        return X.iloc[:, self.j].to_numpy()


def _models(kinds: list[str]) -> dict[str, FailureModel]:
    enc = PanelEncoder(columns=kinds, categorical=[]).fit(pd.DataFrame({k: [0.0] for k in kinds}))
    return {k: FailureModel(kind=k, encoder=enc, estimator=Column(j), calibrator=Calibrator("none"),
                            thresholds=Thresholds(0.5, 0.2), groups={}) for j, k in enumerate(kinds)}  # fmt: skip


def _validation(noise: dict[str, float], n_companies: int = 3000, months: int = 4, seed: int = 1) -> tuple:
    """Rows of ``n_companies`` × ``months``: a latent risk, and each candidate's log-odds = risk + its noise."""
    rng = np.random.default_rng(seed)
    risk = np.repeat(rng.normal(-4.0, 1.2, n_companies), months)
    y = (rng.random(len(risk)) < 1 / (1 + np.exp(-risk))).astype(int)
    X = pd.DataFrame({k: risk + rng.normal(0, sd, len(risk)) for k, sd in noise.items()})
    companies = np.repeat(np.arange(n_companies).astype(str), months)
    return X, y, companies


def test_weighted_average_precision_is_scikit_learns() -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        n = int(rng.integers(5, 400))
        y = (rng.random(n) < 0.2).astype(int)
        p = np.round(rng.random(n), int(rng.integers(1, 4)))  # ties
        w = rng.poisson(1.0, n).astype(float)
        if (w * y).sum() == 0:
            assert weighted_average_precision(y, p, w) == 0.0
            continue
        assert weighted_average_precision(y, p, w) == pytest.approx(average_precision_score(y, p, sample_weight=w), abs=1e-12)


def test_candidates_within_the_noise_publish_the_average() -> None:
    """Four candidates of the same quality: whichever has the best point estimate, the average is published."""
    kinds = ["lightgbm", "logistic", "hazard", "average"]
    X, y, companies = _validation(dict.fromkeys(kinds, 0.8))
    logs: list[str] = []
    sel = _selection(_models(kinds), X, y, companies, None, logs.append, draws=100)
    assert sel["default"] == "average" and sel["selected"] == "average"
    assert all(v < sel["level"] for v in sel["wins_over_default"].values())
    assert sel["beats_baseline"] and "average by default" in logs[0]


def test_a_candidate_beating_the_average_beyond_the_noise_is_published() -> None:
    kinds = ["lightgbm", "logistic", "hazard", "average"]
    X, y, companies = _validation({"lightgbm": 0.1, "logistic": 1.5, "hazard": 1.5, "average": 1.2})
    sel = _selection(_models(kinds), X, y, companies, None, lambda s: None, draws=100)
    assert sel["wins_over_default"]["lightgbm"] >= 0.9 and sel["selected"] == "lightgbm"
    assert sel["scores"]["lightgbm"] == max(sel["scores"].values())


def test_a_model_the_logistic_baseline_beats_is_never_published() -> None:
    kinds = ["lightgbm", "logistic", "hazard", "average"]
    X, y, companies = _validation({"lightgbm": 3.0, "logistic": 0.2, "hazard": 3.0, "average": 2.5})
    sel = _selection(_models(kinds), X, y, companies, None, lambda s: None, draws=100)
    assert sel["selected"] == "logistic" and sel["beats_baseline"]


def test_without_the_average_the_logistic_baseline_is_the_default() -> None:
    kinds = ["lightgbm", "logistic"]
    X, y, companies = _validation({"lightgbm": 0.8, "logistic": 0.8})
    sel = _selection(_models(kinds), X, y, companies, None, lambda s: None, draws=100)
    assert sel["default"] == "logistic" and sel["selected"] == "logistic"
    X, y, companies = _validation({"lightgbm": 0.1, "logistic": 2.0})
    assert _selection(_models(kinds), X, y, companies, None, lambda s: None, draws=100)["selected"] == "lightgbm"


def test_the_draws_resample_companies_not_rows() -> None:
    """A company's months move together: with the rows of one company repeated, the bootstrap's spread is that of
    the companies (a row bootstrap would see many more independent rows and call noise a win)."""
    kinds = ["lightgbm", "average"]
    X1, y1, c1 = _validation({"lightgbm": 0.75, "average": 0.8}, n_companies=800, months=1, seed=3)
    many = pd.DataFrame(np.repeat(X1.to_numpy(), 12, axis=0), columns=X1.columns)
    sel_rows = _selection(_models(kinds), many, np.repeat(y1, 12), np.arange(len(many)).astype(str), None,
                          lambda s: None, draws=200)  # fmt: skip
    sel_companies = _selection(_models(kinds), many, np.repeat(y1, 12), np.repeat(c1, 12), None, lambda s: None,
                               draws=200)  # fmt: skip
    d_rows = abs(sel_rows["wins_over_default"]["lightgbm"] - 0.5)
    d_companies = abs(sel_companies["wins_over_default"]["lightgbm"] - 0.5)
    assert d_companies < d_rows  # the same point difference is less sure when companies are resampled
