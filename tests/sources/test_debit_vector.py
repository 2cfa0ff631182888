"""The débit Arrow path (Arrow's reader + numpy typing) gives exactly what the DuckDB path gives."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from signaux_faibles.sources._read import arrow, duplicates
from signaux_faibles.sources._read import fast as fast_path
from signaux_faibles.sources.urssaf import DEBIT

HEADER = ("Urssaf_gestion;Dep;num_cpte;Siren;Siret;Dt_immat;Etat_cpte;Cd_pro_col;Periode;Num_Ecn;"
          "Num_Hist_Ecn;Dt_trt_ecn;Mt_PO;Mt_PP;Cd_op_ecn;Motif_ecn;Recours_en_cours")

ODD = {
    "siret": ["1234567890001", "1234567890001A", "+2345678900011", " 2345678900011", "123456789000111", ""],
    "etat": ["", "+1", "-2", "x", "1234567890", "0"],
    "periode": ["2019", "1962", "201962", "201900", "201600", "000162", "99991", "999962", "20191", "2019 1",
                "+20191", "", "abcd", "0100", "4962", "5062"],
    "hist": ["", "+3", "-1", "1.0", "99999999999", "007"],
    "dt": ["1190231", "1200229", "1190229", "0", "1", "990612", "1160318", "11603180", "+116031", "", "x",
           "9991231", "1191321", "1190400", "1190431", "2000229"],
    "po": ["", "12a", "1.5", "-3", "+4", "1e3", " 12", "0x10", "inf", "12345678901234567", "0007"],
    "rec": ["true", "F", "TRUE", "yes", "", "2", "True", "f"],
}


def _line(rng: random.Random, i: int, odd: bool) -> str:
    def pick(key: str, normal: str) -> str:
        return rng.choice(ODD[key]) if odd and rng.random() < 0.3 else normal
    siret = pick("siret", f"{rng.randrange(10**13, 10**14)}")
    fields = [str(100 + i % 900), "01", f"{i:018d}", siret[:9], siret, "19900101", pick("etat", str(1 + i % 3)),
              str(i % 3), pick("periode", f"{2015 + i % 8}{1 + i % 4}{i % 4}"), str(i % 50),
              pick("hist", str(1 + i % 12)), pick("dt", f"1{15 + i % 8:02d}{1 + i % 12:02d}{1 + i % 28:02d}"),
              pick("po", str(i * 37 % 10**7)), pick("po", str(i * 91 % 10**7)), str(1 + i % 5), str(i % 28),
              pick("rec", str(i % 2))]
    return ";".join(fields)


def _plain(rows: pa.Table) -> list[dict[str, object]]:
    """Rows as Python values, dates as day numbers (years outside 1–9999 have no ``datetime.date``)."""
    return rows.cast(pa.schema([pa.field(f.name, pa.int32() if f.type == pa.date32() else f.type)
                                for f in rows.schema])).to_pylist()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_arrow_path_equals_duckdb_path(tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = fast_path.arrow_fast

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(fast_path, "arrow_fast", spy)
    path, _ = _file(tmp_path, seed)
    fast, _ = _same(path)
    assert calls == [1]  # the Arrow path did run
    assert fast.rejected_rows > 0 and any(r["reason"].startswith("duplicate") for r in fast.rejections.to_pylist())


def test_arrow_path_falls_back_on_malformed_lines(tmp_path: Path) -> None:
    rng = random.Random(0)
    lines = [HEADER] + [_line(rng, i, odd=False) for i in range(50)]
    lines[10] = lines[10] + ";extra"
    lines[20] = "1;2;3"
    path = tmp_path / "sigfaible_debits.csv"
    path.write_text("\n".join(lines))  # no final line break
    fast, _ = _same(path)
    assert {r["line"] for r in fast.rejections.to_pylist()} == {11, 21}


def _file(tmp_path: Path, seed: int, rows: int = 3000) -> tuple[Path, list[str]]:
    rng = random.Random(seed)
    lines = [HEADER]
    for i in range(rows):
        lines.append(_line(rng, i, odd=rng.random() < 0.2))
        if rng.random() < 0.02:
            lines.append(lines[-1])  # exact duplicate
        if rng.random() < 0.01:
            lines.append("")  # blank line
    path = tmp_path / "sigfaible_debits.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, lines


def _same(path: Path) -> tuple[Any, Any]:
    con = duckdb.connect()
    fast = DEBIT.parse(path, con)
    plain = dataclasses.replace(DEBIT, vector=None).parse(path, con)
    assert fast.fatal is None and plain.fatal is None
    assert fast.read == plain.read == fast.rows.num_rows + fast.rejected_rows
    assert fast.rows.schema == plain.rows.schema
    assert _plain(fast.rows) == _plain(plain.rows)
    assert fast.rejections.to_pylist() == plain.rejections.to_pylist()
    return fast, plain


@pytest.mark.parametrize("seed", [4, 5])
def test_arrow_path_by_parts(tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file read by several parts in parallel, several batches each, gives what the DuckDB path gives."""
    monkeypatch.setattr(arrow, "_ARROW_PART", 16 << 10)
    monkeypatch.setattr(arrow, "_ARROW_BLOCK", 8 << 10)
    calls: list[Any] = []
    real = arrow._arrow_read

    def spy(*args: Any, **kwargs: Any) -> Any:
        got = real(*args, **kwargs)
        calls.append(got)
        return got

    monkeypatch.setattr(arrow, "_arrow_read", spy)
    path, _ = _file(tmp_path, seed)
    fast, _ = _same(path)
    assert len(calls) == 1 and isinstance(calls[0], tuple) and len(calls[0][0]) > 1  # several parts
    assert any(r["reason"].startswith("duplicate") for r in fast.rejections.to_pylist())


@pytest.mark.parametrize("odd", ['"', "\r", "\x00", "é", "\xff"])
def test_arrow_path_odd_byte_in_a_later_part(tmp_path: Path, odd: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A double quote, a carriage return, a NUL byte, non-ASCII or invalid UTF-8 far in the file."""
    monkeypatch.setattr(arrow, "_ARROW_PART", 16 << 10)
    path, lines = _file(tmp_path, 6, rows=1500)
    at = len(lines) * 3 // 4
    lines[at] = lines[at].replace(";", ";x" + odd, 1)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if odd == "\xff":
        data = data.replace(b"\xc3\xbf", b"\xff")  # ÿ in UTF-8 → a lone 0xFF byte
    path.write_bytes(data)
    fast, _ = _same(path)
    assert fast.rejected_rows > 0


def test_duplicates_upper_bits_collide() -> None:
    """Records sharing the upper 32 bits of their hash but not the whole hash are not candidates."""
    import numpy as np

    hashes = np.array([5 << 32 | 1, 5 << 32 | 2, 7 << 32 | 3, 7 << 32 | 3, 9 << 32, 5 << 32 | 1], dtype=np.uint64)
    lines = np.array([2, 3, 4, 5, 6, 7], dtype=np.int64)
    asked: list[set[int]] = []
    raw = {2: "a", 3: "b", 4: "c", 5: "c", 6: "d", 7: "e"}

    def raw_of(want: set[int]) -> dict[int, str]:
        asked.append(want)
        return {ln: raw[ln] for ln in want}

    assert duplicates.find_duplicates(lines, hashes, raw_of) == {5: "c"}
    assert asked == [{2, 4, 5, 7}]
    # a superset of the hashes (flagged records too) only adds look-ups
    among = np.sort(duplicates.top_bits(np.concatenate([hashes, np.array([9 << 32 | 8], dtype=np.uint64)])))
    assert duplicates.find_duplicates(lines, hashes, raw_of, among) == {5: "c"}


@pytest.mark.parametrize("odd", [b"\xc3\xa9", b"\xff"])
def test_arrow_path_gzip_non_ascii_in_a_field_not_read(tmp_path: Path, odd: bytes) -> None:
    """Invalid UTF-8 in a field the source does not use still rejects the line (gzip: Arrow checks every field)."""
    import gzip

    path, lines = _file(tmp_path, 7, rows=300)
    at = len(lines) // 2
    data = ("\n".join(lines[:at]) + "\n").encode("utf-8") + lines[at].encode("utf-8").replace(b";", b";x" + odd, 1) \
        + ("\n" + "\n".join(lines[at + 1:]) + "\n").encode("utf-8")  # in Dep
    gz = tmp_path / "sigfaible_debits.csv.gz"
    gz.write_bytes(gzip.compress(data))
    path.unlink()
    _same(gz)
