"""DGEFP activité partielle, consommations (``consommation_ap.csv``) → ``stg_apconso``.

Raw format (real_system.md §1.3): ``,``-separated CSV, quoted header
``"ID_DA","ETAB_SIRET","HEURES","MONTANTS","EFFECTIFS","MOIS"``, ``MOIS`` as ``YYYY-MM-DD``.
As in the real parser (OSF ``lib/parsing/apconso``), a line whose date or numbers cannot be read is rejected
as a whole; an empty, short or non-numeric SIRET is rejected; a bad Luhn key is only flagged.
"""

from __future__ import annotations

from signaux_faibles.sources._read.spec import ISO_DATE, NUMBER, WHOLE, Field, TextSource, gz, luhn_of

__all__ = ["APCONSO"]

_SIRET = Field("siret", "ETAB_SIRET", description="SIRET of the establishment (14 digits)", identifier="siret")

APCONSO = TextSource(
    "apconso", "stg_apconso", "stock", "siret", (gz(r"^consommation_ap\.csv"),),
    expected="DGEFP consommation_ap CSV",
    header=("ID_DA", "ETAB_SIRET", "HEURES", "MONTANTS", "EFFECTIFS", "MOIS"),
    fields=(
        _SIRET,
        Field("id_demande", "ID_DA", description="Identifier of the authorisation request (demande)"),
        Field("heures", "HEURES", "DOUBLE", "Hours of activité partielle consumed in the month", NUMBER),
        Field("montant", "MONTANTS", "DOUBLE", "Amount paid for those hours, euros", NUMBER),
        Field("effectif", "EFFECTIFS", "INTEGER", "Employees concerned", WHOLE),
        Field("periode", "MOIS", "DATE", "Month of consumption (the day as delivered, usually the 1st)", ISO_DATE,
              required=True),
        luhn_of(_SIRET),
    ),
)
