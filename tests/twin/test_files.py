"""The twin's files: headers, encodings, identifiers, determinism, defects, ground truth."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import math
import re
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from signaux_faibles.geo import DEPARTEMENT_CENTRES, departement_from_commune
from signaux_faibles.identifiers import is_pseudo_siret, luhn_valid
from signaux_faibles.twin import TwinConfig, TwinSummary, generate
from signaux_faibles.twin.formats import FILES, Batch, FileSpec

# twin file (pattern) -> reference file, encoding, delimiter
REFERENCE = {
    r"sigfaible_cotisdues\.csv\.gz": ("osf/urssaf/cotisationTestData.csv", "utf-8", ";"),
    r"sigfaible_debits\.csv": ("osf/urssaf/debitTestData.csv", "utf-8", ";"),
    r"sigfaible_delais\.csv": ("osf/urssaf/delaiTestData.csv", "utf-8", ";"),
    r"sigfaible_ccsf\.csv": ("osf/urssaf/ccsfTestData.csv", "utf-8", ";"),
    r"sigfaible_pcoll\.csv": ("osf/urssaf/procolTestData.csv", "utf-8", ";"),
    r"sigfaible_effectif_siret\.csv": ("osf/effectif/effectifTestData.csv", "utf-8", ";"),
    r"sigfaible_effectif_siren\.csv": ("osf/effectif/effectifEntTestData.csv", "utf-8", ";"),
    r"Sigfaible_etablissement_utf8\.csv": ("osf-legacy/urssaf_comptes/comptesTestData.csv", "utf-8", ";"),
    r"demande_ap\.csv": ("osf/activite_partielle/apdemandeTestData.csv", "utf-8", ","),
    r"consommation_ap\.csv": ("osf/activite_partielle/apconsoTestData.csv", "utf-8", ","),
    r"StockEtablissement_utf8_geo\.csv": ("osf/sirene/sireneTestData.csv", "utf-8", ","),
    r"sireneUL\.csv": ("osf/sirene/sireneULTestData.csv", "utf-8", ","),
    r"StockEtablissementHistorique_utf8\.csv": ("osf/sirene/sireneHistoTestData.csv", "utf-8", ","),
    r"bdf_ratios\.csv": ("osf-legacy/bdf/bdfTestData.csv", "utf-8", ";"),
    r"Diane_export\.txt": ("osf-legacy/diane/dianeTestData.txt", "utf-16", ";"),
    r"E_\d{12}_Retro-Paydex_\d{8}\.csv": ("osf-legacy/paydex/paydexTestData.csv", "iso-8859-15", ";"),
}


def read_text(path: Path, encoding: str) -> str:
    raw = gzip.open(path).read() if path.name.endswith(".gz") else path.read_bytes()
    return raw.decode(encoding)


def header(text: str, sep: str) -> list[str]:
    return next(csv.reader(io.StringIO(text.lstrip("\ufeff").splitlines()[0]), delimiter=sep))


def fold(cols: list[str]) -> list[str]:
    """Fold month and year columns so that wide files compare by shape."""
    out: list[str] = []
    for c in cols:
        c = re.sub(r"^eff\d{6}$", "effAAAAQM", c)
        c = re.sub(r" \d{4}$", " AAAA", c)
        if not out or out[-1] != c:
            out.append(c)
    return out


def test_every_file_has_the_reference_header(clean_twin: TwinSummary, reference_dir: Path) -> None:
    batches = clean_twin.batches
    assert len(batches) == 3
    for b in batches:
        names = [p.name for p in (clean_twin.out / b).iterdir()]
        for pattern, (ref, enc, sep) in REFERENCE.items():
            match = [n for n in names if re.fullmatch(pattern, n)]
            assert len(match) == 1, f"{b}: no file matching {pattern}"
            ours = header(read_text(clean_twin.out / b / match[0], enc), sep)
            theirs = header(read_text(reference_dir / ref, enc), sep)
            if "eff" in pattern or "Diane" in pattern:
                assert sorted(set(fold(ours))) == sorted(set(fold(theirs))), match[0]
            else:
                assert ours == theirs, match[0]
        xlsx = next((clean_twin.out / b).glob("Ellisphère-Tête de groupe-*.xlsx"))
        ref_bytes = (reference_dir / "osf-legacy/ellisphere/ellisphereTestData.excel").read_bytes()
        ref_ws = openpyxl.load_workbook(io.BytesIO(ref_bytes)).worksheets[0]
        ws = openpyxl.load_workbook(xlsx).worksheets[0]
        assert [c.value for c in next(ws.iter_rows(max_row=1))] == [
            c.value for c in next(ref_ws.iter_rows(max_row=1))
        ]


def test_every_file_rereads_in_its_declared_encoding(clean_twin: TwinSummary) -> None:
    for b in clean_twin.batches:
        batch = Batch(b, 0, 0, b == clean_twin.batches[0])
        for spec in FILES:
            path = clean_twin.out / b / spec.filename(batch)
            assert path.exists() == spec.delivered(batch), path
            if not spec.delivered(batch):
                continue
            text = read_text(path, spec.encoding)
            first = text.splitlines()[0]
            sep = ";" if first.count(";") >= first.count(",") else ","
            rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=sep))
            assert rows, path
            if spec.trailer is not None:  # the Altares increment's end-of-file line
                assert sep.join(rows.pop()) == spec.trailer(len(rows) - 1), path
            width = len(rows[0])
            assert all(len(r) == width for r in rows), f"{path}: ragged rows"


def _batch(name: str) -> Batch:
    return Batch(name, 0, 0, False)


def _spec_of(rel: str) -> FileSpec:
    batch, name = rel.split("/")
    return next(s for s in FILES if name.removesuffix(".gz") == s.filename(_batch(batch)).removesuffix(".gz"))


def test_identifiers_are_luhn_valid_and_pseudo_sirets_flagged(clean_twin: TwinSummary) -> None:
    b = clean_twin.out / clean_twin.batches[0]
    ul = list(csv.DictReader(open(b / "sireneUL.csv", encoding="utf-8")))
    assert ul and all(luhn_valid(r["siren"]) and len(r["siren"]) == 9 for r in ul)
    etabs = list(csv.DictReader(open(b / "StockEtablissement_utf8_geo.csv", encoding="utf-8")))
    assert all(luhn_valid(r["siret"]) and r["siret"].startswith(r["siren"]) for r in etabs)
    known = {r["siret"] for r in etabs}
    eff = list(csv.DictReader(open(b / "sigfaible_effectif_siret.csv", encoding="utf-8"), delimiter=";"))
    pseudo = [r["siret"] for r in eff if r["siret"] not in known]
    assert pseudo, "the twin should carry a few ACOSS pseudo-SIRETs"
    assert all(is_pseudo_siret(s) and not luhn_valid(s) for s in pseudo)
    assert len(pseudo) < 0.05 * len(eff)


def test_coordinates_fall_in_the_establishment_departement(clean_twin: TwinSummary) -> None:
    """Each geo-SIRENE position lies in the disk around its département's inner point (``DEPARTEMENT_CENTRES``)
    that stays inside the département's outline: the establishment page's map shows it where its address is."""
    b = clean_twin.out / clean_twin.batches[0]
    etabs = list(csv.DictReader(open(b / "StockEtablissement_utf8_geo.csv", encoding="utf-8")))
    checked = 0
    for r in etabs:
        centre = DEPARTEMENT_CENTRES.get(departement_from_commune(r["codeCommuneEtablissement"]) or "")
        if centre is None or not r["latitude"]:
            continue
        lat, lon, radius = centre
        d = math.hypot(float(r["latitude"]) - lat, float(r["longitude"]) - lon)
        assert d <= radius + 1e-4, (r["siret"], r["codeCommuneEtablissement"], d, radius)
        checked += 1
    assert checked > 0.9 * len(etabs)


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    def make(name: str, seed: int) -> dict[str, str]:
        generate(
            TwinConfig(
                out=tmp_path / name, companies=120, months=24, seed=seed, defects=0.01, monthly_batches=1
            )
        )
        return _digest(tmp_path / name)

    a, b, c = make("a", 11), make("b", 11), make("c", 12)
    assert len(a) >= 30
    assert a == b
    assert a != c


def test_every_defect_is_where_defects_csv_says(defect_twin: TwinSummary) -> None:
    rows = list(csv.DictReader(open(defect_twin.out / "defects.csv", encoding="utf-8")))
    kinds = {r["kind"] for r in rows}
    assert {"malformed_line", "broken_quote", "bad_siret_length", "bad_siret_letters", "unknown_code",
            "impossible_date", "wrong_encoding", "duplicate", "truncated_gzip"} <= kinds  # fmt: skip
    cache: dict[str, list[bytes]] = {}
    for r in rows:
        path = defect_twin.out / r["file"]
        if r["kind"] == "truncated_gzip":
            with pytest.raises((EOFError, OSError)):
                gzip.open(path).read()
            continue
        if r["file"] not in cache:
            raw = gzip.open(path).read() if path.name.endswith(".gz") else path.read_bytes()
            cache[r["file"]] = raw.split(b"\n")
        lines = cache[r["file"]]
        n = int(r["line"])
        line = lines[n - 1]
        spec = _spec_of(r["file"])
        head = lines[0].decode(spec.encoding)
        sep = ";" if head.count(";") > head.count(",") else ","
        kind = r["kind"]
        if kind == "wrong_encoding":
            with pytest.raises(UnicodeDecodeError):
                line.decode("utf-8")
            continue
        text = line.decode(spec.encoding)
        if kind == "duplicate":
            assert text == lines[n - 2].decode(spec.encoding)
        elif kind == "malformed_line":
            assert len(text.split(sep)) != len(head.split(sep))
        elif kind == "broken_quote":
            assert text.count('"') % 2 == 1 and lines[n].decode(spec.encoding).count('"') % 2 == 1
        elif kind in ("bad_siret_length", "bad_siret_letters"):
            ids = [f.strip('"') for f in text.split(sep)]
            assert any((len(f) in (8, 13) and f.isdigit()) or re.fullmatch(r"\d{3}AB\d+", f) for f in ids), (
                text
            )
        elif kind == "unknown_code":
            assert "XXX" in text or "inconnue" in text or '"9"' in text
        elif kind == "impossible_date":
            assert any(d in text for d in ("1190231", "31/02/2019", "2019-02-30"))


def test_ground_truth(clean_twin: TwinSummary) -> None:
    t = pq.read_table(clean_twin.out / "ground_truth.parquet").to_pandas()
    assert list(t.columns) == ["siren", "periode", "p_failure_18m", "failure_18m", "p_failure_18m_now"]
    assert t.p_failure_18m.between(0, 1).all() and t.p_failure_18m_now.between(0, 1).all()
    assert set(t.failure_18m.unique()) <= {0, 1}
    assert (t.groupby(["siren", "periode"]).size() == 1).all()
    assert str(t.periode.max())[:7] == "2026-09"  # the latest delivered month is known too


def test_same_bytes_with_one_or_two_processes(tmp_path: Path) -> None:
    def make(name: str, workers: int) -> dict[str, str]:
        generate(TwinConfig(out=tmp_path / name, companies=160, months=24, seed=3, defects=0.01, chunk_size=40,
                            workers=workers))  # fmt: skip
        return _digest(tmp_path / name)

    assert make("one", 1) == make("two", 2)
