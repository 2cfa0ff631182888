"""Scoring by chunks of companies gives the same list as scoring them all at once (every column, the summary)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from signaux_faibles.config import Settings
from signaux_faibles.lists.score import score

ADJUSTMENTS = ["urssaf_2021", "tailoring_2022"]


def _score(trained: tuple[Path, str, object], work: Path, chunk: int) -> Path:
    """A copy of the trained data directory with two lists (the previous month's, then the batch's), scored by
    chunks of ``chunk`` companies, expert adjustments on (they read the most history)."""
    data, batch, _ = trained
    for part in ("panel", "clean", "models"):
        shutil.copytree(data / part, work / part)
    model = work / "models" / batch / "model.joblib"
    score(work, "2608", "2026-07", model_path=model, adjustments=ADJUSTMENTS, chunk_companies=chunk)
    score(work, batch, adjustments=ADJUSTMENTS, chunk_companies=chunk)
    return work


@pytest.fixture(scope="module")
def at_once_and_by_chunks(
    trained: tuple[Path, str, object], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, str]:
    at_once = _score(trained, tmp_path_factory.mktemp("at_once") / "data", 1_000_000)
    by_chunks = _score(trained, tmp_path_factory.mktemp("by_chunks") / "data", 37)
    return at_once, by_chunks, trained[1]


@pytest.mark.parametrize("batch", ["2608", None])
def test_chunks_give_the_same_list(at_once_and_by_chunks: tuple[Path, Path, str], batch: str | None) -> None:
    at_once, by_chunks, last = at_once_and_by_chunks
    b = batch or last
    for name in ("scores.parquet", "diff.parquet"):
        one = pd.read_parquet(at_once / "lists" / b / name)
        many = pd.read_parquet(by_chunks / "lists" / b / name)
        # the same companies in the same order, the same levels, flags and explanations; the numbers may differ in
        # their last bits (the model's matrix products on blocks of other sizes)
        pd.testing.assert_frame_equal(one, many, check_exact=False, rtol=1e-12, atol=1e-15)
    one_s, many_s = (
        json.loads((d / "lists" / b / "summary.json").read_text("utf-8")) for d in (at_once, by_chunks)
    )
    assert one_s == many_s
    scores = pd.read_parquet(by_chunks / "lists" / b / "scores.parquet")
    assert len(scores) > 3 * 37 and scores.micro_expl.notna().any()  # several chunks, explanations in them
    assert sum(v["raised"] + v["lowered"] for v in one_s["adjustments"].values()) > 0


def test_chunk_size_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().score_chunk_companies == 50_000
    monkeypatch.setenv("SF_SCORE_CHUNK_COMPANIES", "1000")
    assert Settings().score_chunk_companies == 1000
