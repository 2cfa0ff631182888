"""The audit table: ``audit_events``, one typed row per access to confidential data, login, export, denied or
out-of-territory access and admin change, written in the transaction of the action.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

#: The typed audit events.
AUDIT_EVENTS = (
    "login",
    "login_failed",
    "logout",
    "company_viewed",
    "confidential_shown",
    "list_viewed",
    "search",
    "export",
    "denied",
    "out_of_territory",
    "admin_change",
)


class AuditEvent(Base):
    """One audited event (``AUDIT_EVENTS``), written in the transaction of the action it records."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_user_at", "user_id", "at"),
        Index("ix_audit_events_siren", "siren"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime]
    event: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the audit outlives accounts
    email: Mapped[str | None] = mapped_column(String(254))
    siren: Mapped[str | None] = mapped_column(String(9))
    siret: Mapped[str | None] = mapped_column(String(14))
    list_id: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str | None] = mapped_column(String(8))
    path: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None]
