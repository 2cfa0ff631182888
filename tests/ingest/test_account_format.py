"""URSSAF files keyed by account only (before December 2025): the account → SIRET map is applied (issue 20)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from signaux_faibles.ingest import ingest_batch
from signaux_faibles.twin import TwinConfig, generate

TABLES = {"stg_debit": ("siret", "numero_compte", "periode_debut", "numero_ecart_negatif", "numero_historique_ecart_negatif"),
          "stg_cotisation": ("siret", "numero_compte", "periode_debut", "du"),
          "stg_delai": ("siret", "numero_compte", "date_creation"),
          "stg_ccsf": ("siret", "numero_compte", "date_traitement")}  # fmt: skip


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("accounts")
    for fmt in ("siret", "account"):
        generate(TwinConfig(out=root / fmt, companies=300, months=24, seed=8, urssaf_format=fmt))
    batch = sorted(p.name for p in (root / "siret").iterdir() if p.name.isdigit())[-1]
    return root / "siret", root / "account", batch


def _rows(data: Path, table: str) -> list[tuple[object, ...]]:
    t = ds.dataset(data / "staging" / table, format="parquet").to_table(columns=list(TABLES[table]))
    return sorted(zip(*(t.column(c).to_pylist() for c in TABLES[table]), strict=True), key=str)


def test_account_only_files_give_the_same_staging(twins: tuple[Path, Path, str], tmp_path: Path) -> None:
    siret, account, batch = twins
    assert "Siret" not in (account / batch / "sigfaible_debits.csv").read_text(encoding="utf-8").splitlines()[0]
    a = ingest_batch(siret / batch, batch, tmp_path / "a")
    b = ingest_batch(account / batch, batch, tmp_path / "b")
    assert not [r.file for r in b if r.status == "error"]
    for table in TABLES:
        assert _rows(tmp_path / "a", table) == _rows(tmp_path / "b", table), table
    by_file = {r.file: r for r in b}
    assert by_file["sigfaible_debits.csv"].extra["account_only"] == 0
    assert {r.file: r.accepted for r in a} == {r.file: r.accepted for r in b}


def test_an_account_without_siret_is_quarantined_with_its_reason(twins: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, account, batch = twins
    folder = tmp_path / batch
    shutil.copytree(account / batch, folder)
    debits = folder / "sigfaible_debits.csv"
    lines = debits.read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(";")
    fields[2] = "999999999999999999"  # an account the map does not know
    lines[1] = ";".join(fields)
    debits.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reports = ingest_batch(folder, batch, tmp_path / "data", no_filter=True)
    (rep,) = [r for r in reports if r.file == "sigfaible_debits.csv"]
    assert rep.result is not None
    reasons = {r["line"]: r["reason"] for r in rep.result.rejections.to_pylist()}
    assert "account 999999999999999999 maps to no SIRET" in reasons[2]
    assert rep.accepted + rep.quarantined + rep.filtered == rep.read


def test_account_only_file_without_any_map_is_an_error(twins: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, account, batch = twins
    folder = tmp_path / batch
    shutil.copytree(account / batch, folder)
    (folder / "Sigfaible_etablissement_utf8.csv").unlink()
    reports = ingest_batch(folder, batch, tmp_path / "data")
    for name in ("sigfaible_debits.csv", "sigfaible_cotisdues.csv.gz", "sigfaible_delais.csv", "sigfaible_ccsf.csv"):
        (rep,) = [r for r in reports if r.file == name]
        assert rep.status == "error" and "no account map" in rep.message
