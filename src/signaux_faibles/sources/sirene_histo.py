"""INSEE SIRENE établissements history (``StockEtablissementHistorique_utf8.csv``) → ``stg_sirene_histo``.

Raw format (real_system.md §1.4): ``,``-separated UTF-8 CSV, one row per period of an establishment
(``dateDebut``..``dateFin``), with its administrative state and whether that state changed.

Rules, as the real parser (OSF ``lib/parsing/sirene_histo``):

- SIRET must be 14 digits (a bad Luhn key is only flagged);
- an unreadable ``dateDebut`` or ``dateFin`` rejects the row; one of them may be empty;
- both dates empty: the row is *filtered* (an establishment closed long before any period of interest);
- ``etatAdministratifEtablissement`` must be ``A`` or ``F`` and ``changementEtatAdministratifEtablissement`` a
  boolean, else the row is rejected.

The activity nomenclature plays no part here (this table carries no activity). Not filtered by the perimeter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from signaux_faibles.sources._base import Column, ParseResult
from signaux_faibles.sources._read import Check, finish, read_text, siret_checks
from signaux_faibles.sources._sql import go_bool, iso_date, luhn, txt

__all__ = ["SIRENE_HISTO", "SireneHistoSource"]

_REQUIRED = (
    "siret", "dateFin", "dateDebut", "etatAdministratifEtablissement", "changementEtatAdministratifEtablissement",
)


@dataclass(frozen=True)
class SireneHistoSource:
    """INSEE SIRENE history: periods of activity of every establishment."""

    name: str = "sirene_histo"
    table: str = "stg_sirene_histo"
    kind: Literal["stock", "flux"] = "stock"
    key: Literal["siret", "siren"] | None = None
    patterns: tuple[re.Pattern[str], ...] = (re.compile(r"^StockEtablissementHistorique_utf8\.csv(\.gz)?$"),)
    columns: tuple[Column, ...] = (
        Column("siret", "VARCHAR", "siret", "SIRET (14 digits)"),
        Column("date_debut", "DATE", "dateDebut", "First day of the period"),
        Column("date_fin", "DATE", "dateFin", "Last day of the period (NULL: still current)"),
        Column("est_actif", "BOOLEAN", "etatAdministratifEtablissement", "State A (active) during the period"),
        Column("changement_statut_actif", "BOOLEAN", "changementEtatAdministratifEtablissement",
               "The administrative state changed at the start of the period"),
        Column("siret_luhn_ok", "BOOLEAN", None, "The SIRET passes the Luhn check (false: flagged, not rejected)"),
    )

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one SIRENE history stock file (plain or gzip)."""
        raw = read_text(path, delimiter=",", required=_REQUIRED, expected="INSEE StockEtablissementHistorique CSV")
        siret = txt("siret")
        debut, fin = txt("dateDebut"), txt("dateFin")
        etat = txt("etatAdministratifEtablissement")
        changement = go_bool(txt("changementEtatAdministratifEtablissement"))
        values = {
            "siret": siret,
            "date_debut": iso_date(debut),
            "date_fin": iso_date(fin),
            "est_actif": f"({etat} = 'A')",
            "changement_statut_actif": changement,
            "siret_luhn_ok": luhn(siret),
        }
        checks = [
            *siret_checks("siret"),
            Check("dateDebut", f"{debut} IS NOT NULL AND {iso_date(debut)} IS NULL",
                  "dateDebut is not a valid YYYY-MM-DD date"),
            Check("dateFin", f"{fin} IS NOT NULL AND {iso_date(fin)} IS NULL", "dateFin is not a valid YYYY-MM-DD date"),
            Check("dateDebut", f"{debut} IS NULL AND {fin} IS NULL",
                  "filtered: both dateDebut and dateFin are missing"),
            Check("etatAdministratifEtablissement", f"{etat} IS NULL OR {etat} NOT IN ('A', 'F')",
                  "etatAdministratifEtablissement must be A or F"),
            Check("changementEtatAdministratifEtablissement", f"{changement} IS NULL",
                  "changementEtatAdministratifEtablissement is not a boolean"),
        ]
        return finish(con, self.columns, raw, values, checks)


SIRENE_HISTO = SireneHistoSource()
