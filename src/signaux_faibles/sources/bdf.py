"""Banque de France ratios (legacy, OSF-legacy ``lib/bdf``) → ``stg_bdf``.

Raw format (real_system.md §1.5): ``;``-separated CSV, header ``D1;ANNEE;ARRETE_BILAN;DENOM;CP;REGION;SECTEUR;
POIDS_FRNG;TX_MARGE;DELAI_FRS;POIDS_DFISC_SOC;POIDS_FIN_CT;POIDS_FRAIS_FIN``. The SIREN (``D1``) is written with
spaces (``000 111 222``); ``ARRETE_BILAN`` looks like ``31DEC2012`` or uses French month abbreviations
(``31déc2012``, ``31-janv-2013``); ratios may carry a decimal comma. There is no delivery file name in the real
system: files named ``bdf*``, ``BDF*`` or ``ratios_bdf*`` (``.csv``, optionally ``.gz``) are taken.

A line whose year, closing date or a ratio cannot be read is rejected, as in the real parser.
"""

from __future__ import annotations

from signaux_faibles.sources._read.spec import NUMBER, WHOLE, Field, Parser, TextSource, gz, luhn_of
from signaux_faibles.sources._sql import lit, q

__all__ = ["BDF", "arrete_bilan_sql"]

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


_SIREN = Field("siren", "D1", description="SIREN (9 digits, spaces removed)", identifier="siren",
               sql=f"nullif(replace(replace({q('D1')}, ' ', ''), chr(160), ''), '')")

BDF = TextSource(
    "bdf", "stg_bdf", "stock", "siren", (gz(r"^(bdf|BDF|ratios_bdf).*\.csv"),),
    delimiter=";",
    expected="Banque de France CSV",
    fields=(
        _SIREN,
        Field("annee_bdf", "ANNEE", "INTEGER", "Year of the financial statement", WHOLE, required=True, label="year"),
        Field("arrete_bilan_bdf", "ARRETE_BILAN", "DATE", "Closing date of the financial year",
              Parser(arrete_bilan_sql, "closing date such as 31DEC2012"), required=True),
        Field("raison_sociale", "DENOM", description="Company name"),
        Field("code_postal", "CP", description="Postal code", optional=True),
        Field("region", "REGION", description="Region name", optional=True),
        Field("secteur", "SECTEUR", description="Sector"),
        *(Field(n, r, "DOUBLE", d, NUMBER) for n, r, d in _RATIOS),
        luhn_of(_SIREN),
    ),
)
