"""Altares paydex, legacy retro file (``E_<12 digits>_Retro-Paydex_<8 digits>.csv``) → ``stg_paydex``.

Raw format (real_system.md §1.5, OSF-legacy ``lib/paydex``): ISO-8859-15, ``;``-separated, header
``SIREN;NB_JOURS;NB_JOURS_LIB;DATE_VALEUR``, ``DATE_VALEUR`` as ``dd/mm/yyyy``. A line whose date or number of
days cannot be read is rejected (``01/15/2019`` in the real test data). This source is a *flux*: each monthly
file adds to the previous ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from signaux_faibles.sources._base import Column, ParseResult
from signaux_faibles.sources._read import finish, read_text, required_value, siren_checks
from signaux_faibles.sources._sql import fr_date, integer, luhn, txt

__all__ = ["PAYDEX", "PaydexSource"]

_REQUIRED = ("SIREN", "NB_JOURS", "DATE_VALEUR")
_OPTIONAL = ("NB_JOURS_LIB",)


@dataclass(frozen=True)
class PaydexSource:
    """Altares paydex: average payment delay to suppliers, per company and date."""

    name: str = "paydex"
    table: str = "stg_paydex"
    kind: Literal["stock", "flux"] = "flux"
    key: Literal["siret", "siren"] | None = "siren"
    patterns: tuple[re.Pattern[str], ...] = (re.compile(r"^E_[0-9]{12}_Retro-Paydex_[0-9]{8}\.csv(\.gz)?$"),)
    columns: tuple[Column, ...] = (
        Column("siren", "VARCHAR", "SIREN", "SIREN (9 digits)"),
        Column("date_valeur", "DATE", "DATE_VALEUR", "Date of the paydex value"),
        Column("nb_jours", "INTEGER", "NB_JOURS", "Average payment delay beyond terms, days"),
        Column("nb_jours_lib", "VARCHAR", "NB_JOURS_LIB", "Label of the delay as delivered"),
        Column("siren_luhn_ok", "BOOLEAN", None, "The SIREN passes the Luhn check (false: flagged, not rejected)"),
    )

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one paydex retro file (plain or gzip)."""
        raw = read_text(
            path, delimiter=";", required=_REQUIRED, optional=_OPTIONAL, encoding="iso-8859-15",
            expected="Altares paydex CSV (ISO-8859-15)",
        )
        siren = txt("SIREN")
        values = {
            "siren": siren,
            "date_valeur": fr_date(txt("DATE_VALEUR")),
            "nb_jours": integer(txt("NB_JOURS")),
            "nb_jours_lib": txt("NB_JOURS_LIB"),
            "siren_luhn_ok": luhn(siren),
        }
        checks = [
            *siren_checks("SIREN"),
            *required_value("NB_JOURS", integer(txt("NB_JOURS")), "NB_JOURS (whole number of days)"),
            *required_value("DATE_VALEUR", fr_date(txt("DATE_VALEUR")), "DATE_VALEUR (dd/mm/yyyy)"),
        ]
        return finish(con, self.columns, raw, values, checks)


PAYDEX = PaydexSource()
