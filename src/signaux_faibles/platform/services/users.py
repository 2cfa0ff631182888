"""Users: creation and changes (organisation, territory, rights, role), login checks and throttle, the policy's
view of a user (``actor_of``), the sealing of TOTP secrets. None of these functions commits (the caller owns the
transaction, so that the audit event of an admin change is written in the same one)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from ..models import LoginAttempt, Organisation, User
from ..policy import DATA_RIGHTS, ROLES, Actor, Territory
from ..security import ThrottlePolicy, hash_password, password_problems
from .common import AccountError, login_blocker, now, sha256
from .tokens import revoke_tokens

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_rights(rights: str | Iterable[str] | None) -> frozenset[str]:
    items = rights.split(",") if isinstance(rights, str) else list(rights or [])
    out = frozenset(r.strip().lower() for r in items if r.strip())
    unknown = sorted(out - set(DATA_RIGHTS))
    if unknown:
        raise AccountError(
            f"unknown data right(s) {', '.join(unknown)}: expected among {', '.join(DATA_RIGHTS)}"
        )
    return out


def _organisation(db: Session, name: str) -> Organisation:
    wanted = name.strip().casefold()
    org = next((o for o in db.scalars(select(Organisation)) if o.name.casefold() == wanted), None)
    if org is None:
        known = ", ".join(db.scalars(select(Organisation.name).order_by(Organisation.name)))
        raise AccountError(f"unknown organisation {name!r}: expected one of {known}")
    return org


def _territory_codes(territory: str) -> str:
    try:
        return ",".join(Territory.parse(territory).codes())
    except ValueError as e:
        raise AccountError(str(e)) from None


def _checked_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    return role


def _password_hash(password: str, email: str, name: str | None = None) -> str:
    problems = password_problems(password, email, name)
    if problems:
        raise AccountError("password too weak: it needs " + ", ".join(problems))
    return hash_password(password)


def find_user(db: Session, email: str) -> User:
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AccountError(f"no account for {email}")
    return user


def add_user(
    db: Session,
    email: str,
    *,
    organisation: str,
    territory: str,
    rights: str | Iterable[str] | None = None,
    role: str = "agent",
    password: str | None = None,
    name: str | None = None,
    expires_at: datetime | None = None,
    reviewed_by: int | None = None,
) -> User:
    """Create an account (validated: e-mail, organisation, territory codes, rights, role, password strength)."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise AccountError(f"{email!r} is not an e-mail address")
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"an account already exists for {email}")
    org = _organisation(db, organisation)
    codes = _territory_codes(territory)
    _checked_role(role)
    hashed = _password_hash(password, email, name) if password is not None else None
    t = now()
    user = User(
        email=email,
        name=name,
        organisation_id=org.id,
        territory=codes,
        rights=",".join(sorted(parse_rights(rights))),
        role=role,
        active=True,
        password_hash=hashed,
        created_at=t,
        expires_at=expires_at,
        reviewed_at=t,
        reviewed_by=reviewed_by,
        failed_logins=0,
    )
    db.add(user)
    db.flush()
    return user


def set_user(
    db: Session,
    user: User,
    *,
    rights: str | Iterable[str] | None = None,
    territory: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    expires_at: datetime | None = None,
) -> dict[str, tuple[object, object]]:
    """Change an account; returns ``{field: (before, after)}`` for the audit. Disabling ends its sessions."""
    from ..models import WebSession

    changes: dict[str, tuple[object, object]] = {}
    if rights is not None:
        new = ",".join(sorted(parse_rights(rights)))
        changes["rights"] = (user.rights, new)
        user.rights = new
    if territory is not None:
        new = _territory_codes(territory)
        changes["territory"] = (user.territory, new)
        user.territory = new
    if role is not None:
        changes["role"] = (user.role, _checked_role(role))
        user.role = role
    if password is not None:
        user.password_hash = _password_hash(password, user.email, user.name)
        changes["password"] = ("***", "***")
    if expires_at is not None:
        changes["expires_at"] = (str(user.expires_at), str(expires_at))
        user.expires_at = expires_at
    if active is not None:
        changes["active"] = (user.active, active)
        user.active = active
        if not active:
            t = now()
            for s in db.scalars(
                select(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
            ):
                s.revoked_at = t
            revoke_tokens(db, user)
    db.flush()
    return {k: v for k, v in changes.items() if v[0] != v[1] or k == "password"}


#: The login throttle (``security.ThrottlePolicy``): failed attempts per address and per account.
THROTTLE = ThrottlePolicy()


def _account_key(email: str) -> str:
    return sha256("login:" + email.strip().lower())


def record_failed_login(
    db: Session, email: str | None, ip: str | None, *, at: datetime | None = None, policy: ThrottlePolicy = THROTTLE
) -> None:
    """Count a failed login attempt (password, code or SSO) on ``email`` (None: no identity known) from ``ip``; the
    attempts older than the policy's longest window are purged (the table stays bounded)."""
    t = at or now()
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < t - policy.keep))
    db.add(LoginAttempt(at=t, ip=ip, account=_account_key(email) if email is not None else None))


def login_throttled(
    db: Session, email: str | None, ip: str | None, *, at: datetime | None = None, policy: ThrottlePolicy = THROTTLE
) -> str | None:
    """``"address"`` or ``"account"`` when too many attempts failed lately from ``ip`` or on ``email`` (whether an
    account has that address or not; None: the address only), else None. Counted in the database: shared by every
    worker."""
    t = at or now()

    def failures(*where: ColumnElement[bool]) -> int:
        return int(db.scalar(select(func.count()).select_from(LoginAttempt).where(*where)) or 0)

    by_address = (
        failures(LoginAttempt.ip == ip, LoginAttempt.at >= t - policy.address_window) if ip is not None else 0
    )
    by_account = (
        failures(LoginAttempt.account == _account_key(email), LoginAttempt.at >= t - policy.account_window)
        if email is not None
        else 0
    )
    return policy.exceeded(by_address, by_account)


def actor_of(db: Session, user: User) -> Actor:
    """The policy's view of a user (an inactive, expired or unreviewed account is not authenticated)."""
    org = db.get(Organisation, user.organisation_id)
    return Actor(
        user_id=user.id,
        organisation=org.name if org else None,
        territory=Territory.parse(user.territory),
        rights=frozenset(r for r in user.rights.split(",") if r),
        role=user.role,
        active=login_blocker(user) is None,
    )


def seal_totp_secrets(engine: Any, key: str) -> int:
    """Seal (``security.seal``) every TOTP secret still stored in clear; return how many were sealed."""
    from ..models import WebSession
    from ..security import SEALED, seal
    from ..store.db import sessions

    n = 0
    with sessions(engine)() as db:
        for user in db.scalars(select(User).where(User.totp_secret.is_not(None), ~User.totp_secret.startswith(SEALED))):
            user.totp_secret = seal(user.totp_secret or "", key)
            n += 1
        for ws in db.scalars(
            select(WebSession).where(WebSession.pending_totp.is_not(None), ~WebSession.pending_totp.startswith(SEALED))
        ):
            ws.pending_totp = seal(ws.pending_totp or "", key)
            n += 1
        db.commit()
    return n
