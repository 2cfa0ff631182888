"""Banque de France ratios (legacy, OSF-legacy ``lib/bdf``) → ``stg_bdf``.

Raw format (real_system.md §1.5): ``;``-separated CSV, header ``D1;ANNEE;ARRETE_BILAN;DENOM;CP;REGION;SECTEUR;
POIDS_FRNG;TX_MARGE;DELAI_FRS;POIDS_DFISC_SOC;POIDS_FIN_CT;POIDS_FRAIS_FIN``. The SIREN (``D1``) is written with
spaces (``000 111 222``); ``ARRETE_BILAN`` looks like ``31DEC2012`` or uses French month abbreviations
(``31déc2012``, ``31-janv-2013``); ratios may carry a decimal comma. There is no delivery file name in the real
system: files named ``bdf*``, ``BDF*`` or ``ratios_bdf*`` (``.csv``, optionally ``.gz``) are taken.

A line whose year, closing date or a ratio cannot be read is rejected, as in the real parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from signaux_faibles.sources._base import Column, ParseResult
from signaux_faibles.sources._read import finish, optional_value, read_text, required_value, siren_checks
from signaux_faibles.sources._sql import integer, lit, luhn, num, q, txt

__all__ = ["BDF", "BdfSource", "arrete_bilan_sql"]

_REQUIRED = (
    "D1", "ANNEE", "ARRETE_BILAN", "DENOM", "SECTEUR", "POIDS_FRNG", "TX_MARGE", "DELAI_FRS", "POIDS_DFISC_SOC",
    "POIDS_FIN_CT", "POIDS_FRAIS_FIN",
)
_OPTIONAL = ("CP", "REGION")
_RATIOS = (
    ("poids_frng", "POIDS_FRNG", "Net working capital over turnover, %"),
    ("taux_marge", "TX_MARGE", "Margin rate: 100 × EBE / value added, %"),
    ("delai_fournisseur", "DELAI_FRS", "Supplier payment delay: 360 × supplier debts / purchases, days"),
    ("dette_fiscale", "POIDS_DFISC_SOC", "Tax and social debts over value added, %"),
    ("financier_court_terme", "POIDS_FIN_CT", "Short-term bank credit over turnover, %"),
    ("frais_financier", "POIDS_FRAIS_FIN", "Financial costs over corrected EBE, %"),
)
_DATE_RE = r"\s*([0-9]{1,2})[\s./-]*([^0-9\s./-]+)\.?[\s./-]*([0-9]{4}|[0-9]{2})\s*"


def arrete_bilan_sql(expr: str) -> str:
    """DATE from ``31DEC2012``, ``31déc2012``, ``31-janv-13``…; ``dd/mm/yyyy`` and ISO dates also read."""
    day = f"TRY_CAST(regexp_extract({expr}, {lit(_DATE_RE)}, 1) AS INTEGER)"
    tok = f"lower(regexp_extract({expr}, {lit(_DATE_RE)}, 2))"
    yr = f"TRY_CAST(regexp_extract({expr}, {lit(_DATE_RE)}, 3) AS INTEGER)"
    year = f"(CASE WHEN {yr} < 100 THEN 2000 + {yr} ELSE {yr} END)"
    month = (
        f"(CASE WHEN {tok} IN ('jan', 'janv', 'janvier') THEN 1 "
        f"WHEN {tok} IN ('feb', 'fev', 'fév', 'févr', 'fevr', 'février', 'fevrier') THEN 2 "
        f"WHEN {tok} IN ('mar', 'mars') THEN 3 WHEN {tok} IN ('apr', 'avr', 'avril') THEN 4 "
        f"WHEN {tok} IN ('may', 'mai') THEN 5 WHEN {tok} IN ('jun', 'juin') THEN 6 "
        f"WHEN {tok} IN ('jul', 'juil', 'juillet') THEN 7 WHEN {tok} IN ('aug', 'aou', 'aoû', 'août', 'aout') THEN 8 "
        f"WHEN {tok} IN ('sep', 'sept', 'septembre') THEN 9 WHEN {tok} IN ('oct', 'octobre') THEN 10 "
        f"WHEN {tok} IN ('nov', 'novembre') THEN 11 WHEN {tok} IN ('dec', 'déc', 'décembre', 'decembre') THEN 12 END)"
    )
    named = (
        f"CAST(try_strptime(printf('%04d-%02d-%02d', {year}, {month}, {day}), '%Y-%m-%d') AS DATE)"
    )
    return (
        f"(CASE WHEN regexp_full_match({expr}, {lit(_DATE_RE)}) THEN {named} "
        f"WHEN regexp_full_match({expr}, '[0-9]{{2}}/[0-9]{{2}}/[0-9]{{4}}') "
        f"THEN CAST(try_strptime({expr}, '%d/%m/%Y') AS DATE) "
        f"WHEN regexp_full_match({expr}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
        f"THEN CAST(try_strptime({expr}, '%Y-%m-%d') AS DATE) END)"
    )


@dataclass(frozen=True)
class BdfSource:
    """Banque de France: yearly financial ratios per company."""

    name: str = "bdf"
    table: str = "stg_bdf"
    kind: Literal["stock", "flux"] = "stock"
    key: Literal["siret", "siren"] | None = "siren"
    patterns: tuple[re.Pattern[str], ...] = (re.compile(r"^(bdf|BDF|ratios_bdf).*\.csv(\.gz)?$"),)
    columns: tuple[Column, ...] = (
        Column("siren", "VARCHAR", "D1", "SIREN (9 digits, spaces removed)"),
        Column("annee_bdf", "INTEGER", "ANNEE", "Year of the financial statement"),
        Column("arrete_bilan_bdf", "DATE", "ARRETE_BILAN", "Closing date of the financial year"),
        Column("raison_sociale", "VARCHAR", "DENOM", "Company name"),
        Column("code_postal", "VARCHAR", "CP", "Postal code"),
        Column("region", "VARCHAR", "REGION", "Region name"),
        Column("secteur", "VARCHAR", "SECTEUR", "Sector"),
        *(Column(n, "DOUBLE", r, d) for n, r, d in _RATIOS),
        Column("siren_luhn_ok", "BOOLEAN", None, "The SIREN passes the Luhn check (false: flagged, not rejected)"),
    )

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one Banque de France ratios file (plain or gzip)."""
        raw = read_text(path, delimiter=";", required=_REQUIRED, optional=_OPTIONAL, expected="Banque de France CSV")
        siren = f"nullif(replace(replace({q('D1')}, ' ', ''), chr(160), ''), '')"
        arrete = arrete_bilan_sql(txt("ARRETE_BILAN"))
        values = {
            "siren": siren,
            "annee_bdf": integer(txt("ANNEE")),
            "arrete_bilan_bdf": arrete,
            "raison_sociale": txt("DENOM"),
            "code_postal": txt("CP"),
            "region": txt("REGION"),
            "secteur": txt("SECTEUR"),
            **{n: num(txt(r)) for n, r, _ in _RATIOS},
            "siren_luhn_ok": luhn(siren),
        }
        checks = [
            *siren_checks("D1", siren),
            *required_value("ANNEE", integer(txt("ANNEE")), "ANNEE (year)"),
            *required_value("ARRETE_BILAN", arrete, "ARRETE_BILAN (closing date such as 31DEC2012)"),
            *(optional_value(r, num(txt(r)), f"{r} (number)") for _, r, _ in _RATIOS),
        ]
        return finish(con, self.columns, raw, values, checks)


BDF = BdfSource()
