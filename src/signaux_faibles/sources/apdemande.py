"""DGEFP activité partielle, demandes d'autorisation (``demande_ap.csv``) → ``stg_apdemande``.

Raw format (real_system.md §1.3): ``,``-separated CSV with lazy quotes, header ``ID_DA, ETAB_SIRET, EFF_ENT,
EFF_ETAB, DATE_STATUT, DATE_DEB, DATE_FIN, HTA, MTA, EFF_AUTO, MOTIF_RECOURS_SE, PERIMETRE_AP,
S_HEURE_CONSOM_TOT, S_EFF_CONSOM_TOT, S_MONTANT_CONSOM_TOT, RECOURS_ANTERIEUR``; amounts may carry a decimal
comma; blank lines between records are ignored.

Rules, as in the real parser (OSF ``lib/parsing/apdemande``): an empty SIRET rejects the line; an unreadable
date or number rejects the line; ``MOTIF_RECOURS_SE`` outside 1..7 is dropped (NULL) and reported as a
field-level rejection, the line being kept.

Staging names follow the real ``stg_apdemande`` table: ``heures``, ``montant`` and ``effectif`` are the
*authorised* hours (HTA), amount (MTA) and headcount (EFF_AUTO); the other counts carry explicit names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from signaux_faibles.sources._base import Column, ParseResult
from signaux_faibles.sources._read import (
    Check,
    finish,
    optional_value,
    read_text,
    required_value,
    siret_checks,
)
from signaux_faibles.sources._sql import integer, iso_date, luhn, num, txt

__all__ = ["APDEMANDE", "ApdemandeSource"]

_REQUIRED = (
    "ID_DA", "ETAB_SIRET", "EFF_ENT", "EFF_ETAB", "DATE_STATUT", "DATE_DEB", "DATE_FIN", "HTA", "MTA", "EFF_AUTO",
    "MOTIF_RECOURS_SE", "PERIMETRE_AP", "S_HEURE_CONSOM_TOT", "S_EFF_CONSOM_TOT", "S_MONTANT_CONSOM_TOT",
)
_OPTIONAL = ("RECOURS_ANTERIEUR",)


@dataclass(frozen=True)
class ApdemandeSource:
    """DGEFP activité partielle: authorisation requests per establishment."""

    name: str = "apdemande"
    table: str = "stg_apdemande"
    kind: Literal["stock", "flux"] = "stock"
    key: Literal["siret", "siren"] | None = "siret"
    patterns: tuple[re.Pattern[str], ...] = (re.compile(r"^demande_ap\.csv(\.gz)?$"),)
    columns: tuple[Column, ...] = (
        Column("id_demande", "VARCHAR", "ID_DA", "Identifier of the request"),
        Column("siret", "VARCHAR", "ETAB_SIRET", "SIRET of the establishment (14 digits)"),
        Column("date_statut", "DATE", "DATE_STATUT", "Date of the request's current status"),
        Column("periode_debut", "DATE", "DATE_DEB", "First day of the authorised period"),
        Column("periode_fin", "DATE", "DATE_FIN", "Last day of the authorised period"),
        Column("heures", "DOUBLE", "HTA", "Hours authorised"),
        Column("montant", "DOUBLE", "MTA", "Amount authorised, euros (decimal comma accepted)"),
        Column("effectif", "INTEGER", "EFF_AUTO", "Employees authorised"),
        Column("motif_recours", "INTEGER", "MOTIF_RECOURS_SE", "Reason 1..7 (1 conjoncture, 2 approvisionnement, "
               "3 sinistre, 4 transformation, 5 autres…); NULL when outside 1..7"),
        Column("effectif_entreprise", "INTEGER", "EFF_ENT", "Employees of the company"),
        Column("effectif_etablissement", "INTEGER", "EFF_ETAB", "Employees of the establishment"),
        Column("heures_consommees", "DOUBLE", "S_HEURE_CONSOM_TOT", "Hours consumed so far"),
        Column("montant_consomme", "DOUBLE", "S_MONTANT_CONSOM_TOT", "Amount consumed so far, euros"),
        Column("effectif_consomme", "INTEGER", "S_EFF_CONSOM_TOT", "Employees who consumed hours"),
        Column("perimetre", "INTEGER", "PERIMETRE_AP", "Scope of the request, 1..4"),
        Column("recours_anterieur", "INTEGER", "RECOURS_ANTERIEUR", "Earlier recourse, 1..3 (optional column)"),
        Column("siret_luhn_ok", "BOOLEAN", None, "The SIRET passes the Luhn check (false: flagged, not rejected)"),
    )

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one ``demande_ap.csv`` (plain or gzip)."""
        raw = read_text(
            path, delimiter=",", required=_REQUIRED, optional=_OPTIONAL, expected="DGEFP demande_ap CSV"
        )
        siret = txt("ETAB_SIRET")
        motif = integer(txt("MOTIF_RECOURS_SE"))
        values = {
            "id_demande": txt("ID_DA"),
            "siret": siret,
            "date_statut": iso_date(txt("DATE_STATUT")),
            "periode_debut": iso_date(txt("DATE_DEB")),
            "periode_fin": iso_date(txt("DATE_FIN")),
            "heures": num(txt("HTA")),
            "montant": num(txt("MTA")),
            "effectif": integer(txt("EFF_AUTO")),
            "motif_recours": f"(CASE WHEN {motif} BETWEEN 1 AND 7 THEN {motif} END)",
            "effectif_entreprise": integer(txt("EFF_ENT")),
            "effectif_etablissement": integer(txt("EFF_ETAB")),
            "heures_consommees": num(txt("S_HEURE_CONSOM_TOT")),
            "montant_consomme": num(txt("S_MONTANT_CONSOM_TOT")),
            "effectif_consomme": integer(txt("S_EFF_CONSOM_TOT")),
            "perimetre": integer(txt("PERIMETRE_AP")),
            "recours_anterieur": integer(txt("RECOURS_ANTERIEUR")),
            "siret_luhn_ok": luhn(siret),
        }
        checks = [
            *siret_checks("ETAB_SIRET"),
            *required_value("DATE_STATUT", iso_date(txt("DATE_STATUT")), "DATE_STATUT (YYYY-MM-DD)"),
            *required_value("DATE_DEB", iso_date(txt("DATE_DEB")), "DATE_DEB (YYYY-MM-DD)"),
            *required_value("DATE_FIN", iso_date(txt("DATE_FIN")), "DATE_FIN (YYYY-MM-DD)"),
            optional_value("HTA", num(txt("HTA")), "HTA (number)"),
            optional_value("MTA", num(txt("MTA")), "MTA (number)"),
            optional_value("EFF_AUTO", integer(txt("EFF_AUTO")), "EFF_AUTO (whole number)"),
            optional_value("EFF_ENT", integer(txt("EFF_ENT")), "EFF_ENT (whole number)"),
            optional_value("EFF_ETAB", integer(txt("EFF_ETAB")), "EFF_ETAB (whole number)"),
            optional_value("S_HEURE_CONSOM_TOT", num(txt("S_HEURE_CONSOM_TOT")), "S_HEURE_CONSOM_TOT (number)"),
            optional_value("S_MONTANT_CONSOM_TOT", num(txt("S_MONTANT_CONSOM_TOT")), "S_MONTANT_CONSOM_TOT (number)"),
            optional_value("S_EFF_CONSOM_TOT", integer(txt("S_EFF_CONSOM_TOT")), "S_EFF_CONSOM_TOT (whole number)"),
            optional_value("PERIMETRE_AP", integer(txt("PERIMETRE_AP")), "PERIMETRE_AP (whole number)"),
            Check(
                "MOTIF_RECOURS_SE",
                f"{txt('MOTIF_RECOURS_SE')} IS NOT NULL AND NOT coalesce({motif} BETWEEN 1 AND 7, false)",
                "MOTIF_RECOURS_SE outside 1..7: value dropped",
                "field",
            ),
            optional_value("RECOURS_ANTERIEUR", integer(txt("RECOURS_ANTERIEUR")), "RECOURS_ANTERIEUR (whole number)",
                           "field"),
        ]
        return finish(con, self.columns, raw, values, checks)


APDEMANDE = ApdemandeSource()
