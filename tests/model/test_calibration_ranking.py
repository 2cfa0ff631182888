"""The calibration displays probabilities; it must never reorder or tie the firms the model ranks (issue 19)."""

from __future__ import annotations

import numpy as np

from signaux_faibles.model.artefact import Calibrator


def test_isotonic_keeps_the_ranking_when_its_top_step_is_one() -> None:
    # the calibration's riskiest block all failed: the isotonic fit's top step is 1.0
    raw = np.linspace(0.01, 0.6, 200)
    y = (raw > 0.45).astype(int)
    cal = Calibrator("isotonic").fit(raw, y)
    assert cal.model.predict(np.array([0.9]))[0] == 1.0
    # the list: firms beyond the last knot, and inside the steps
    scores = np.sort(np.concatenate([np.linspace(0.61, 0.999, 100), np.linspace(0.02, 0.59, 100)]))
    p = cal.transform(scores)
    assert len(np.unique(p)) == len(scores)  # no tie, the top included
    assert (np.diff(p) > 0).all()  # the model's order
    assert p.min() >= 0.0 and p.max() <= 1.0
    np.testing.assert_allclose(p, cal.model.predict(scores), atol=1e-6)  # the displayed value barely moves


def test_every_calibration_is_strictly_increasing() -> None:
    rng = np.random.default_rng(0)
    raw = rng.uniform(0, 1, 2000)
    y = (rng.uniform(0, 1, 2000) < raw**3).astype(int)
    scores = np.sort(rng.uniform(0, 1, 500))
    for method in ("isotonic", "platt", "none"):
        p = Calibrator(method).fit(raw, y).transform(scores)
        assert (np.diff(p) > 0).all(), method
