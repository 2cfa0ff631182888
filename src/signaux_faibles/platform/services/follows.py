"""The companies each user follows."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..models import Follow, User
from .common import now


def is_followed(db: Session, user_id: int | None, siren: str) -> bool:
    if user_id is None:
        return False
    return bool(
        db.scalar(
            select(exists().where(Follow.user_id == user_id, Follow.siren == siren, Follow.active.is_(True)))
        )
    )


def follow(db: Session, user: User, siren: str, category: str, comment: str | None = None) -> Follow:
    """Follow a company (idempotent: an active follow is returned as is)."""
    current = db.scalar(
        select(Follow).where(Follow.user_id == user.id, Follow.siren == siren, Follow.active.is_(True))
    )
    if current is not None:
        return current
    f = Follow(user_id=user.id, siren=siren, category=category, comment=comment, active=True, since=now())
    db.add(f)
    db.flush()
    return f


def unfollow(
    db: Session, user: User, siren: str, category: str | None = None, comment: str | None = None
) -> bool:
    current = db.scalar(
        select(Follow).where(Follow.user_id == user.id, Follow.siren == siren, Follow.active.is_(True))
    )
    if current is None:
        return False
    current.active = False
    current.until = now()
    current.end_category = category
    current.end_comment = comment
    return True
