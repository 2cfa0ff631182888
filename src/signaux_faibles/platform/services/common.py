"""What the account services share: their error, the clock, the hash of tokens, and whether an account may be used
now (``login_blocker``)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from ..models import User
from ..security import account_expired, review_due


class AccountError(ValueError):
    """A request on accounts that cannot be satisfied (message for the operator or the admin page)."""


def now() -> datetime:
    return datetime.now(UTC)


def aware(d: datetime | None) -> datetime | None:
    """Datetimes read back from SQLite are naive: they were written in UTC."""
    return d.replace(tzinfo=UTC) if d is not None and d.tzinfo is None else d


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_blocker(user: User, at: datetime | None = None) -> str | None:
    """Why this account cannot be used now (French, shown to the user), or None."""
    t = at or now()
    if not user.active:
        return "Ce compte est désactivé."
    if account_expired(aware(user.expires_at), t):
        return "Ce compte a expiré : demandez sa prolongation à l'administrateur de votre organisation."
    if user.role != "admin" and review_due(aware(user.reviewed_at), t):
        return (
            "L'habilitation de ce compte n'a pas été revue depuis plus de six mois : "
            "l'administrateur de votre organisation doit la confirmer."
        )
    return None
