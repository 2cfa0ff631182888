"""Altares paydex, legacy retro file (``E_<12 digits>_Retro-Paydex_<8 digits>.csv``) → ``stg_paydex``.

Raw format (real_system.md §1.5, OSF-legacy ``lib/paydex``): ISO-8859-15, ``;``-separated, header
``SIREN;NB_JOURS;NB_JOURS_LIB;DATE_VALEUR``, ``DATE_VALEUR`` as ``dd/mm/yyyy``. A line whose date or number of
days cannot be read is rejected (``01/15/2019`` in the real test data). This source is a *flux*: each monthly
file adds to the previous ones.
"""

from __future__ import annotations

from signaux_faibles.sources._read.spec import FR_DATE, WHOLE, Field, TextSource, gz, luhn_of

__all__ = ["PAYDEX"]

_SIREN = Field("siren", "SIREN", description="SIREN (9 digits)", identifier="siren")

PAYDEX = TextSource(
    "paydex", "stg_paydex", "flux", "siren", (gz(r"^E_[0-9]{12}_Retro-Paydex_[0-9]{8}\.csv"),),
    delimiter=";",
    encoding="iso-8859-15",
    expected="Altares paydex CSV (ISO-8859-15)",
    header=("SIREN", "NB_JOURS", "DATE_VALEUR"),
    fields=(
        _SIREN,
        Field("date_valeur", "DATE_VALEUR", "DATE", "Date of the paydex value", FR_DATE, required=True),
        Field("nb_jours", "NB_JOURS", "INTEGER", "Average payment delay beyond terms, days", WHOLE, required=True,
              label="whole number of days"),
        Field("nb_jours_lib", "NB_JOURS_LIB", description="Label of the delay as delivered", optional=True),
        luhn_of(_SIREN),
    ),
)
