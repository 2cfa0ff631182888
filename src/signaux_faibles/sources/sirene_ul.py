"""INSEE SIRENE unités légales (``sireneUL.csv``, i.e. ``StockUniteLegale_utf8``) → ``stg_sirene_ul``.

Raw format (real_system.md §1.4): ``,``-separated UTF-8 CSV with the INSEE stock header; the column
``activitePrincipaleNAF25UniteLegale`` (2026) is optional.

Rules, as the real parser (OSF ``lib/parsing/sirene_ul``) and its expected outputs show:

- SIREN must be 9 digits (row-level rejection otherwise; a bad Luhn key is only flagged);
- a row whose activity nomenclature is given and is not ``NAFRev2`` is *filtered* (row-level rejection whose
  reason starts with ``filtered:``);
- ``activite_principale`` (the APE) must match ``^\\d{2}\\.\\d{2}[A-Z]$``; otherwise it is NULL with a
  field-level rejection; same for the NAF 2025 code;
- an unreadable creation date is NULL with a field-level rejection (the real parser silently drops it);
- ``est_actif`` is ``etatAdministratifUniteLegale == "A"``; ``raison_sociale`` is ``denominationUniteLegale``.

Not filtered by the perimeter (``key`` is None).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from signaux_faibles.sources._base import Column, ParseResult
from signaux_faibles.sources._read import Check, finish, read_text
from signaux_faibles.sources._sql import digits, iso_date, lit, luhn, txt
from signaux_faibles.sources.sirene import APE_PATTERN, nomenclature_filter

__all__ = ["SIRENE_UL", "SireneULSource"]

_REQUIRED = (
    "siren", "dateCreationUniteLegale", "prenom1UniteLegale", "prenom2UniteLegale", "prenom3UniteLegale",
    "prenom4UniteLegale", "etatAdministratifUniteLegale", "nomUniteLegale", "nomUsageUniteLegale",
    "denominationUniteLegale", "categorieJuridiqueUniteLegale", "activitePrincipaleUniteLegale",
    "nomenclatureActivitePrincipaleUniteLegale",
)
_OPTIONAL = ("activitePrincipaleNAF25UniteLegale", "nicSiegeUniteLegale")


@dataclass(frozen=True)
class SireneULSource:
    """INSEE SIRENE unités légales: name, legal form, activity and state of every company."""

    name: str = "sirene_ul"
    table: str = "stg_sirene_ul"
    kind: Literal["stock", "flux"] = "stock"
    key: Literal["siret", "siren"] | None = None
    patterns: tuple[re.Pattern[str], ...] = (
        re.compile(r"^sireneUL\.csv(\.gz)?$"),
        re.compile(r"^StockUniteLegale_utf8\.csv(\.gz)?$"),
    )
    columns: tuple[Column, ...] = (
        Column("siren", "VARCHAR", "siren", "SIREN (9 digits)"),
        Column("raison_sociale", "VARCHAR", "denominationUniteLegale", "Company name (legal persons)"),
        Column("prenom1_unite_legale", "VARCHAR", "prenom1UniteLegale", "First first name (natural persons)"),
        Column("prenom2_unite_legale", "VARCHAR", "prenom2UniteLegale", "Second first name"),
        Column("prenom3_unite_legale", "VARCHAR", "prenom3UniteLegale", "Third first name"),
        Column("prenom4_unite_legale", "VARCHAR", "prenom4UniteLegale", "Fourth first name"),
        Column("nom_unite_legale", "VARCHAR", "nomUniteLegale", "Last name (natural persons)"),
        Column("nom_usage_unite_legale", "VARCHAR", "nomUsageUniteLegale", "Usage name"),
        Column("categorie_juridique", "VARCHAR", "categorieJuridiqueUniteLegale", "Legal form (4-digit code)"),
        Column("activite_principale", "VARCHAR", "activitePrincipaleUniteLegale", "APE, NAF rev2 (NN.NNX); NULL "
               "when the code does not have that shape"),
        Column("creation", "DATE", "dateCreationUniteLegale", "Creation date"),
        Column("est_actif", "BOOLEAN", "etatAdministratifUniteLegale", "Administrative state is A (active)"),
        Column("activite_principale_naf25", "VARCHAR", "activitePrincipaleNAF25UniteLegale", "Activity in NAF 2025 "
               "(optional column, NULL when absent)"),
        Column("nic_siege", "VARCHAR", "nicSiegeUniteLegale", "NIC of the head office"),
        Column("siren_luhn_ok", "BOOLEAN", None, "The SIREN passes the Luhn check (false: flagged, not rejected)"),
    )

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one SIRENE unités légales stock file (plain or gzip)."""
        raw = read_text(
            path, delimiter=",", required=_REQUIRED, optional=_OPTIONAL, expected="INSEE StockUniteLegale CSV"
        )
        siren = txt("siren")
        ape = txt("activitePrincipaleUniteLegale")
        naf25 = txt("activitePrincipaleNAF25UniteLegale")
        ape_ok = f"coalesce(regexp_full_match({ape}, {lit(APE_PATTERN)}), false)"
        naf25_ok = f"coalesce(regexp_full_match({naf25}, {lit(APE_PATTERN)}), false)"
        creation = iso_date(txt("dateCreationUniteLegale"))
        values = {
            "siren": siren,
            "raison_sociale": txt("denominationUniteLegale"),
            "prenom1_unite_legale": txt("prenom1UniteLegale"),
            "prenom2_unite_legale": txt("prenom2UniteLegale"),
            "prenom3_unite_legale": txt("prenom3UniteLegale"),
            "prenom4_unite_legale": txt("prenom4UniteLegale"),
            "nom_unite_legale": txt("nomUniteLegale"),
            "nom_usage_unite_legale": txt("nomUsageUniteLegale"),
            "categorie_juridique": txt("categorieJuridiqueUniteLegale"),
            "activite_principale": f"(CASE WHEN {ape_ok} THEN {ape} END)",
            "creation": creation,
            "est_actif": f"coalesce({txt('etatAdministratifUniteLegale')} = 'A', false)",
            "activite_principale_naf25": f"(CASE WHEN {naf25_ok} THEN {naf25} END)",
            "nic_siege": txt("nicSiegeUniteLegale"),
            "siren_luhn_ok": luhn(siren),
        }
        checks = [
            Check("siren", f"NOT {digits(siren, 9)}", "SIREN must be 9 digits"),
            nomenclature_filter(txt("nomenclatureActivitePrincipaleUniteLegale"),
                                "nomenclatureActivitePrincipaleUniteLegale"),
            Check("activitePrincipaleUniteLegale", f"{ape} IS NOT NULL AND NOT {ape_ok}",
                  "activity code is not a NAF rev2 code NN.NNX: left NULL", "field"),
            Check("activitePrincipaleNAF25UniteLegale", f"{naf25} IS NOT NULL AND NOT {naf25_ok}",
                  "NAF 2025 activity code is not NN.NNX: left NULL", "field"),
            Check("dateCreationUniteLegale", f"{txt('dateCreationUniteLegale')} IS NOT NULL AND {creation} IS NULL",
                  "dateCreationUniteLegale is not a valid YYYY-MM-DD date", "field"),
        ]
        return finish(con, self.columns, raw, values, checks)


SIRENE_UL = SireneULSource()
