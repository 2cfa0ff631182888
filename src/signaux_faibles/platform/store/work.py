"""The work tables, what agents record: ``comments`` (threaded), ``cases`` with their ``case_participants`` and
``case_measures``, ``suggestion_decisions``, and the DGFiP/CODEFI alert lists (``codefi_imports``,
``codefi_alerts``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

#: The states of an accompaniment case (SFOR's ``EstablishmentTracking``), French labels.
CASE_STATES = {"in_progress": "En cours", "under_surveillance": "Sous surveillance", "completed": "Terminé"}
#: The catalogue of support measures, French labels.
MEASURES = {
    "delai_urssaf": "Délai de paiement URSSAF",
    "ccsf": "Plan d'apurement CCSF",
    "activite_partielle": "Activité partielle",
    "fne_formation": "FNE-Formation",
    "codefi": "Orientation vers le CODEFI",
    "mediation_credit": "Médiation du crédit",
    "mediation_entreprises": "Médiation des entreprises",
    "mandat_ad_hoc": "Mandat ad hoc (tribunal de commerce)",
    "conciliation": "Conciliation (tribunal de commerce)",
    "bpifrance": "Bpifrance",
    "cci": "CCI",
    "conseil_regional": "Conseil régional",
}
#: Where a measure stands.
MEASURE_STATUSES = {
    "proposed": "Proposée",
    "in_progress": "En cours",
    "obtained": "Obtenue",
    "refused": "Refusée",
    "abandoned": "Abandonnée",
}


class Comment(Base):
    """A comment on a company, threaded (``parent_id``), editable by its author."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_siren_created", "siren", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    siren: Mapped[str] = mapped_column(String(9))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    edited_at: Mapped[dt.datetime | None]


class Case(Base):
    """An accompaniment case of a company (at most one open at a time)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    siren: Mapped[str] = mapped_column(String(9), index=True)
    state: Mapped[str] = mapped_column(String(24))  # CASE_STATES
    referent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    difficulties: Mapped[list[Any]]  # free labels (e.g. "trésorerie", "dette sociale")
    summary: Mapped[str | None] = mapped_column(Text)
    codefi_referred_at: Mapped[dt.datetime | None]
    codefi_referred_by: Mapped[int | None] = mapped_column(Integer)


class CaseParticipant(Base):
    """A user taking part in a case (agents of several partners)."""

    __tablename__ = "case_participants"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    added_at: Mapped[dt.datetime]


class CaseMeasure(Base):
    """A support measure offered in a case (``MEASURES``) and where it stands (``MEASURE_STATUSES``)."""

    __tablename__ = "case_measures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    measure: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(Text)
    offered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    offered_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class SuggestionDecision(Base):
    """An agent confirmed or discarded a suggested measure for a company (kept with the signal behind it)."""

    __tablename__ = "suggestion_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    siren: Mapped[str] = mapped_column(String(9), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    measure: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))  # "confirmed" or "discarded"
    signal: Mapped[str | None] = mapped_column(Text)
    delta: Mapped[float | None] = mapped_column(Float)  # what-if change of the probability, when known
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime]


class CodefiImport(Base):
    """One import of the DGFiP/CODEFI alert list (a CSV of SIRENs)."""

    __tablename__ = "codefi_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_name: Mapped[str]
    imported_at: Mapped[dt.datetime]
    imported_by: Mapped[str | None]
    rows: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)


class CodefiAlert(Base):
    """A SIREN flagged by the tax administration in an import (the latest import is the current list)."""

    __tablename__ = "codefi_alerts"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("codefi_imports.id", ondelete="CASCADE"), primary_key=True
    )
    siren: Mapped[str] = mapped_column(String(9), primary_key=True, index=True)
    motif: Mapped[str | None] = mapped_column(Text)
