"""INSEE SIRENE établissements, geo-SIRENE build (``StockEtablissement_utf8_geo.csv``) → ``stg_sirene``.

Raw format (real_system.md §1.4): ``,``-separated UTF-8 CSV with the INSEE stock header plus the geocoding
columns (``longitude, latitude, geo_score…``, optional: the plain INSEE stock has none).

Rules, as the real parser (OSF ``lib/parsing/sirene``) and its expected outputs show:

- ``siret`` is ``siren + nic`` (the file's own ``siret`` column is not used); SIREN must be 9 digits and NIC 5;
- a row whose activity nomenclature is given and is not ``NAFRev2`` is *filtered* (row-level rejection whose
  reason starts with ``filtered:``);
- ``ape`` is the activity code when it matches ``^\\d{2}\\.\\d{2}[A-Z]$``; otherwise ``ape`` is NULL, the raw
  code and nomenclature go to ``code_activite`` / ``nomenclature_activite`` and a field-level rejection is
  recorded;
- ``departement`` comes from ``codeCommuneEtablissement`` (3 characters for 97x/98x, ``2A``/``2B`` kept);
- ``type_voie`` and ``indrep`` abbreviations are spelt out (``CHE`` → ``CHEMIN``, ``B`` → ``BIS``);
- an unreadable longitude or latitude is stored as 0, as the real system does (Go zero value, the golden
  staging dump holds 0), with a field-level rejection carrying the raw value;
- ``est_actif`` is ``etatAdministratifEtablissement == "A"``.

SIRENE is not filtered by the perimeter (``key`` is None): the front end needs every establishment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from signaux_faibles.sources._base import Column, ParseResult
from signaux_faibles.sources._read import Check, finish, read_text
from signaux_faibles.sources._sql import digits, go_bool, iso_date, lit, luhn, num, txt

__all__ = ["APE_PATTERN", "INDICE_REPETITION", "SIRENE", "TYPE_VOIE", "SireneSource", "departement_sql"]

#: A NAF rev2 sous-classe as SIRENE writes it.
APE_PATTERN = r"[0-9]{2}\.[0-9]{2}[A-Z]"

#: INSEE street-type abbreviations, spelt out as the real system stores them.
TYPE_VOIE: dict[str, str] = {
    "ALL": "ALLÉE", "AV": "AVENUE", "BD": "BOULEVARD", "CAR": "CARREFOUR", "CHE": "CHEMIN", "CHS": "CHAUSSÉE",
    "CITE": "CITÉ", "COR": "CORNICHE", "CRS": "COURS", "DOM": "DOMAINE", "DSC": "DESCENTE", "ECA": "ECART",
    "ESP": "ESPLANADE", "FG": "FAUBOURG", "GR": "GRANDE RUE", "HAM": "HAMEAU", "HLE": "HALLE", "IMP": "IMPASSE",
    "LD": "LIEU DIT", "LOT": "LOTISSEMENT", "MAR": "MARCHÉ", "MTE": "MONTÉE", "PAS": "PASSAGE", "PL": "PLACE",
    "PLN": "PLAINE", "PLT": "PLATEAU", "PRO": "PROMENADE", "PRV": "PARVIS", "QUA": "QUARTIER", "QUAI": "QUAI",
    "RES": "RÉSIDENCE", "RLE": "RUELLE", "ROC": "ROCADE", "RPT": "ROND POINT", "RTE": "ROUTE", "RUE": "RUE",
    "SEN": "SENTE - SENTIER", "SQ": "SQUARE", "TPL": "TERRE-PLEIN", "TRA": "TRAVERSE", "VLA": "VILLA",
    "VLGE": "VILLAGE",
}

#: INSEE repetition indices (``indiceRepetitionEtablissement``).
INDICE_REPETITION: dict[str, str] = {"B": "BIS", "T": "TER", "Q": "QUATER", "C": "QUINQUIES"}

_REQUIRED = (
    "siren", "nic", "dateCreationEtablissement", "etablissementSiege", "complementAdresseEtablissement",
    "numeroVoieEtablissement", "indiceRepetitionEtablissement", "typeVoieEtablissement",
    "libelleVoieEtablissement", "codePostalEtablissement", "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement", "distributionSpecialeEtablissement", "codeCommuneEtablissement",
    "codeCedexEtablissement", "libelleCedexEtablissement", "codePaysEtrangerEtablissement",
    "libellePaysEtrangerEtablissement", "etatAdministratifEtablissement", "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
)
_OPTIONAL = ("longitude", "latitude")


def _mapping(expr: str, table: dict[str, str]) -> str:
    cases = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in table.items())
    return f"(CASE {expr} {cases} END)"


def departement_sql(expr: str) -> str:
    """Département of an INSEE commune code: 3 characters for 97x/98x, 2 otherwise (``2A``/``2B`` kept)."""
    e = f"upper({expr})"
    return f"(CASE WHEN length({e}) < 2 THEN NULL WHEN {e} LIKE '97%' OR {e} LIKE '98%' THEN left({e}, 3) ELSE left({e}, 2) END)"


def nomenclature_filter(nomen: str, label: str) -> Check:
    """Row-level *filter* of rows whose nomenclature is given and is not NAFRev2."""
    return Check(
        label,
        f"{nomen} IS NOT NULL AND {nomen} <> 'NAFRev2'",
        "filtered: activity nomenclature is not NAFRev2",
    )


@dataclass(frozen=True)
class SireneSource:
    """INSEE SIRENE établissements (geo build): address, activity, state of every establishment."""

    name: str = "sirene"
    table: str = "stg_sirene"
    kind: Literal["stock", "flux"] = "stock"
    key: Literal["siret", "siren"] | None = None
    patterns: tuple[re.Pattern[str], ...] = (re.compile(r"^StockEtablissement_utf8_geo\.csv(\.gz)?$"),)
    columns: tuple[Column, ...] = (
        Column("siren", "VARCHAR", "siren", "SIREN of the company (9 digits)"),
        Column("siret", "VARCHAR", None, "SIRET = siren + nic"),
        Column("siege", "BOOLEAN", "etablissementSiege", "Head office of the company"),
        Column("complement_adresse", "VARCHAR", "complementAdresseEtablissement", "Address complement"),
        Column("numero_voie", "VARCHAR", "numeroVoieEtablissement", "Street number"),
        Column("indrep", "VARCHAR", "indiceRepetitionEtablissement", "Repetition index, spelt out (BIS, TER…)"),
        Column("type_voie", "VARCHAR", "typeVoieEtablissement", "Street type, spelt out (RUE, CHEMIN…)"),
        Column("voie", "VARCHAR", "libelleVoieEtablissement", "Street name"),
        Column("commune", "VARCHAR", "libelleCommuneEtablissement", "Commune name"),
        Column("commune_etranger", "VARCHAR", "libelleCommuneEtrangerEtablissement", "Foreign commune"),
        Column("distribution_speciale", "VARCHAR", "distributionSpecialeEtablissement", "Special distribution"),
        Column("code_commune", "VARCHAR", "codeCommuneEtablissement", "INSEE commune code"),
        Column("code_cedex", "VARCHAR", "codeCedexEtablissement", "CEDEX code"),
        Column("cedex", "VARCHAR", "libelleCedexEtablissement", "CEDEX label"),
        Column("code_pays_etranger", "VARCHAR", "codePaysEtrangerEtablissement", "Foreign country code"),
        Column("pays_etranger", "VARCHAR", "libellePaysEtrangerEtablissement", "Foreign country"),
        Column("code_postal", "VARCHAR", "codePostalEtablissement", "Postal code"),
        Column("departement", "VARCHAR", "codeCommuneEtablissement", "Département from the commune code "
               "(3 characters for 97x/98x, 2A/2B for Corsica)"),
        Column("ape", "VARCHAR", "activitePrincipaleEtablissement", "NAF rev2 activity (NN.NNX); NULL when the "
               "code does not have that shape"),
        Column("code_activite", "VARCHAR", "activitePrincipaleEtablissement", "Raw activity code when it is not a "
               "valid NAF rev2 code (else NULL)"),
        Column("nomenclature_activite", "VARCHAR", "nomenclatureActivitePrincipaleEtablissement", "Raw "
               "nomenclature when the activity code is not a valid NAF rev2 code (else NULL)"),
        Column("date_creation", "DATE", "dateCreationEtablissement", "Creation date"),
        Column("longitude", "DOUBLE", "longitude", "Longitude (geo build); 0 when unreadable, as the real system"),
        Column("latitude", "DOUBLE", "latitude", "Latitude (geo build); 0 when unreadable, as the real system"),
        Column("est_actif", "BOOLEAN", "etatAdministratifEtablissement", "Administrative state is A (active)"),
        Column("nic", "VARCHAR", "nic", "NIC, the establishment's number within the company (5 digits)"),
        Column("siret_luhn_ok", "BOOLEAN", None, "The SIRET passes the Luhn check (false: flagged, not rejected)"),
    )

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one geo-SIRENE établissements stock file (plain or gzip)."""
        raw = read_text(
            path, delimiter=",", required=_REQUIRED, optional=_OPTIONAL, multiline=False,
            expected="INSEE StockEtablissement (geo) CSV",
        )
        siren, nic = txt("siren"), txt("nic")
        siret = f"({siren} || {nic})"
        activite = txt("activitePrincipaleEtablissement")
        nomen = txt("nomenclatureActivitePrincipaleEtablissement")
        ape_ok = f"coalesce(regexp_full_match({activite}, {lit(APE_PATTERN)}), false)"
        creation = iso_date(txt("dateCreationEtablissement"))
        lon, lat = txt("longitude"), txt("latitude")
        values = {
            "siren": siren,
            "siret": siret,
            "siege": go_bool(txt("etablissementSiege")),
            "complement_adresse": txt("complementAdresseEtablissement"),
            "numero_voie": txt("numeroVoieEtablissement"),
            "indrep": _mapping(txt("indiceRepetitionEtablissement"), INDICE_REPETITION),
            "type_voie": _mapping(txt("typeVoieEtablissement"), TYPE_VOIE),
            "voie": txt("libelleVoieEtablissement"),
            "commune": txt("libelleCommuneEtablissement"),
            "commune_etranger": txt("libelleCommuneEtrangerEtablissement"),
            "distribution_speciale": txt("distributionSpecialeEtablissement"),
            "code_commune": txt("codeCommuneEtablissement"),
            "code_cedex": txt("codeCedexEtablissement"),
            "cedex": txt("libelleCedexEtablissement"),
            "code_pays_etranger": txt("codePaysEtrangerEtablissement"),
            "pays_etranger": txt("libellePaysEtrangerEtablissement"),
            "code_postal": txt("codePostalEtablissement"),
            "departement": departement_sql(txt("codeCommuneEtablissement")),
            "ape": f"(CASE WHEN {ape_ok} THEN {activite} END)",
            "code_activite": f"(CASE WHEN {activite} IS NOT NULL AND NOT {ape_ok} THEN {activite} END)",
            "nomenclature_activite": f"(CASE WHEN {activite} IS NOT NULL AND NOT {ape_ok} THEN {nomen} END)",
            "date_creation": creation,
            "longitude": f"(CASE WHEN {lon} IS NULL THEN NULL ELSE coalesce({num(lon)}, 0) END)",
            "latitude": f"(CASE WHEN {lat} IS NULL THEN NULL ELSE coalesce({num(lat)}, 0) END)",
            "est_actif": f"coalesce({txt('etatAdministratifEtablissement')} = 'A', false)",
            "nic": nic,
            "siret_luhn_ok": luhn(siret),
        }
        checks = [
            Check("siren", f"NOT {digits(siren, 9)}", "SIREN must be 9 digits"),
            Check("nic", f"NOT {digits(nic, 5)}", "NIC must be 5 digits"),
            nomenclature_filter(nomen, "nomenclatureActivitePrincipaleEtablissement"),
            Check("activitePrincipaleEtablissement", f"{activite} IS NOT NULL AND NOT {ape_ok}",
                  "activity code is not a NAF rev2 code NN.NNX: ape left NULL", "field"),
            Check("etablissementSiege", f"{txt('etablissementSiege')} IS NOT NULL AND "
                  f"{go_bool(txt('etablissementSiege'))} IS NULL", "etablissementSiege is not a boolean", "field"),
            Check("dateCreationEtablissement", f"{txt('dateCreationEtablissement')} IS NOT NULL AND {creation} IS NULL",
                  "dateCreationEtablissement is not a valid YYYY-MM-DD date", "field"),
            Check("longitude", f"{lon} IS NOT NULL AND {num(lon)} IS NULL",
                  "longitude is not a number: stored as 0", "field"),
            Check("latitude", f"{lat} IS NOT NULL AND {num(lat)} IS NULL",
                  "latitude is not a number: stored as 0", "field"),
        ]
        return finish(con, self.columns, raw, values, checks)


SIRENE = SireneSource()
