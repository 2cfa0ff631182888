from __future__ import annotations

from pathlib import Path

import pytest

from signaux_faibles.config import get_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SF_DATA_DIR", raising=False)
    monkeypatch.delenv("SF_CONFIG", raising=False)
    s = get_settings()
    assert s.data_dir == Path("./data")
    assert s.engine == "duckdb"


def test_toml_file_then_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "sf.toml"
    cfg.write_text('data_dir = "/srv/sf"\nengine = "spark"\n', encoding="utf-8")
    monkeypatch.setenv("SF_CONFIG", str(cfg))
    monkeypatch.delenv("SF_DATA_DIR", raising=False)
    s = get_settings()
    assert s.data_dir == Path("/srv/sf")
    assert s.engine == "spark"
    monkeypatch.setenv("SF_DATA_DIR", "/elsewhere")
    assert get_settings().data_dir == Path("/elsewhere")  # the environment beats the file


def test_a_wrong_setting_or_engine_stops_the_command_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before anything is read or written: the setting's name, what was given, exit code 2; no traceback."""
    from typer.testing import CliRunner

    from signaux_faibles.cli import app

    runner = CliRunner()
    monkeypatch.setenv("SF_SCORE_CHUNK_COMPANIES", "0")
    r = runner.invoke(app, ["version"])
    assert r.exit_code == 2 and "score_chunk_companies" in r.output and "'0'" in r.output
    assert "Traceback" not in r.output
    monkeypatch.delenv("SF_SCORE_CHUNK_COMPANIES")
    r = runner.invoke(app, ["monthly", ".", "--batch", "2609", "--engine", "foo"])
    assert r.exit_code == 2 and "--engine" in r.output and "duckdb" in r.output


def test_a_memory_limit_duckdb_would_not_read_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a DuckDB parser error in the middle of an ingest: exit code 2 before anything runs (issue 24)."""
    from typer.testing import CliRunner

    from signaux_faibles.cli import app

    monkeypatch.setenv("SF_DUCKDB_MEMORY_LIMIT", "8 gigas")
    r = CliRunner().invoke(app, ["version"])
    assert r.exit_code == 2 and "duckdb_memory_limit" in r.output and "8 gigas" in r.output
    for ok in ("3500MB", "8GB", "3.5 GiB", ""):  # empty: DuckDB's own default
        monkeypatch.setenv("SF_DUCKDB_MEMORY_LIMIT", ok)
        assert CliRunner().invoke(app, ["version"]).exit_code == 0
