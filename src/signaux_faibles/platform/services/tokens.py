"""Personal API tokens: issued once (only their SHA-256 is stored), looked up, revoked."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiToken, User
from .common import AccountError, aware, login_blocker, now, sha256

TOKEN_DAYS = 90


def issue_token(db: Session, user: User, *, days: int = TOKEN_DAYS, name: str | None = None) -> str:
    """A new personal API token (returned once; only its SHA-256 is stored)."""
    if login_blocker(user) is not None:
        raise AccountError(f"{user.email}: {login_blocker(user)}")
    token = "sf_" + secrets.token_urlsafe(32)
    t = now()
    db.add(
        ApiToken(
            token_hash=sha256(token),
            prefix=token[:10],
            user_id=user.id,
            name=name,
            created_at=t,
            expires_at=t + timedelta(days=days),
        )
    )
    db.flush()
    return token


def token_row(db: Session, token: str) -> ApiToken | None:
    """The valid (known, unrevoked, unexpired) token row of ``token``, or None."""
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == sha256(token)))
    t = now()
    if row is None or row.revoked_at is not None or (aware(row.expires_at) or t) <= t:
        return None
    return row


def user_for_token(db: Session, token: str) -> User | None:
    """The user of a valid token, with the token's ``last_used_at`` updated."""
    row = token_row(db, token)
    if row is None:
        return None
    row.last_used_at = now()
    return db.get(User, row.user_id)


def revoke_tokens(db: Session, user: User) -> int:
    t = now()
    rows = list(
        db.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    )
    for r in rows:
        r.revoked_at = t
    return len(rows)
