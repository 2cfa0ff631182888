"""The identity tables: ``companies`` and ``establishments`` (SIRENE), upserted at each publication and never
deleted, so that other tables may reference them; ``snapshot_batch`` is the batch of the last publication that
carried the row.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from .base import Base

__all__ = ["Company", "Establishment", "fold_name"]

#: Letters NFKD does not decompose.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l"})
#: What separates words in a folded name: anything but letters, digits, ``_``, ``%`` and ``\`` (the last three kept
#: so that a search for them stays a search for the character, never a wildcard).
_SEPARATORS = re.compile(r"[^\w%\\]+")


def fold_name(name: str | None) -> str | None:
    """A name as the search compares it: lower case, without accents (NFKD, combining marks dropped, œ → oe),
    punctuation as spaces, single spaces: ``"SOCIÉTÉ  L'HÔTEL-DIEU"`` → ``"societe l hotel dieu"``.

    The same function folds the stored names (``companies.raison_sociale_folded``, written at publication) and
    the searched text, so that both databases compare alike (no collation, no ``unaccent`` needed)."""
    if name is None:
        return None
    decomposed = unicodedata.normalize("NFKD", name.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_LIGATURES)
    return " ".join(_SEPARATORS.sub(" ", plain).split())


class Company(Base):
    """A legal unit (SIREN), from ``clean_sirene_ul``; NULL identity when SIRENE does not know it."""

    __tablename__ = "companies"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    raison_sociale: Mapped[str | None]
    #: ``fold_name(raison_sociale)``: what the name search compares (migration 0009); set with the name.
    raison_sociale_folded: Mapped[str | None]
    categorie_juridique: Mapped[str | None] = mapped_column(String(4))
    libelle_categorie_juridique: Mapped[str | None]
    activite_principale: Mapped[str | None] = mapped_column(String(6))
    libelle_activite_principale: Mapped[str | None]
    naf_section: Mapped[str | None] = mapped_column(String(1))
    libelle_naf_section: Mapped[str | None]
    siret_siege: Mapped[str | None] = mapped_column(String(14))
    departement: Mapped[str | None] = mapped_column(String(3), index=True)
    libelle_departement: Mapped[str | None]
    region: Mapped[str | None] = mapped_column(String(2), index=True)
    libelle_region: Mapped[str | None]
    creation: Mapped[dt.date | None]
    est_actif: Mapped[bool | None]
    snapshot_batch: Mapped[str] = mapped_column(String(16))

    @validates("raison_sociale")
    def _fold(self, _key: str, value: str | None) -> str | None:
        self.raison_sociale_folded = fold_name(value)
        return value


#: The name search's index (``raison_sociale_folded LIKE '%…%'``: the list filter ``q``, ``/recherche`` and
#: ``/api/search``; migration 0009). On PostgreSQL a trigram index (extension ``pg_trgm``, created by migration
#: 0004), without which each search scans every company; on SQLite a plain index (it serves the exact and prefix
#: matches; SQLite scans the names for the rest, which is fast enough there).
Index(
    "ix_companies_raison_sociale_folded",
    Company.__table__.c.raison_sociale_folded,
    postgresql_using="gin",
    postgresql_ops={"raison_sociale_folded": "gin_trgm_ops"},
)


class Establishment(Base):
    """An establishment (SIRET), from ``clean_sirene``."""

    __tablename__ = "establishments"

    siret: Mapped[str] = mapped_column(String(14), primary_key=True)
    siren: Mapped[str] = mapped_column(String(9), ForeignKey("companies.siren"), index=True)
    siege: Mapped[bool | None]
    adresse: Mapped[str | None] = mapped_column(Text)
    code_commune: Mapped[str | None] = mapped_column(String(5))
    departement: Mapped[str | None] = mapped_column(String(3), index=True)
    libelle_departement: Mapped[str | None]
    region: Mapped[str | None] = mapped_column(String(2), index=True)
    libelle_region: Mapped[str | None]
    ape: Mapped[str | None] = mapped_column(String(6))
    date_creation: Mapped[dt.date | None]
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    est_actif: Mapped[bool | None]
    snapshot_batch: Mapped[str] = mapped_column(String(16))
