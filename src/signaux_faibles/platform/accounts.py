"""Accounts: organisations, users, API tokens, follows and the regional roll-out, over a SQLAlchemy session.

The operators' commands (``signaux-faibles users …``, ``regions …``), the web application and the tests share
these functions; none of them commits (the caller owns the transaction, so that the audit event of an admin change
is written in the same one).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, select
from sqlalchemy.orm import Session

from ..contract import ALERTED
from .models import ApiToken, Establishment, Follow, LoginAttempt, OpenRegion, Organisation, Score, User
from .policy import DATA_RIGHTS, ROLES, Actor, CompanyFacts, Territory, open_establishments
from .security import ThrottlePolicy, account_expired, hash_password, password_problems, review_due

__all__ = [
    "TOKEN_DAYS",
    "AccountError",
    "actor_of",
    "add_user",
    "aware",
    "close_regions",
    "company_facts",
    "find_user",
    "follow",
    "is_followed",
    "issue_token",
    "login_blocker",
    "login_throttled",
    "now",
    "open_regions",
    "parse_rights",
    "record_failed_login",
    "revoke_tokens",
    "set_user",
    "sha256",
    "token_row",
    "unfollow",
    "user_for_token",
]

TOKEN_DAYS = 90
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_REGION_CODE = re.compile(r"^(FR|\d{2})$")


class AccountError(ValueError):
    """A request on accounts that cannot be satisfied (message for the operator or the admin page)."""


def now() -> datetime:
    return datetime.now(UTC)


def aware(d: datetime | None) -> datetime | None:
    """Datetimes read back from SQLite are naive: they were written in UTC."""
    return d.replace(tzinfo=UTC) if d is not None and d.tzinfo is None else d


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    from .models import WebSession

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


# ------------------------------------------------------------------------------------------------ API tokens


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


# --------------------------------------------------------------------------------------------- follows, facts


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


def open_regions(db: Session) -> set[str]:
    return set(db.scalars(select(OpenRegion.code)))


def _region_codes(codes: str) -> list[str]:
    out = []
    for c in codes.split(","):
        c = c.strip().upper().removeprefix("R") if c.strip().upper() != "FR" else "FR"
        if not c:
            continue
        if not _REGION_CODE.match(c):
            raise AccountError(f"unknown région code {c!r}: expected FR or R<2-digit INSEE code> (R27)")
        out.append(c)
    if not out:
        raise AccountError("no région given: expected FR or R<2-digit INSEE code>, comma-separated")
    return out


def open_region_codes(db: Session, codes: str, by: str | None = None) -> list[str]:
    """Open the platform in these régions (``FR``: everywhere); returns the codes newly opened."""
    done = []
    have = open_regions(db)
    for c in _region_codes(codes):
        if c not in have:
            db.add(OpenRegion(code=c, opened_at=now(), opened_by=by))
            done.append(c)
    db.flush()
    return done


def close_regions(db: Session, codes: str) -> list[str]:
    done = []
    for c in _region_codes(codes):
        row = db.get(OpenRegion, c)
        if row is not None:
            db.delete(row)
            done.append(c)
    db.flush()
    return done


def company_facts(db: Session, actor: Actor, siren: str) -> CompanyFacts | None:
    """What the policy needs about ``siren`` for ``actor``; None when the platform does not know the company."""
    etabs = db.execute(
        select(Establishment.departement, Establishment.region).where(Establishment.siren == siren)
    ).all()
    if not etabs:
        return None
    counted = open_establishments(((d, r) for d, r in etabs), open_regions(db))
    alerted = bool(db.scalar(select(exists().where(and_(Score.siren == siren, Score.alert.in_(ALERTED))))))
    return CompanyFacts(
        siren=siren,
        establishments=counted,
        alerted=alerted,
        followed=is_followed(db, actor.user_id, siren),
        open=bool(counted),
    )


def seal_totp_secrets(engine: Any, key: str) -> int:
    """Seal (``security.seal``) every TOTP secret still stored in clear; return how many were sealed."""
    from .db import sessions
    from .models import WebSession
    from .security import SEALED, seal

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
