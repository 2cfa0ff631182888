"""The single explicit list of sources, and the file name → source lookup.

To register a source, import it here and add it to :data:`SOURCES` (and give it a fixture and a section in
``docs/data.md``: a test enforces both).
"""

from __future__ import annotations

from pathlib import Path

from signaux_faibles.sources._base import Source
from signaux_faibles.sources.altares import ALTARES_DATAPI, ALTARES_INCREMENT, ALTARES_STOCK
from signaux_faibles.sources.apconso import APCONSO
from signaux_faibles.sources.apdemande import APDEMANDE
from signaux_faibles.sources.bdf import BDF
from signaux_faibles.sources.compte import COMPTE
from signaux_faibles.sources.diane import DIANE
from signaux_faibles.sources.effectif import EFFECTIF, EFFECTIF_ENT
from signaux_faibles.sources.ellisphere import ELLISPHERE
from signaux_faibles.sources.paydex import PAYDEX
from signaux_faibles.sources.sirene import SIRENE
from signaux_faibles.sources.sirene_histo import SIRENE_HISTO
from signaux_faibles.sources.sirene_ul import SIRENE_UL
from signaux_faibles.sources.urssaf import CCSF, COTISATION, DEBIT, DELAI, PROCOL

#: Every source, in lookup order: specific patterns first (``effectif_ent`` before the generic ``*effectif_*``).
SOURCES: tuple[Source, ...] = (
    COTISATION,
    DEBIT,
    DELAI,
    CCSF,
    PROCOL,
    EFFECTIF_ENT,
    EFFECTIF,
    APCONSO,
    APDEMANDE,
    SIRENE,
    SIRENE_UL,
    SIRENE_HISTO,
    BDF,
    DIANE,
    PAYDEX,
    ALTARES_STOCK,
    ALTARES_INCREMENT,
    ALTARES_DATAPI,
    ELLISPHERE,
    COMPTE,
)


def source_for(filename: str | Path) -> Source | None:
    """The source whose patterns match this file name (base name only), or ``None``.

    Sources are tried in :data:`SOURCES` order; the first match wins, so specific patterns come before
    generic ones (``sigfaible_effectif_siren.csv`` before ``*effectif_*``).
    """
    base = Path(filename).name
    for source in SOURCES:
        if any(p.search(base) for p in source.patterns):
            return source
    return None


def source_named(name: str) -> Source:
    """The registered source with this parser type name (``KeyError`` if none)."""
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(name)
