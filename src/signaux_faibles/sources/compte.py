"""URSSAF account → SIRET mapping (legacy ``admin_urssaf``, ``Sigfaible_etablissement_utf8.csv``) → ``stg_compte``.

Raw format (real_system.md §1.2): ``;``-separated UTF-8 CSV, header ``Urssaf_gestion;Dep;Compte;Etat_compte;
Siren;Siret;Date_crea_siret;Date_disp_siret`` (a trailing ``Cle_md5`` may follow). Dates are URSSAF
``(A)AAMMJJ`` numbers: value = (year − 1900) × 10000 + MMDD, so ``1130828`` is 2013-08-28 and ``990612``
1999-06-12. An empty ``Date_disp_siret`` means the SIRET was never closed: it is stored as the real system's
sentinel ``9990101``, i.e. 2899-01-01.

The staging table keeps every mapping row. :func:`siret_for` and :func:`comptes_at` apply the real rule: for an
account, sort its (SIRET, closure date) pairs by closure date and take the first SIRET closed after the period.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa

from signaux_faibles.sources._base import Column, ParseResult
from signaux_faibles.sources._read import Check, finish, read_text, siret_checks
from signaux_faibles.sources._sql import integer, luhn, txt

__all__ = ["COMPTE", "NEVER_CLOSED", "CompteSource", "comptes_at", "siret_for", "urssaf_date_sql"]

#: Closure date of a SIRET that was never closed (URSSAF ``9990101``).
NEVER_CLOSED = dt.date(2899, 1, 1)

_REQUIRED = ("Urssaf_gestion", "Dep", "Compte", "Etat_compte", "Siren", "Siret", "Date_crea_siret",
             "Date_disp_siret")


def urssaf_date_sql(expr: str) -> str:
    """DATE from an URSSAF ``(A)AAMMJJ`` number (6 or 7 digits); NULL when not a real date."""
    v = f"TRY_CAST({expr} AS INTEGER)"
    return (
        f"(CASE WHEN regexp_full_match({expr}, '[0-9]{{6,7}}') THEN CAST(try_strptime(printf('%04d-%04d', "
        f"{v} // 10000 + 1900, {v} % 10000), '%Y-%m%d') AS DATE) END)"
    )


@dataclass(frozen=True)
class CompteSource:
    """URSSAF: which SIRET an URSSAF account number belonged to, and when."""

    name: str = "admin_urssaf"
    table: str = "stg_compte"
    kind: Literal["stock", "flux"] = "stock"
    key: Literal["siret", "siren"] | None = "siret"
    patterns: tuple[re.Pattern[str], ...] = (re.compile(r"^Sigfaible_etablissement_utf8\.csv(\.gz)?$"),)
    columns: tuple[Column, ...] = (
        Column("numero_compte", "VARCHAR", "Compte", "URSSAF account number"),
        Column("siret", "VARCHAR", "Siret", "SIRET attached to the account (14 digits)"),
        Column("siren", "VARCHAR", "Siren", "SIREN as delivered"),
        Column("urssaf_gestion", "VARCHAR", "Urssaf_gestion", "Managing URSSAF code"),
        Column("departement", "VARCHAR", "Dep", "Département"),
        Column("etat_compte", "INTEGER", "Etat_compte", "Account state code"),
        Column("date_creation_siret", "DATE", "Date_crea_siret", "Date the SIRET was attached"),
        Column("date_disparition_siret", "DATE", "Date_disp_siret", "Date the SIRET was closed; 2899-01-01 "
               "(URSSAF 9990101) when never closed"),
        Column("siret_luhn_ok", "BOOLEAN", None, "The SIRET passes the Luhn check (false: flagged, not rejected)"),
    )

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one account mapping file (plain or gzip)."""
        raw = read_text(path, delimiter=";", required=_REQUIRED, expected="URSSAF Sigfaible_etablissement CSV")
        siret = txt("Siret")
        crea, disp = txt("Date_crea_siret"), txt("Date_disp_siret")
        values = {
            "numero_compte": txt("Compte"),
            "siret": siret,
            "siren": txt("Siren"),
            "urssaf_gestion": txt("Urssaf_gestion"),
            "departement": txt("Dep"),
            "etat_compte": integer(txt("Etat_compte")),
            "date_creation_siret": urssaf_date_sql(crea),
            "date_disparition_siret": f"coalesce({urssaf_date_sql(disp)}, DATE '2899-01-01')",
            "siret_luhn_ok": luhn(siret),
        }
        checks = [
            Check("Compte", f"{txt('Compte')} IS NULL", "Compte (account number) is empty"),
            *siret_checks("Siret"),
            Check("Date_disp_siret", f"{disp} IS NOT NULL AND {urssaf_date_sql(disp)} IS NULL",
                  "Date_disp_siret is not a valid (A)AAMMJJ date"),
            Check("Date_crea_siret", f"{crea} IS NOT NULL AND {urssaf_date_sql(crea)} IS NULL",
                  "Date_crea_siret is not a valid (A)AAMMJJ date", "field"),
            Check("Etat_compte", f"{txt('Etat_compte')} IS NOT NULL AND {integer(txt('Etat_compte'))} IS NULL",
                  "Etat_compte is not a number", "field"),
        ]
        return finish(con, self.columns, raw, values, checks)


COMPTE = CompteSource()


def _by_account(mapping: pa.Table) -> dict[str, list[tuple[dt.date, str]]]:
    out: dict[str, list[tuple[dt.date, str]]] = {}
    cols = mapping.select(["numero_compte", "siret", "date_disparition_siret"]).to_pydict()
    for compte, siret, disp in zip(cols["numero_compte"], cols["siret"], cols["date_disparition_siret"], strict=True):
        if compte is None or siret is None:
            continue
        out.setdefault(compte, []).append((disp if disp is not None else NEVER_CLOSED, siret))
    for pairs in out.values():
        pairs.sort()
    return out


def siret_for(mapping: pa.Table, compte: str, periode: dt.date) -> str | None:
    """The SIRET of URSSAF account ``compte`` at ``periode``, or None.

    Parameters
    ----------
    mapping : pyarrow.Table
        ``stg_compte`` rows (at least ``numero_compte``, ``siret``, ``date_disparition_siret``).
    compte : str
        URSSAF account number.
    periode : datetime.date
        First day of the period.

    Returns
    -------
    str or None
        The first SIRET of the account, by closure date, closed after ``periode``; None when every SIRET of the
        account was closed by then (the real system's "filter error").

    Examples
    --------
    >>> import pyarrow as pa, datetime as dt
    >>> m = pa.table({"numero_compte": ["A", "A"], "siret": ["11111111111111", "22222222222222"],
    ...               "date_disparition_siret": [dt.date(2011, 8, 1), NEVER_CLOSED]})
    >>> siret_for(m, "A", dt.date(2010, 1, 1)), siret_for(m, "A", dt.date(2018, 12, 1))
    ('11111111111111', '22222222222222')
    """
    for closed, siret in _by_account(mapping).get(compte, []):
        if closed > periode:
            return siret
    return None


def comptes_at(mapping: pa.Table, periode: dt.date) -> pa.Table:
    """For every account, its SIRET at ``periode``: columns ``numero_compte``, ``siret``, ``periode``.

    Accounts without a SIRET open at ``periode`` are left out (see :func:`siret_for`).
    """
    rows = []
    for compte, pairs in _by_account(mapping).items():
        siret = next((s for closed, s in pairs if closed > periode), None)
        if siret is not None:
            rows.append((compte, siret))
    return pa.table(
        {
            "numero_compte": pa.array([r[0] for r in rows], pa.string()),
            "siret": pa.array([r[1] for r in rows], pa.string()),
            "periode": pa.array([periode] * len(rows), pa.date32()),
        }
    )
