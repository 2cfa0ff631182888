"""Issue 18 ("close the leaks"), ingestion: no record lost to stray quotes, a stock never wiped by an empty or
shrunken file, rows outside the perimeter kept apart, a NUL byte quarantines its line only, broken symbolic links,
empty folders and impossible batch codes are refused."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from signaux_faibles.ingest import ingest_batch
from signaux_faibles.ingest._run import check_batch
from signaux_faibles.sources.registry import source_for
from signaux_faibles.twin import TwinConfig, generate


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("leaks") / "twin"
    summary = generate(TwinConfig(out=out, companies=500, months=24, seed=11, defects=0.0, monthly_batches=2))
    return out, list(summary.batches)


def _stray_quotes(path: Path, lines: tuple[int, ...], sep: str) -> int:
    """Put a double quote after the first separator of these physical lines; return the number of data lines."""
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for n in lines:
        text[n - 1] = text[n - 1].replace(sep, sep + '"', 1)
    path.write_text("".join(text), encoding="utf-8")
    return len(text) - 1


@pytest.mark.parametrize(
    "pattern, sep",
    [("sireneUL.csv", ","), ("StockEtablissement_utf8_geo.csv", ","), ("Sigfaible_etablissement_utf8.csv", ";"),
     ("bdf_ratios.csv", ";"), ("sigfaible_debits.csv", ";"), ("sigfaible_effectif_siret.csv", ";")],
)  # fmt: skip
def test_two_stray_quotes_lose_no_record(twin: tuple[Path, list[str]], tmp_path: Path, pattern: str, sep: str) -> None:
    """Defect 2: every physical data line is accepted or quarantined; only the two lines with a quote are out."""
    root, batches = twin
    src = root / batches[0] / pattern
    path = tmp_path / pattern
    shutil.copy(src, path)
    n_lines = len(path.read_text(encoding="utf-8").splitlines()) - 1
    second = min(250, n_lines)  # data line 249 or the last one, physical line 250 or the last
    data_lines = _stray_quotes(path, (3, second), sep)
    source = source_for(path.name)
    assert source is not None
    result = source.parse(path, duckdb.connect())
    assert result.fatal is None
    assert result.read == data_lines, (result.read, data_lines)
    rejected = {r["line"] for r in result.rejections.to_pylist() if r["level"] == "row"}
    kept = set(result.rows.column("_line").to_pylist())
    assert {3, second} <= rejected
    assert kept | rejected == set(range(2, data_lines + 2))  # every physical data line is somewhere
    reasons = [r["reason"] for r in result.rejections.to_pylist() if r["line"] in (3, second)]
    assert all("quote" in r for r in reasons), reasons


def _copy_batch(root: Path, batch: str, dest: Path, edit: Callable[[Path], None] | None = None) -> Path:
    folder = dest / batch
    shutil.copytree(root / batch, folder)
    if edit:
        edit(folder)
    return folder


def _header_only(folder: Path) -> None:
    for name in ("sireneUL.csv", "sigfaible_effectif_siren.csv"):
        f = folder / name
        f.write_text(f.read_text(encoding="utf-8").splitlines(keepends=True)[0], encoding="utf-8")


def _rows(data: Path, table: str) -> int:
    return ds.dataset(data / "staging" / table, format="parquet").count_rows()


def test_header_only_stock_is_refused_and_the_stock_stays(twin: tuple[Path, list[str]], tmp_path: Path) -> None:
    """Defect 3: empty stock files are refused (status error), the stock in force and the perimeter stay, and the
    next batch's débits are not filtered away."""
    root, batches = twin
    data = tmp_path / "data"
    ingest_batch(_copy_batch(root, batches[0], tmp_path / "in"), batches[0], data)
    ul, eff = _rows(data, "stg_sirene_ul"), _rows(data, "stg_effectif_ent")
    assert ul > 0 and eff > 0
    reports = ingest_batch(_copy_batch(root, batches[1], tmp_path / "in", _header_only), batches[1], data)
    by_file = {r.file: r for r in reports}
    for name in ("sireneUL.csv", "sigfaible_effectif_siren.csv"):
        assert by_file[name].status == "error" and "stock file refused" in by_file[name].message
    assert _rows(data, "stg_sirene_ul") == ul and _rows(data, "stg_effectif_ent") == eff
    debits = by_file["sigfaible_debits.csv"]
    assert debits.accepted > 0 and debits.accepted + debits.quarantined + debits.filtered == debits.read


def test_a_stock_shrinking_past_the_limit_is_refused(twin: tuple[Path, list[str]], tmp_path: Path) -> None:
    root, batches = twin
    data = tmp_path / "data"
    ingest_batch(_copy_batch(root, batches[0], tmp_path / "in"), batches[0], data)
    ul = _rows(data, "stg_sirene_ul")

    def halve(folder: Path) -> None:
        f = folder / "sireneUL.csv"
        lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
        f.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")

    reports = ingest_batch(_copy_batch(root, batches[1], tmp_path / "in", halve), batches[1], data)
    (rep,) = [r for r in reports if r.file == "sireneUL.csv"]
    assert rep.status == "error" and "limit" in rep.message and _rows(data, "stg_sirene_ul") == ul
    # with a looser limit the smaller stock is accepted
    reports = ingest_batch(_copy_batch(root, batches[1], tmp_path / "in2", halve), batches[1], data,
                           stock_shrink_limit=0.9)  # fmt: skip
    (rep,) = [r for r in reports if r.file == "sireneUL.csv"]
    assert rep.status == "ok" and _rows(data, "stg_sirene_ul") < ul


def test_rows_outside_the_perimeter_are_kept_apart(twin: tuple[Path, list[str]], tmp_path: Path) -> None:
    """Defect 3: filtered rows are counted and stored under ``filtered/``, never discarded."""
    root, batches = twin
    data = tmp_path / "data"
    reports = ingest_batch(_copy_batch(root, batches[0], tmp_path / "in"), batches[0], data)
    debits = next(r for r in reports if r.file == "sigfaible_debits.csv")
    assert debits.filtered > 0
    kept_apart = pq.read_table(data / "filtered" / "stg_debit" / f"{batches[0]}.parquet")
    assert len(set(kept_apart.column("source_line").to_pylist())) >= debits.filtered
    staged = set(pq.read_table(data / "staging" / "stg_debit" / f"{batches[0]}.parquet").column("source_line").to_pylist())
    assert not staged & set(kept_apart.column("source_line").to_pylist())


def test_a_nul_byte_quarantines_its_line_only(twin: tuple[Path, list[str]], tmp_path: Path) -> None:
    """Defect 12: a NUL byte in a data line of an URSSAF file sends that line to quarantine, not the file."""
    root, batches = twin
    path = tmp_path / "sigfaible_debits.csv"
    lines = (root / batches[0] / "sigfaible_debits.csv").read_bytes().split(b"\n")
    lines[2] = lines[2][:10] + b"\x00" + lines[2][10:]
    path.write_bytes(b"\n".join(lines))
    source = source_for(path.name)
    assert source is not None
    result = source.parse(path, duckdb.connect())
    assert result.fatal is None
    assert {r["line"] for r in result.rejections.to_pylist()} == {3}
    assert result.rows.num_rows > 0


def test_broken_link_empty_folder_and_batch_codes(twin: tuple[Path, list[str]], tmp_path: Path) -> None:
    """Defect 12: a broken symbolic link is an error of the import log; an empty or unrecognised folder and an
    impossible batch code are refused before anything is written."""
    root, batches = twin
    folder = _copy_batch(root, batches[0], tmp_path / "in")
    (folder / "sigfaible_delais.csv").unlink()
    (folder / "sigfaible_delais.csv").symlink_to(tmp_path / "nowhere.csv")
    reports = ingest_batch(folder, batches[0], tmp_path / "data")
    (rep,) = [r for r in reports if r.file == "sigfaible_delais.csv"]
    assert rep.status == "error" and "broken symbolic link" in rep.message
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="is empty"):
        ingest_batch(empty, "2609", tmp_path / "data2")
    (empty / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match="no file of a known source"):
        ingest_batch(empty, "2609", tmp_path / "data2")
    assert not (tmp_path / "data2").exists()
    for code in ("9999", "2613", "2600", "3012"):
        with pytest.raises(ValueError):
            check_batch(code)
    check_batch("1910")
