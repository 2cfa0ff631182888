"""URSSAF files keyed by account only (the real format before December 2025): the account → SIRET map applied.

Until December 2025 the cotisation, débit, délai and CCSF files carried the URSSAF account number and no
``Siret`` column (``real_system.md`` §1.2). The account map ``Sigfaible_etablissement_utf8.csv`` (``stg_compte``)
says which SIRET each account belonged to, and when: for a row of period *p*, the SIRET is the account's first one,
by closure date, closed after *p* (``sources.compte.siret_for``, the real rule).

``with_siret(path, source, mapping, folder)`` writes a copy of such a file with a ``Siret`` column appended (one
output line per input line, so that line numbers stay the file's), then the source parses it as usual. A row whose
account maps to no SIRET at its period gets a marker that the SIRET check rejects; ``explain_unmapped`` turns
those rejections into their reason: "account … maps to no SIRET at …".
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from signaux_faibles.sources import _sql as q
from signaux_faibles.sources.compte import NEVER_CLOSED

__all__ = ["ACCOUNT_FORMAT", "explain_unmapped", "is_account_only", "with_siret"]

#: Per URSSAF source: the account column and the column whose date places the row in time, with its SQL parser.
ACCOUNT_FORMAT: dict[str, tuple[str, str, str]] = {
    "cotisation": ("Compte", "periode", "period"),
    "debit": ("num_cpte", "Periode", "period"),
    "delai": ("Numero_compte_externe", "Date_creation", "fr_date"),
    "ccsf": ("Compte", "Date_de_traitement", "urssaf_date"),
}
MARKER = "SANS_SIRET:"


def _open(path: Path) -> list[str]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="surrogateescape").split("\n")


def _header(path: Path) -> list[str]:
    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    with opener(path, "rb") as fh:
        first = fh.readline().decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
    return [h.strip().strip('"').lower() for h in first.split(";")]


def is_account_only(path: Path, source_name: str) -> bool:
    """An URSSAF file of ``source_name`` whose header has the account column and no ``Siret``."""
    if source_name not in ACCOUNT_FORMAT:
        return False
    header = _header(path)
    return "siret" not in header and ACCOUNT_FORMAT[source_name][0].lower() in header


def _by_account(mapping: pa.Table) -> dict[str, list[tuple[dt.date, str]]]:
    out: dict[str, list[tuple[dt.date, str]]] = {}
    cols = mapping.select(["numero_compte", "siret", "date_disparition_siret"]).to_pydict()
    for compte, siret, closed in zip(cols["numero_compte"], cols["siret"], cols["date_disparition_siret"], strict=True):
        if compte and siret:
            out.setdefault(compte.strip(), []).append((closed or NEVER_CLOSED, siret))
    for pairs in out.values():
        pairs.sort()
    return out


def _dates(values: set[str], kind: str) -> dict[str, dt.date | None]:
    """Each raw period or date value → the day it stands for (one DuckDB query for the distinct values)."""
    expr = {"period": q.urssaf_period_start("v"), "urssaf_date": q.urssaf_date("v"),
            "fr_date": "try_strptime(v, '%d/%m/%Y')::DATE"}[kind]  # fmt: skip
    vals = sorted(values)
    if not vals:
        return {}
    with duckdb.connect() as con:
        rows = con.execute(f"SELECT v, {expr} FROM (SELECT unnest(?::VARCHAR[]) AS v)", [vals]).fetchall()
    return {v: d for v, d in rows}


def with_siret(path: Path, source_name: str, mapping: pa.Table, folder: Path) -> tuple[Path, int]:
    """A copy of account-only ``path`` in ``folder`` with a ``Siret`` column; and how many rows map to no SIRET."""
    account_col, date_col, kind = ACCOUNT_FORMAT[source_name]
    lines = _open(path)
    header = [h.strip().strip('"').lower() for h in lines[0].rstrip("\r").split(";")]
    ia, idate = header.index(account_col.lower()), header.index(date_col.lower()) if date_col.lower() in header else -1
    rows = [ln.rstrip("\r").split(";") for ln in lines[1:]]
    dates = _dates({r[idate].strip() for r in rows if idate >= 0 and len(r) > idate}, kind)
    accounts = _by_account(mapping)
    out, unmapped = [lines[0].rstrip("\r") + ";Siret"], 0
    for raw, r in zip(lines[1:], rows, strict=True):
        if not raw.strip():
            out.append(raw)
            continue
        account = r[ia].strip().strip('"') if len(r) > ia else ""
        when = dates.get(r[idate].strip()) if idate >= 0 and len(r) > idate else None
        siret = None
        if when is not None:
            siret = next((s for closed, s in accounts.get(account, []) if closed > when), None)
        if siret is None:
            unmapped += 1
            siret = f"{MARKER}{account}:{when.isoformat() if when else r[idate] if 0 <= idate < len(r) else ''}"
        out.append(raw.rstrip("\r") + ";" + siret)
    target = folder / path.name.removesuffix(".gz")
    target.write_text("\n".join(out), encoding="utf-8", errors="surrogateescape")
    return target, unmapped


def explain_unmapped(rejections: pa.Table) -> pa.Table:
    """The SIRET-check rejections of unmapped rows, with their reason: the account and the period."""
    if rejections.num_rows == 0:
        return rejections
    raw = rejections.column("raw_value")
    marked = pc.fill_null(pc.starts_with(raw, MARKER), False)
    if not pc.any(marked).as_py():
        return rejections
    reasons = []
    for is_marked, value, reason in zip(marked.to_pylist(), raw.to_pylist(), rejections.column("reason").to_pylist(),
                                        strict=True):  # fmt: skip
        if is_marked and value:
            account, _, when = value[len(MARKER) :].partition(":")
            reasons.append(f"account {account} maps to no SIRET at {when} (account map Sigfaible_etablissement_utf8.csv)")
        else:
            reasons.append(reason)
    idx = rejections.schema.get_field_index("reason")
    return rejections.set_column(idx, rejections.schema.field("reason"), pa.array(reasons, pa.string()))
