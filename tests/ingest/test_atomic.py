"""A batch becomes visible only when complete: kill -9 in the middle leaves the previous state intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq

from signaux_faibles.ingest import ingest_batch

SCRIPT = """
import sys
from pathlib import Path
from signaux_faibles.ingest import ingest_batch
ingest_batch(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
"""


def _snapshot(data: Path) -> dict[str, object]:
    out: dict[str, object] = {"log": pq.read_table(data / "import_log.parquet").to_pylist()}
    for table in sorted(p.name for p in (data / "staging").iterdir()):
        out[table] = sorted(map(str, ds.dataset(str(data / "staging" / table)).to_table().to_pylist()))
    return out


def test_kill_9_before_swap_keeps_previous_state(batch_dir: Path, tmp_path: Path, make_batch) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    ingest_batch(batch_dir, "1911", data)
    before = _snapshot(data)
    nxt = make_batch(tmp_path / "in" / "1912")
    env = dict(os.environ, SF_INGEST_PAUSE_BEFORE_SWAP="60")
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(nxt), "1912", str(data)], env=env)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:  # wait until the new version is fully written, then kill
            tmp = [p for p in (data / ".versions").iterdir() if p.name.startswith("tmp-")]
            if tmp and (tmp[0] / "import_log.parquet").exists():
                break
            assert proc.poll() is None, "ingest ended before it could be killed"
            time.sleep(0.05)
        else:
            raise AssertionError("the new version never appeared")
        time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot(data) == before  # nothing of 1912 is visible
    ingest_batch(nxt, "1912", data)  # the next run recovers and cleans the leftover
    assert {r["batch"] for r in pq.read_table(data / "import_log.parquet").to_pylist()} == {"1911", "1912"}
    assert [p.name for p in (data / ".versions").iterdir() if p.name.startswith("tmp-")] == []
