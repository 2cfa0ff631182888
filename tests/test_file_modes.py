"""Issue 18, defect 14: confidential files are created readable by their owner only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from signaux_faibles.cli import app


@pytest.fixture
def keep_umask() -> Iterator[None]:
    """The command sets the process's umask: give the test process its own back afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    try:
        yield
    finally:
        os.umask(old)


def _loose(root: Path) -> list[str]:
    """Files and folders under ``root`` that someone other than the owner may read."""
    return [f"{p.relative_to(root)} {stat.filemode(p.stat().st_mode)}" for p in [root, *root.rglob("*")]
            if p.stat().st_mode & 0o077]  # fmt: skip


def test_data_directory_database_and_exports_are_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_umask: None
) -> None:
    os.umask(0o022)  # a usual umask: the command must not rely on it
    data = tmp_path / "data"
    monkeypatch.setenv("SF_DATA_DIR", str(data))
    runner = CliRunner()
    r = runner.invoke(app, ["twin", "--out", str(tmp_path / "twin"), "--companies", "40", "--months", "24",
                            "--seed", "3"])  # fmt: skip
    assert r.exit_code == 0, r.output
    batch = sorted(p.name for p in (tmp_path / "twin").iterdir() if p.name.isdigit())[-1]
    r = runner.invoke(app, ["ingest", str(tmp_path / "twin" / batch), "--batch", batch])
    assert r.exit_code in (0, 1), r.output
    r = runner.invoke(app, ["users", "add", "x@urssaf.fr", "--organisation", "URSSAF", "--territory", "21",
                            "--password-stdin"], input="Zq8-acceptance-Lm4-passphrase\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (data / "platform.db").exists() and any(data.rglob("*.parquet"))
    assert _loose(data) == []
