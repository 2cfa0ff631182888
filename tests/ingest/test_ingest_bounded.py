"""The ingest's memory is bounded by the largest file (issue 24): each file's rows leave memory once parsed, and
the staging tables are written by chunks, with the same result at any chunk size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from signaux_faibles.ingest import _run, ingest_batch
from signaux_faibles.twin import TwinConfig, generate


def _tables(data: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("staging", "filtered", "quarantine"):
        for f in sorted((data / part).glob("*/*.parquet")):
            out[f"{part}/{f.parent.name}/{f.name}"] = pq.read_table(f)
    out["import_log"] = pq.read_table(data / "import_log.parquet").drop(["path", "ingested_at", "seconds"])
    return out


def test_rows_leave_memory_once_parsed_and_any_chunk_size_gives_the_same_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    twin = tmp_path / "twin"
    summary = generate(TwinConfig(out=twin, companies=150, months=24, seed=21, monthly_batches=1, defects=0.01))
    held: list[int] = []  # rows still held in memory by the files parsed before, at each file's parse
    reports: list[Any] = []
    parse, spill = _run._parse_file, _run._spill

    def watched(rep: Any, path: Path, *args: Any) -> None:
        held.append(sum(r.result.rows.num_rows for r in reports if r.result is not None))
        parse(rep, path, *args)

    def spilled(rep: Any, path: Path) -> None:
        spill(rep, path)
        reports.append(rep)

    for batch in summary.batches:
        reports.clear()
        monkeypatch.setattr(_run, "_parse_file", watched)
        monkeypatch.setattr(_run, "_spill", spilled)
        ingest_batch(twin / batch, batch, tmp_path / "big-chunks")
        monkeypatch.undo()
        assert sum(r.parsed for r in reports) > 0 and all(r.spill is None or not r.spill.exists() for r in reports)
        monkeypatch.setattr(_run, "CHUNK_ROWS", 333)
        ingest_batch(twin / batch, batch, tmp_path / "small-chunks")
        monkeypatch.undo()
    assert held and max(held) == 0
    a, b = _tables(tmp_path / "big-chunks"), _tables(tmp_path / "small-chunks")
    assert sorted(a) == sorted(b)
    assert any(k.startswith("filtered/") and v.num_rows for k, v in a.items())  # the perimeter took rows out
    for name in a:
        assert a[name].equals(b[name]), name
    assert not (tmp_path / "big-chunks" / ".ingest-spill").exists()

