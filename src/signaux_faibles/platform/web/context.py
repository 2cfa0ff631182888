"""Per-request context: database session, who is asking (session cookie or API token), CSRF, audit helpers.

Authentication, in order: an ``Authorization: Bearer sf_…`` API token; else the ``sf_session`` cookie, whose
random value's SHA-256 names a row of ``web_sessions`` (idle and absolute timeouts checked, revoked rows
refused); else anonymous.

CSRF: every state-changing request (POST, PUT, PATCH, DELETE) must carry the token of its session — form field
``csrf_token`` or header ``X-CSRF-Token``. Before login, the token is an HMAC of the ``sf_csrf`` cookie with the
secret key (signed double submit). Requests authenticated by an API token and carrying no cookie are exempt: a
browser never sends that header by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit as audit_trail
from ..accounts import actor_of, aware, now, sha256, user_for_token
from ..models import User, WebSession
from ..policy import Actor
from ..security import SessionPolicy

__all__ = ["SESSION_COOKIE", "Ctx", "LoginRequired", "get_ctx"]

SESSION_COOKIE = "sf_session"
CSRF_COOKIE = "sf_csrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(Exception):
    """A page needs a logged-in user (redirect to the login page), or the notice to be accepted."""

    def __init__(self, where: str = "/connexion") -> None:
        self.where = where


@dataclass
class Ctx:
    request: Request
    db: Session
    user: User | None = None
    session: WebSession | None = None  # the browser session (any stage)
    via: str = "anonymous"  # "session", "token" or "anonymous"
    actor: Actor = field(default_factory=Actor.anonymous)
    new_csrf_cookie: str | None = None

    @property
    def api(self) -> bool:
        return self.request.url.path.startswith("/api/")

    @property
    def ip(self) -> str | None:
        return self.request.client.host if self.request.client else None

    def audit(self, event: str, **kw: Any) -> None:
        """Record an event in this request's transaction (committed with the answer)."""
        audit_trail.record(
            self.db,
            event,
            user_id=self.user.id if self.user else None,
            email=self.user.email if self.user else kw.pop("email", None),
            method=self.request.method,
            path=str(self.request.url.path),
            ip=self.ip,
            **kw,
        )

    def deny(self, reason: str, status: int = 403, **kw: Any) -> HTTPException:
        """Record a denied access (committed at once) and return the exception to raise."""
        self.audit("denied", detail={"reason": reason, **kw.pop("detail", {})}, **kw)
        self.db.commit()
        return HTTPException(status, detail=reason)

    # -------------------------------------------------------------------------------------------- guards

    def require_user(self) -> User:
        """The logged-in user, with the confidentiality notice accepted (pages); 401 for the API."""
        from ..security import notice_due

        if self.user is None or not self.actor.authenticated:
            if self.api:
                raise HTTPException(
                    401, detail="authentication required", headers={"WWW-Authenticate": "Bearer"}
                )
            raise LoginRequired(f"/connexion?next={self.request.url.path}")
        if self.via == "session" and notice_due(aware(self.user.notice_accepted_at), now()):
            if self.api:
                raise HTTPException(403, detail="the confidentiality notice must be accepted first (/avis)")
            raise LoginRequired("/avis")
        return self.user

    # ---------------------------------------------------------------------------------------------- CSRF

    def csrf_token(self) -> str:
        """The token to put in this page's forms."""
        if self.session is not None:
            return self.session.csrf_token
        cookie = self.request.cookies.get(CSRF_COOKIE)
        if not cookie:
            cookie = self.new_csrf_cookie or secrets.token_urlsafe(24)
            self.new_csrf_cookie = cookie
        return _sign(self.request.app.state.secret_key, cookie)

    async def check_csrf(self) -> None:
        if self.request.method not in UNSAFE:
            return
        if self.via == "token" and not self.request.cookies:
            return
        sent = self.request.headers.get("x-csrf-token")
        if sent is None:
            ctype = self.request.headers.get("content-type", "")
            if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                form = await self.request.form()
                value = form.get("csrf_token")
                sent = value if isinstance(value, str) else None
        expected: str | None = None
        if self.session is not None:
            expected = self.session.csrf_token
        elif cookie := self.request.cookies.get(CSRF_COOKIE):
            expected = _sign(self.request.app.state.secret_key, cookie)
        if not sent or not expected or not hmac.compare_digest(sent, expected):
            self.audit("denied", detail={"reason": "CSRF token missing or invalid"})
            self.db.commit()
            raise HTTPException(403, detail="CSRF token missing or invalid: reload the page and try again")


def _sign(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def _session_row(db: Session, token: str, at: datetime, policy: SessionPolicy) -> WebSession | None:
    row = db.scalar(select(WebSession).where(WebSession.token_hash == sha256(token)))
    if row is None or row.revoked_at is not None:
        return None
    created, seen = aware(row.created_at), aware(row.last_seen_at)
    assert created is not None and seen is not None
    if not policy.valid(created, seen, at):
        row.revoked_at = at
        db.commit()
        return None
    return row


def get_ctx(request: Request) -> Iterator[Ctx]:
    """FastAPI dependency: the request's context (its database session is closed after the answer)."""
    app = request.app
    db: Session = app.state.sessions()
    try:
        ctx = Ctx(request, db)
        t = now()
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            user = user_for_token(db, auth[7:].strip())
            if user is None:
                ctx.audit("denied", detail={"reason": "invalid or expired API token"})
                db.commit()
                raise HTTPException(
                    401, detail="invalid or expired API token", headers={"WWW-Authenticate": "Bearer"}
                )
            ctx.user, ctx.via = user, "token"
            ctx.actor = actor_of(db, user)
        elif token := request.cookies.get(SESSION_COOKIE):
            row = _session_row(db, token, t, app.state.session_policy)
            if row is not None:
                ctx.session = row
                user = db.get(User, row.user_id)
                if user is not None and row.stage == "ok":
                    ctx.user, ctx.via = user, "session"
                    ctx.actor = actor_of(db, user)
                    row.last_seen_at = t
        yield ctx
    finally:
        db.close()
