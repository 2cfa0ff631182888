"""The audit trail: typed events written in the transaction of the action, queries for admins, monthly usage.

``record`` adds the event to the caller's session: it commits with the action or not at all. The web layer commits
before it sends a confidential answer, so nothing confidential leaves without its event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from .accounts import now
from .models import AUDIT_EVENTS, AuditEvent

__all__ = ["AuditFilter", "count_anonymous", "count_denied", "event", "events", "monthly_stats", "record"]

#: French labels of the events (admin pages).
LABELS = {
    "login": "Connexion",
    "login_failed": "Échec de connexion",
    "logout": "Déconnexion",
    "company_viewed": "Fiche entreprise consultée",
    "confidential_shown": "Données confidentielles affichées",
    "list_viewed": "Liste consultée",
    "search": "Recherche",
    "export": "Export",
    "denied": "Accès refusé",
    "out_of_territory": "Accès hors territoire",
    "admin_change": "Modification d'administration",
}


def event(
    event_type: str,
    *,
    user_id: int | None = None,
    email: str | None = None,
    siren: str | None = None,
    siret: str | None = None,
    list_id: int | None = None,
    method: str | None = None,
    path: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    if event_type not in AUDIT_EVENTS:
        raise ValueError(f"unknown audit event {event_type!r}")
    return AuditEvent(
        at=now(),
        event=event_type,
        user_id=user_id,
        email=email,
        siren=siren,
        siret=siret,
        list_id=list_id,
        method=method,
        path=path,
        ip=ip,
        detail=detail,
    )


def record(db: Session, event_type: str, **kw: Any) -> AuditEvent:
    """Add an event to ``db``'s transaction (it commits with the action, or not at all)."""
    row = event(event_type, **kw)
    db.add(row)
    return row


#: Anonymous refusals (a bogus API token or CSRF token, a throttled login) from one address are counted in one row
#: per window.
COUNT_WINDOW = dt.timedelta(minutes=10)


def count_anonymous(
    db: Session, event_type: str, ip: str | None, reason: str, path: str | None = None
) -> None:
    """Record an anonymous refusal without one row per request: the address's row of ``event_type`` for this
    ``reason`` in the current window (``COUNT_WINDOW``) gets ``count`` + 1, else a new row is written. Its own
    transaction: whatever the request did before is rolled back."""
    from .store.db import WRITE

    db.rollback()
    db.connection(execution_options=WRITE)
    t = now()
    recent = db.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.event == event_type,
            AuditEvent.user_id.is_(None),
            AuditEvent.at >= t - COUNT_WINDOW,
            AuditEvent.ip == ip if ip is not None else AuditEvent.ip.is_(None),
        )
        .order_by(AuditEvent.id.desc())
        .limit(50)  # the address's other rows of the window (single failed logins) come first at most 50 times
    )
    row = next(
        (r for r in recent if isinstance(r.detail, dict) and r.detail.get("reason") == reason and "count" in r.detail),
        None,
    )
    if row is not None:
        assert row.detail is not None
        row.detail = {**row.detail, "count": int(row.detail["count"]) + 1, "last": t.isoformat()}
    else:
        db.add(
            event(event_type, ip=ip, path=path, detail={"reason": reason, "count": 1, "since": t.isoformat()})
        )
    db.commit()


def count_denied(db: Session, ip: str | None, reason: str, path: str | None = None) -> None:
    """``count_anonymous`` of a ``denied`` event."""
    count_anonymous(db, "denied", ip, reason, path)


@dataclass(frozen=True)
class AuditFilter:
    user: str | None = None  # e-mail (substring)
    siren: str | None = None
    event: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive


def _where(q: Select[Any], f: AuditFilter) -> Select[Any]:
    if f.user:
        q = q.where(AuditEvent.email.contains(f.user.strip().lower(), autoescape=True))
    if f.siren:
        q = q.where(AuditEvent.siren == f.siren.strip())
    if f.event:
        q = q.where(AuditEvent.event == f.event)
    if f.since:
        q = q.where(AuditEvent.at >= dt.datetime.combine(f.since, dt.time(), dt.UTC))
    if f.until:
        q = q.where(AuditEvent.at < dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time(), dt.UTC))
    return q


def events(db: Session, f: AuditFilter, limit: int = 200, offset: int = 0) -> tuple[int, list[AuditEvent]]:
    """The matching events, newest first, and their total count."""
    total = db.scalar(_where(select(func.count()).select_from(AuditEvent), f)) or 0
    rows = db.scalars(
        _where(select(AuditEvent), f)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return total, list(rows)


def monthly_stats(db: Session, months: int = 12) -> list[dict[str, Any]]:
    """Per month: active users, logins, companies viewed, searches, exports, denied and out-of-territory accesses."""
    rows = db.execute(select(AuditEvent.at, AuditEvent.event, AuditEvent.user_id, AuditEvent.siren)).all()
    by: dict[str, dict[str, Any]] = {}
    for at, event, user_id, siren in rows:
        m = at.strftime("%Y-%m")
        s = by.setdefault(
            m, {"mois": m, "users": set(), "companies": set(), "counts": {e: 0 for e in AUDIT_EVENTS}}
        )
        s["counts"][event] += 1
        if user_id is not None and event != "login_failed":
            s["users"].add(user_id)
        if event == "company_viewed" and siren:
            s["companies"].add(siren)
    out = []
    for m in sorted(by, reverse=True)[:months]:
        s = by[m]
        out.append(
            {
                "mois": m,
                "utilisateurs_actifs": len(s["users"]),
                "entreprises_consultees": len(s["companies"]),
                **s["counts"],
            }
        )
    return out
