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

from signaux_faibles.sources._read import Check
from signaux_faibles.sources._read.spec import BOOLEAN, ISO_DATE, NUMBER, Field, TextSource, gz, luhn_of
from signaux_faibles.sources._sql import digits, lit, txt

__all__ = ["APE_PATTERN", "INDICE_REPETITION", "SIRENE", "TYPE_VOIE", "departement_sql"]

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


def _mapping(expr: str, table: dict[str, str]) -> str:
    cases = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in table.items())
    return f"(CASE {expr} {cases} END)"


def departement_sql(expr: str) -> str:
    """Département of an INSEE commune code: 3 characters for 97x/98x, 2 otherwise (``2A``/``2B`` kept)."""
    e = f"upper({expr})"
    return f"(CASE WHEN length({e}) < 2 THEN NULL WHEN {e} LIKE '97%' OR {e} LIKE '98%' THEN left({e}, 3) ELSE left({e}, 2) END)"


def ape_ok(raw: str) -> str:
    """SQL: the raw activity code is a NAF code ``NN.NNX``."""
    return f"coalesce(regexp_full_match({txt(raw)}, {lit(APE_PATTERN)}), false)"


def ape_field(name: str, raw: str, description: str, *, optional: bool = False) -> Field:
    """An activity code column: the code when it is ``NN.NNX``, else NULL (see :func:`ape_check`)."""
    return Field(name, raw, description=description, optional=optional,
                 sql=f"(CASE WHEN {ape_ok(raw)} THEN {txt(raw)} END)")


def ape_check(raw: str, reason: str) -> Check:
    """Field-level rejection of an activity code that is given and is not ``NN.NNX``."""
    return Check(raw, f"{txt(raw)} IS NOT NULL AND NOT {ape_ok(raw)}", reason, "field")


def digits_check(raw: str, n: int, what: str) -> Check:
    """Row-level rejection of an identifier that is not ``n`` digits."""
    return Check(raw, f"NOT {digits(txt(raw), n)}", f"{what} must be {n} digits")


def nomenclature_filter(raw: str) -> Check:
    """Row-level *filter* of rows whose nomenclature is given and is not NAFRev2."""
    nomen = txt(raw)
    return Check(raw, f"{nomen} IS NOT NULL AND {nomen} <> 'NAFRev2'", "filtered: activity nomenclature is not NAFRev2")


_ACTIVITE, _NOMEN = "activitePrincipaleEtablissement", "nomenclatureActivitePrincipaleEtablissement"
_OTHER_CODE = f"{txt(_ACTIVITE)} IS NOT NULL AND NOT {ape_ok(_ACTIVITE)}"  # the raw code is kept apart
_SIRET = Field("siret", None, description="SIRET = siren + nic", sql=f"({txt('siren')} || {txt('nic')})")


def _geo(name: str, what: str) -> Field:
    lon = txt(name)
    return Field(name, name, "DOUBLE", f"{what} (geo build); 0 when unreadable, as the real system", NUMBER,
                 on_error="field", invalid=f"{name} is not a number: stored as 0", optional=True,
                 sql=f"(CASE WHEN {lon} IS NULL THEN NULL ELSE coalesce({NUMBER.sql(lon)}, 0) END)")


SIRENE = TextSource(
    "sirene", "stg_sirene", "stock", None, (gz(r"^StockEtablissement_utf8_geo\.csv"),),
    expected="INSEE StockEtablissement (geo) CSV",
    header=(
        "siren", "nic", "dateCreationEtablissement", "etablissementSiege", "complementAdresseEtablissement",
        "numeroVoieEtablissement", "indiceRepetitionEtablissement", "typeVoieEtablissement",
        "libelleVoieEtablissement", "codePostalEtablissement", "libelleCommuneEtablissement",
        "libelleCommuneEtrangerEtablissement", "distributionSpecialeEtablissement", "codeCommuneEtablissement",
        "codeCedexEtablissement", "libelleCedexEtablissement", "codePaysEtrangerEtablissement",
        "libellePaysEtrangerEtablissement", "etatAdministratifEtablissement", _ACTIVITE, _NOMEN,
    ),
    fields=(
        Field("siren", "siren", description="SIREN of the company (9 digits)"),
        _SIRET,
        Field("siege", "etablissementSiege", "BOOLEAN", "Head office of the company", BOOLEAN, on_error="field",
              invalid="{raw} is not a boolean"),
        Field("complement_adresse", "complementAdresseEtablissement", description="Address complement"),
        Field("numero_voie", "numeroVoieEtablissement", description="Street number"),
        Field("indrep", "indiceRepetitionEtablissement", description="Repetition index, spelt out (BIS, TER…)",
              sql=_mapping(txt("indiceRepetitionEtablissement"), INDICE_REPETITION)),
        Field("type_voie", "typeVoieEtablissement", description="Street type, spelt out (RUE, CHEMIN…)",
              sql=_mapping(txt("typeVoieEtablissement"), TYPE_VOIE)),
        Field("voie", "libelleVoieEtablissement", description="Street name"),
        Field("commune", "libelleCommuneEtablissement", description="Commune name"),
        Field("commune_etranger", "libelleCommuneEtrangerEtablissement", description="Foreign commune"),
        Field("distribution_speciale", "distributionSpecialeEtablissement", description="Special distribution"),
        Field("code_commune", "codeCommuneEtablissement", description="INSEE commune code"),
        Field("code_cedex", "codeCedexEtablissement", description="CEDEX code"),
        Field("cedex", "libelleCedexEtablissement", description="CEDEX label"),
        Field("code_pays_etranger", "codePaysEtrangerEtablissement", description="Foreign country code"),
        Field("pays_etranger", "libellePaysEtrangerEtablissement", description="Foreign country"),
        Field("code_postal", "codePostalEtablissement", description="Postal code"),
        Field("departement", "codeCommuneEtablissement", description="Département from the commune code "
              "(3 characters for 97x/98x, 2A/2B for Corsica)", sql=departement_sql(txt("codeCommuneEtablissement"))),
        ape_field("ape", _ACTIVITE, "NAF rev2 activity (NN.NNX); NULL when the code does not have that shape"),
        Field("code_activite", _ACTIVITE, description="Raw activity code when it is not a valid NAF rev2 code "
              "(else NULL)", sql=f"(CASE WHEN {_OTHER_CODE} THEN {txt(_ACTIVITE)} END)"),
        Field("nomenclature_activite", _NOMEN, description="Raw nomenclature when the activity code is not a valid "
              "NAF rev2 code (else NULL)", sql=f"(CASE WHEN {_OTHER_CODE} THEN {txt(_NOMEN)} END)"),
        Field("date_creation", "dateCreationEtablissement", "DATE", "Creation date", ISO_DATE, on_error="field",
              invalid="{raw} is not a valid YYYY-MM-DD date"),
        _geo("longitude", "Longitude"),
        _geo("latitude", "Latitude"),
        Field("est_actif", "etatAdministratifEtablissement", "BOOLEAN", "Administrative state is A (active)",
              sql=f"coalesce({txt('etatAdministratifEtablissement')} = 'A', false)"),
        Field("nic", "nic", description="NIC, the establishment's number within the company (5 digits)"),
        luhn_of(_SIRET),
    ),
    rules=(
        digits_check("siren", 9, "SIREN"),
        digits_check("nic", 5, "NIC"),
        nomenclature_filter(_NOMEN),
        ape_check(_ACTIVITE, "activity code is not a NAF rev2 code NN.NNX: ape left NULL"),
    ),
)
