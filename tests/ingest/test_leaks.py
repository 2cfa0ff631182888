"""Issue 18 ("close the leaks"), ingestion, second pass: what the first fixes left open.

- defect 2: a line rejected for a stray double quote (or a NUL byte) names the field and what was expected, also
  when the quote is still open at the end of the file;
- defect 3: when the batch's effectif_ent stock is refused, the perimeter is that of the stock in force, over the
  processing window (not the narrower published list); a refused stock file keeps its quarantine;
- defect 12: a batch folder where no file can be read, or holding only broken symbolic links, is refused whole
  (nothing published, exit code 2, the links named).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from signaux_faibles.config import Settings
from signaux_faibles.ingest import ingest_batch, run_ingest
from signaux_faibles.ingest._store import Store
from signaux_faibles.sources._base import ParseResult
from signaux_faibles.sources.registry import source_for
from signaux_faibles.twin import TwinConfig, generate


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("leaks2") / "twin"
    summary = generate(TwinConfig(out=out, companies=300, months=24, seed=5, defects=0.0, monthly_batches=1))
    return out, list(summary.batches)


def _twin_file(twin: tuple[Path, list[str]], tmp_path: Path, name: str) -> Path:
    """A copy of the twin's first batch's file ``name``, to damage."""
    root, batches = twin
    path = tmp_path / name
    shutil.copy(root / batches[0] / name, path)
    return path


def _parse(path: Path) -> ParseResult:
    """The file parsed by its source."""
    source = source_for(path.name)
    assert source is not None
    return source.parse(path, duckdb.connect())


def _mutate(path: Path, line: int, edit: str) -> tuple[str, str]:
    """Apply ``edit`` to physical line ``line``: ``quote`` (a quote after the first separator) or ``nul``.
    Returns (separator, name of the field edited)."""
    lines = path.read_bytes().split(b"\n")
    header = lines[0].decode("utf-8")
    sep = max((";", ","), key=header.count)
    cut = lines[line - 1].index(sep.encode()) + 1
    insert = b'"' if edit == "quote" else b"\x00"
    lines[line - 1] = lines[line - 1][:cut] + insert + lines[line - 1][cut:]
    path.write_bytes(b"\n".join(lines))
    return sep, header.split(sep)[1].strip('"')


# ---------------------------------------------------------------------------------------------------------------
# defect 2
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["sireneUL.csv", "StockEtablissement_utf8_geo.csv", "Sigfaible_etablissement_utf8.csv", "bdf_ratios.csv",
             "sigfaible_debits.csv"],
)  # fmt: skip
def test_a_stray_quote_is_quarantined_with_its_field_and_what_was_expected(
    twin: tuple[Path, list[str]], tmp_path: Path, name: str
) -> None:
    path = _twin_file(twin, tmp_path, name)
    sep, field = _mutate(path, 3, "quote")
    n_fields = len(path.read_text(encoding="utf-8").split("\n", 1)[0].split(sep))
    result = _parse(path)
    (rej,) = [r for r in result.rejections.to_pylist() if r["line"] == 3]
    assert rej["level"] == "row" and rej["column"] == field
    assert rej["reason"].startswith(f"malformed line: unbalanced or stray double quote in field 2 ({field})")
    assert f"expected {n_fields} fields on one line" in rej["reason"]
    assert "double quote only around a whole field" in rej["reason"]
    assert result.read == result.rows.num_rows + result.rejected_rows


def test_a_quote_still_open_at_the_end_of_the_file_is_a_stray_quote(
    twin: tuple[Path, list[str]], tmp_path: Path
) -> None:
    path = _twin_file(twin, tmp_path, "sireneUL.csv")
    last = len(path.read_text(encoding="utf-8").rstrip("\n").split("\n"))
    _, field = _mutate(path, last, "quote")
    result = _parse(path)
    (rej,) = [r for r in result.rejections.to_pylist() if r["line"] == last]
    assert rej["column"] == field and "stray double quote" in rej["reason"]
    assert "not closed before the end of the file" in rej["reason"]
    assert result.read == last - 1 and result.rows.num_rows == last - 2


@pytest.mark.parametrize("name", ["sireneUL.csv", "bdf_ratios.csv", "Sigfaible_etablissement_utf8.csv"])
def test_a_nul_byte_is_binary_content_on_its_line_not_an_encoding_error(
    twin: tuple[Path, list[str]], tmp_path: Path, name: str
) -> None:
    path = _twin_file(twin, tmp_path, name)
    _, field = _mutate(path, 4, "nul")
    result = _parse(path)
    assert result.fatal is None
    (rej,) = [r for r in result.rejections.to_pylist() if r["line"] == 4]
    assert rej["reason"].startswith("binary content: the line holds a NUL byte in field 2") and rej["column"] == field
    assert "\\0" in rej["raw_value"] and "\x00" not in rej["raw_value"]
    assert {r["line"] for r in result.rejections.to_pylist()} == {4}


# ---------------------------------------------------------------------------------------------------------------
# defect 3
# ---------------------------------------------------------------------------------------------------------------

_OLD, _NEW = "111111118", "222222226"  # _OLD had 10+ employees only more than 36 months before the last month


def _effectif_ent(n_months: int = 42) -> str:
    months = [(2021 + (m // 12), m % 12 + 1) for m in range(n_months)]  # 2021-01 … 2024-06
    header = ["siren", *(f"eff{y}{(mo - 1) // 3 + 1}{(mo - 1) % 3 + 1}" for y, mo in months), "rais_soc"]
    old = [_OLD, *("12" if i < 3 else "2" for i in range(n_months)), "Ancienne SA"]
    new = [_NEW, *("15" for _ in range(n_months)), "Récente SAS"]
    return "\n".join(";".join(r) for r in (header, old, new)) + "\n"


def _debits() -> str:
    head = ("Urssaf_gestion;Dep;num_cpte;Siren;Siret;Dt_immat;Etat_cpte;Cd_pro_col;Periode;Num_Ecn;Num_Hist_Ecn;"
            "Dt_trt_ecn;Mt_PO;Mt_PP;Cd_op_ecn;Motif_ecn;Recours_en_cours")  # fmt: skip
    rows = [f"117;21;12345678901234567{i};{s};{s}00011;20050501;1;0;202441;1;1;1240515;12345;67890;1;0;0"
            for i, s in enumerate((_OLD, _NEW))]  # fmt: skip
    return "\n".join([head, *rows]) + "\n"


def test_a_refused_effectif_ent_leaves_the_perimeter_of_the_stock_in_force(tmp_path: Path) -> None:
    """The first batch keeps both companies' débits (perimeter over the processing window); the second, whose
    effectif_ent file holds its header only, must keep them too: the stock in force gives the same perimeter."""
    data = tmp_path / "data"
    first = tmp_path / "in" / "2406"
    first.mkdir(parents=True)
    (first / "sigfaible_effectif_siren.csv").write_text(_effectif_ent(), encoding="utf-8")
    (first / "sigfaible_debits.csv").write_text(_debits(), encoding="utf-8")
    reports = {r.file: r for r in ingest_batch(first, "2406", data)}
    assert reports["sigfaible_debits.csv"].accepted == 2 and reports["sigfaible_debits.csv"].filtered == 0

    second = tmp_path / "in" / "2407"
    second.mkdir()
    (second / "sigfaible_effectif_siren.csv").write_text(_effectif_ent().split("\n")[0] + "\n", encoding="utf-8")
    (second / "sigfaible_debits.csv").write_text(_debits(), encoding="utf-8")
    reports = {r.file: r for r in ingest_batch(second, "2407", data)}
    assert reports["sigfaible_effectif_siren.csv"].status == "error"
    debits = reports["sigfaible_debits.csv"]
    assert (debits.accepted, debits.filtered) == (2, 0), debits.message
    staged = pq.read_table(data / "staging" / "stg_debit" / "2407.parquet")
    assert sorted(s[:9] for s in staged.column("siret").to_pylist()) == [_OLD, _NEW]


def test_a_refused_stock_file_keeps_its_quarantine(twin: tuple[Path, list[str]], tmp_path: Path) -> None:
    """Every line of the delivered SIRENE UL file is rejected: the file is refused (the stock stays) and its
    rejected lines are in the quarantine, as the import log counts them."""
    root, batches = twin
    data = tmp_path / "data"
    ingest_batch(root / batches[0], batches[0], data)
    folder = tmp_path / "in" / batches[1]
    shutil.copytree(root / batches[1], folder)
    ul = folder / "sireneUL.csv"
    lines = ul.read_text(encoding="utf-8").splitlines(keepends=True)
    ul.write_text(lines[0] + "".join("X" + ln[1:] for ln in lines[1:]), encoding="utf-8")  # SIREN not 9 digits
    reports = {r.file: r for r in ingest_batch(folder, batches[1], data)}
    rep = reports["sireneUL.csv"]
    assert rep.status == "error" and "stock file refused" in rep.message and rep.quarantined == len(lines) - 1
    quarantine = pq.read_table(data / "quarantine" / "stg_sirene_ul" / f"{batches[1]}.parquet")
    assert set(quarantine.column("file").to_pylist()) == {"sireneUL.csv"}
    assert len(set(quarantine.column("line").to_pylist())) == len(lines) - 1
    log = pq.read_table(data / "import_log.parquet").to_pylist()
    (row,) = [r for r in log if r["batch"] == batches[1] and r["file"] == "sireneUL.csv"]
    assert row["status"] == "error" and row["read"] == row["quarantined"] == len(lines) - 1
    assert pq.read_table(data / "staging" / "stg_sirene_ul" / f"{batches[0]}.parquet").num_rows > 0


# ---------------------------------------------------------------------------------------------------------------
# defect 12
# ---------------------------------------------------------------------------------------------------------------


def test_a_folder_where_no_file_can_be_read_is_refused_and_nothing_is_published(
    twin: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, batches = twin
    data = tmp_path / "data"
    ingest_batch(root / batches[0], batches[0], data)
    before = Store(data).current()
    log_before = pq.read_table(data / "import_log.parquet").num_rows
    folder = tmp_path / "in" / batches[1]
    folder.mkdir(parents=True)
    (folder / "sigfaible_debits.csv").write_bytes(b"")
    (folder / "sireneUL.csv").write_bytes(b"\x00\x01\x02" * 100)
    (folder / "sigfaible_delais.csv").symlink_to(tmp_path / "nowhere.csv")
    with pytest.raises(ValueError, match="no file of the batch could be read") as err:
        ingest_batch(folder, batches[1], data)
    assert "sigfaible_debits.csv: empty file" in str(err.value) and "broken symbolic link" in str(err.value)
    assert Store(data).current() == before and pq.read_table(data / "import_log.parquet").num_rows == log_before
    # the command: exit code 2, the per-file table and the reason
    assert run_ingest(folder, batches[1], Settings(data_dir=data), no_filter=False) == 2
    assert Store(data).current() == before


def test_a_folder_of_broken_links_is_refused_naming_them(tmp_path: Path) -> None:
    folder = tmp_path / "in" / "2606"
    folder.mkdir(parents=True)
    (folder / "sigfaible_debits.csv").symlink_to(tmp_path / "gone" / "sigfaible_debits.csv")
    with pytest.raises(ValueError, match=r"sigfaible_debits\.csv: broken symbolic link"):
        ingest_batch(folder, "2606", tmp_path / "data")
    assert not (tmp_path / "data").exists()
    assert run_ingest(folder, "2606", Settings(data_dir=tmp_path / "data"), no_filter=False) == 2


@pytest.mark.parametrize("code", ["9999", "2613", "2600", "26O9"])
def test_the_ingest_command_refuses_an_impossible_batch_code(tmp_path: Path, code: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "sigfaible_debits.csv").write_text(_debits(), encoding="utf-8")
    assert run_ingest(folder, code, Settings(data_dir=tmp_path / "data"), no_filter=False) == 2
    assert not (tmp_path / "data").exists()
