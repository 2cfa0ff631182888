"""Degenerate alert thresholds are refused: the documented volume rule replaces them, and says why (issue 19)."""

from __future__ import annotations

import numpy as np

from signaux_faibles.model.metrics import (
    FALLBACK_HIGH_SHARE,
    FALLBACK_MODERATE_SHARE,
    Thresholds,
    alert_levels,
    degenerate,
)


def test_sound_thresholds_are_kept() -> None:
    rng = np.random.default_rng(0)
    y = rng.uniform(size=5000) < 0.04
    p = np.clip(np.where(y, rng.beta(4, 3, 5000), rng.beta(1, 12, 5000)), 0, 1)
    t = Thresholds.fit(y, p)
    assert t.fallback is None and t.high > t.moderate > 0
    assert "fallback" not in t.to_dict()


def test_every_row_alerted_falls_back_to_volumes() -> None:
    """A threshold at 0 (every test row alerted, as seen on a 2 000-company twin) is refused."""
    rng = np.random.default_rng(2)
    y = rng.uniform(size=20_000) < 0.03
    p = rng.uniform(0, 0.05, size=20_000)  # no separation at all: F2 takes (nearly) everyone
    t = Thresholds.fit(y, p)
    assert t.fallback is not None and "fallback" in t.to_dict()
    levels = alert_levels(p, t)
    assert abs((levels == "Alerte seuil F1").mean() - FALLBACK_HIGH_SHARE) < 0.005
    assert abs((levels != "Pas d'alerte").mean() - FALLBACK_MODERATE_SHARE) < 0.005


def test_equal_thresholds_fall_back() -> None:
    assert degenerate(np.linspace(0, 1, 100), 0.169, 0.169) is not None  # F0.5 = F2: no risque modéré
    rng = np.random.default_rng(1)
    p = rng.uniform(size=10_000)
    y = rng.uniform(size=10_000) < p**8
    t = Thresholds.fit(y, p)
    if t.fallback is not None:  # whatever the reason, the volumes of the rule
        share_high = (p >= t.high).mean()
        assert abs(share_high - FALLBACK_HIGH_SHARE) < 0.01


def test_over_a_third_alerted_is_degenerate() -> None:
    p = np.linspace(0, 1, 100)
    assert degenerate(p, 0.9, 0.5) is not None and "third" in str(degenerate(p, 0.9, 0.5))
    assert degenerate(p, 0.95, 0.8) is None
