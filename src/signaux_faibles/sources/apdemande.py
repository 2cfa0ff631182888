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

from signaux_faibles.sources._read import Check
from signaux_faibles.sources._read.spec import ISO_DATE, NUMBER, WHOLE, Field, TextSource, gz, luhn_of
from signaux_faibles.sources._sql import integer, txt

__all__ = ["APDEMANDE"]

_SIRET = Field("siret", "ETAB_SIRET", description="SIRET of the establishment (14 digits)", identifier="siret")
_MOTIF = integer(txt("MOTIF_RECOURS_SE"))

APDEMANDE = TextSource(
    "apdemande", "stg_apdemande", "stock", "siret", (gz(r"^demande_ap\.csv"),),
    expected="DGEFP demande_ap CSV",
    header=("ID_DA", "ETAB_SIRET", "EFF_ENT", "EFF_ETAB", "DATE_STATUT", "DATE_DEB", "DATE_FIN", "HTA", "MTA",
            "EFF_AUTO", "MOTIF_RECOURS_SE", "PERIMETRE_AP", "S_HEURE_CONSOM_TOT", "S_EFF_CONSOM_TOT",
            "S_MONTANT_CONSOM_TOT"),
    fields=(
        Field("id_demande", "ID_DA", description="Identifier of the request"),
        _SIRET,
        Field("date_statut", "DATE_STATUT", "DATE", "Date of the request's current status", ISO_DATE, required=True),
        Field("periode_debut", "DATE_DEB", "DATE", "First day of the authorised period", ISO_DATE, required=True),
        Field("periode_fin", "DATE_FIN", "DATE", "Last day of the authorised period", ISO_DATE, required=True),
        Field("heures", "HTA", "DOUBLE", "Hours authorised", NUMBER),
        Field("montant", "MTA", "DOUBLE", "Amount authorised, euros (decimal comma accepted)", NUMBER),
        Field("effectif", "EFF_AUTO", "INTEGER", "Employees authorised", WHOLE),
        Field("motif_recours", "MOTIF_RECOURS_SE", "INTEGER", "Reason 1..7 (1 conjoncture, 2 approvisionnement, "
              "3 sinistre, 4 transformation, 5 autres…); NULL when outside 1..7",
              sql=f"(CASE WHEN {_MOTIF} BETWEEN 1 AND 7 THEN {_MOTIF} END)"),
        Field("effectif_entreprise", "EFF_ENT", "INTEGER", "Employees of the company", WHOLE),
        Field("effectif_etablissement", "EFF_ETAB", "INTEGER", "Employees of the establishment", WHOLE),
        Field("heures_consommees", "S_HEURE_CONSOM_TOT", "DOUBLE", "Hours consumed so far", NUMBER),
        Field("montant_consomme", "S_MONTANT_CONSOM_TOT", "DOUBLE", "Amount consumed so far, euros", NUMBER),
        Field("effectif_consomme", "S_EFF_CONSOM_TOT", "INTEGER", "Employees who consumed hours", WHOLE),
        Field("perimetre", "PERIMETRE_AP", "INTEGER", "Scope of the request, 1..4", WHOLE),
        Field("recours_anterieur", "RECOURS_ANTERIEUR", "INTEGER", "Earlier recourse, 1..3 (optional column)", WHOLE,
              on_error="field", optional=True),
        luhn_of(_SIRET),
    ),
    rules=(
        Check("MOTIF_RECOURS_SE", f"{txt('MOTIF_RECOURS_SE')} IS NOT NULL AND NOT coalesce({_MOTIF} BETWEEN 1 AND 7, false)",
              "MOTIF_RECOURS_SE outside 1..7: value dropped", "field"),
    ),
)
