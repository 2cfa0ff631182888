"""The identity tables: ``companies`` and ``establishments`` (SIRENE), upserted at each publication and never
deleted, so that other tables may reference them; ``snapshot_batch`` is the batch of the last publication that
carried the row.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Company(Base):
    """A legal unit (SIREN), from ``clean_sirene_ul``; NULL identity when SIRENE does not know it."""

    __tablename__ = "companies"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    raison_sociale: Mapped[str | None]
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


#: PostgreSQL only: a trigram index for the name search (``lower(raison_sociale) LIKE '%…%'``, the list filter ``q``
#: and ``/recherche``); without it PostgreSQL scans every company for each search (extension ``pg_trgm``, created
#: by migration 0004). SQLite scans the names, which is fast enough there.
Index(
    "ix_companies_raison_sociale_trgm",
    func.lower(Company.__table__.c.raison_sociale).label("raison_sociale_lower"),
    postgresql_using="gin",
    postgresql_ops={"raison_sociale_lower": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")

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
