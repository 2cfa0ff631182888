"""Clean relations: the real system's ``clean_*`` views, as pure functions ``ibis.Table -> ibis.Table``.

One module per family (``urssaf``, ``effectif``, ``ap``, ``sirene``, ``financial``, ``groups``); ``_common`` holds the
month arithmetic and the blacklist, ``labels`` the label tables. No module here knows the engine: the backend is
chosen once, at the edge (:mod:`signaux_faibles.engine`), and :mod:`signaux_faibles.panel.build` wires the
staging tables into these functions. See ``docs/panel.md`` for each relation's definition, source and grain.
"""

from signaux_faibles.panel.clean._common import month_calendar, siren_blacklist
from signaux_faibles.panel.clean.ap import clean_ap
from signaux_faibles.panel.clean.effectif import clean_effectif, clean_effectif_ent
from signaux_faibles.panel.clean.financial import clean_bdf, clean_diane, clean_fpi, clean_paydex
from signaux_faibles.panel.clean.groups import clean_ellisphere
from signaux_faibles.panel.clean.sirene import clean_filter, clean_sirene, clean_sirene_histo, clean_sirene_ul
from signaux_faibles.panel.clean.urssaf import (
    clean_ccsf,
    clean_cotisation,
    clean_debit,
    clean_delai,
    clean_procol,
    clean_procol_at_date,
)

__all__ = [
    "clean_ap",
    "clean_bdf",
    "clean_ccsf",
    "clean_cotisation",
    "clean_debit",
    "clean_delai",
    "clean_diane",
    "clean_effectif",
    "clean_effectif_ent",
    "clean_ellisphere",
    "clean_filter",
    "clean_fpi",
    "clean_paydex",
    "clean_procol",
    "clean_procol_at_date",
    "clean_sirene",
    "clean_sirene_histo",
    "clean_sirene_ul",
    "month_calendar",
    "siren_blacklist",
]
