"""The list tables, kept for history: ``publications``, ``lists``, ``scores``, ``list_changes``; re-publishing a
batch (same algo) replaces that list's rows, its id stays.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Publication(Base):
    """One run of ``signaux-faibles publish`` that committed (written in its transaction)."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch: Mapped[str] = mapped_column(String(16))
    published_at: Mapped[dt.datetime]
    companies: Mapped[int] = mapped_column(BigInteger)
    establishments: Mapped[int] = mapped_column(BigInteger)
    company_months: Mapped[int] = mapped_column(BigInteger)
    scores: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[float] = mapped_column(Float)


class List(Base):
    """A published monthly risk list; one per (batch, algo)."""

    __tablename__ = "lists"
    __table_args__ = (UniqueConstraint("batch", "algo"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch: Mapped[str] = mapped_column(String(16))
    algo: Mapped[str] = mapped_column(String(64))
    label: Mapped[str]  # "Septembre 2026" (the real system's idListe)
    periode: Mapped[dt.date]
    published_at: Mapped[dt.datetime]
    threshold_high: Mapped[float | None] = mapped_column(Float)
    threshold_moderate: Mapped[float | None] = mapped_column(Float)
    previous_batch: Mapped[str | None] = mapped_column(String(16))


class Score(Base):
    """A company's line on a list (``lists/<AAMM>/scores.parquet``)."""

    __tablename__ = "scores"
    __table_args__ = (
        Index("ix_scores_siren", "siren"),
        Index("ix_scores_list_rank", "list_id", "rank"),
        Index("ix_scores_list_alert_rank", "list_id", "alert", "rank"),  # the alerted rows of a list, by rank
    )

    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True)
    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    siret: Mapped[str | None] = mapped_column(String(14))
    algo: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(BigInteger)
    probability: Mapped[float] = mapped_column(Float)
    alert: Mapped[str] = mapped_column(String(32))
    alert_pre_adjustment: Mapped[str] = mapped_column(String(32))
    adjustments: Mapped[list[Any]]
    base_probability: Mapped[float | None] = mapped_column(Float)
    macro_expl: Mapped[dict[str, Any] | None]
    micro_expl: Mapped[dict[str, Any] | None]
    what_if: Mapped[dict[str, Any] | None]
    first_alert: Mapped[bool]
    first_high_alert: Mapped[bool]
    hausse_urssaf: Mapped[bool | None]
    ap_12m: Mapped[bool | None]
    etat_proc_collective: Mapped[str | None] = mapped_column(String(32))
    dette_urssaf: Mapped[float | None] = mapped_column(Float)
    # a first collective-proceedings judgment is known at the batch: never alerted, shown apart (issue 19)
    procedure_en_cours: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    etat_procol: Mapped[str | None] = mapped_column(String(32))
    date_procol: Mapped[dt.date | None]
    # the term structure: probability of a first judgment within 3, 6 and 12 months (18 months: ``probability``)
    probability_3m: Mapped[float | None] = mapped_column(Float)
    probability_6m: Mapped[float | None] = mapped_column(Float)
    probability_12m: Mapped[float | None] = mapped_column(Float)


class ListChange(Base):
    """The diff of a list against the previous one (``lists/<AAMM>/diff.parquet``)."""

    __tablename__ = "list_changes"

    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True)
    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    alert_previous: Mapped[str | None] = mapped_column(String(32))
    alert: Mapped[str | None] = mapped_column(String(32))
    change: Mapped[str] = mapped_column(String(16))
    previous_batch: Mapped[str | None] = mapped_column(String(16))
