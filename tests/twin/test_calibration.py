"""The twin is as hard as reality: its calibration statistics fall in their target ranges."""

from __future__ import annotations

from pathlib import Path

from signaux_faibles.twin import TwinConfig, generate
from signaux_faibles.twin.calibration import markdown, twin_stats


def test_calibration_statistics_in_range_on_a_mid_size_twin(tmp_path: Path) -> None:
    generate(TwinConfig(out=tmp_path, companies=4000, months=60, seed=3))
    stats = twin_stats(tmp_path)
    bad = [s for s in stats if not s.ok]
    assert not bad, markdown(stats)
    by = {s.name: s.value for s in stats}
    assert by["perimeter"] > 0.4 * by["companies"]  # the perimeter excludes something, keeps most
    assert by["perimeter"] < 0.9 * by["companies"]
