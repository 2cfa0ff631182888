"""DGEFP activité partielle, consommations (``consommation_ap.csv``) → ``stg_apconso``.

Raw format (real_system.md §1.3): ``,``-separated CSV, quoted header
``"ID_DA","ETAB_SIRET","HEURES","MONTANTS","EFFECTIFS","MOIS"``, ``MOIS`` as ``YYYY-MM-DD``.
As in the real parser (OSF ``lib/parsing/apconso``), a line whose date or numbers cannot be read is rejected
as a whole; an empty, short or non-numeric SIRET is rejected; a bad Luhn key is only flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from signaux_faibles.sources._base import Column, ParseResult
from signaux_faibles.sources._read import finish, optional_value, read_text, required_value, siret_checks
from signaux_faibles.sources._sql import integer, iso_date, luhn, num, txt

__all__ = ["APCONSO", "ApconsoSource"]

_REQUIRED = ("ID_DA", "ETAB_SIRET", "HEURES", "MONTANTS", "EFFECTIFS", "MOIS")


@dataclass(frozen=True)
class ApconsoSource:
    """DGEFP activité partielle: hours and amounts consumed per establishment and month."""

    name: str = "apconso"
    table: str = "stg_apconso"
    kind: Literal["stock", "flux"] = "stock"
    key: Literal["siret", "siren"] | None = "siret"
    patterns: tuple[re.Pattern[str], ...] = (re.compile(r"^consommation_ap\.csv(\.gz)?$"),)
    columns: tuple[Column, ...] = (
        Column("siret", "VARCHAR", "ETAB_SIRET", "SIRET of the establishment (14 digits)"),
        Column("id_demande", "VARCHAR", "ID_DA", "Identifier of the authorisation request (demande)"),
        Column("heures", "DOUBLE", "HEURES", "Hours of activité partielle consumed in the month"),
        Column("montant", "DOUBLE", "MONTANTS", "Amount paid for those hours, euros"),
        Column("effectif", "INTEGER", "EFFECTIFS", "Employees concerned"),
        Column("periode", "DATE", "MOIS", "Month of consumption (the day as delivered, usually the 1st)"),
        Column("siret_luhn_ok", "BOOLEAN", None, "The SIRET passes the Luhn check (false: flagged, not rejected)"),
    )

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one ``consommation_ap.csv`` (plain or gzip)."""
        raw = read_text(path, delimiter=",", required=_REQUIRED, expected="DGEFP consommation_ap CSV")
        siret = txt("ETAB_SIRET")
        values = {
            "siret": siret,
            "id_demande": txt("ID_DA"),
            "heures": num(txt("HEURES")),
            "montant": num(txt("MONTANTS")),
            "effectif": integer(txt("EFFECTIFS")),
            "periode": iso_date(txt("MOIS")),
            "siret_luhn_ok": luhn(siret),
        }
        checks = [
            *siret_checks("ETAB_SIRET"),
            *required_value("MOIS", iso_date(txt("MOIS")), "MOIS (YYYY-MM-DD)"),
            optional_value("HEURES", num(txt("HEURES")), "HEURES (number)"),
            optional_value("MONTANTS", num(txt("MONTANTS")), "MONTANTS (number)"),
            optional_value("EFFECTIFS", integer(txt("EFFECTIFS")), "EFFECTIFS (whole number)"),
        ]
        return finish(con, self.columns, raw, values, checks)


APCONSO = ApconsoSource()
