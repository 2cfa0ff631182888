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
