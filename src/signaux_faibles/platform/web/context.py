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
import ipaddress
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import audit as audit_trail
from ..accounts import actor_of, aware, now, sha256, token_row
from ..models import ApiToken, AuditEvent, User, WebSession
from ..policy import Actor
from ..security import SessionPolicy
from ..store.db import WRITE

__all__ = ["SESSION_COOKIE", "Ctx", "LoginRequired", "PageUser", "get_ctx", "page_user"]

SESSION_COOKIE = "sf_session"
CSRF_COOKIE = "sf_csrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: ``last_seen_at`` / ``last_used_at`` are written at most this often (seconds).
TOUCH_EVERY = 60


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
    pending: list[AuditEvent] = field(default_factory=list)  # audit events of a read-only request
    touch_session: int | None = None  # web_sessions.id whose last_seen_at is due
    touch_token: int | None = None  # api_tokens.id whose last_used_at is due

    @property
    def api(self) -> bool:
        return self.request.url.path.startswith("/api/")

    @property
    def ip(self) -> str | None:
        """The client's address: the peer's, or behind a trusted proxy the right-most ``X-Forwarded-For`` hop
        that is not a trusted proxy (``Settings.trusted_proxies``; none by default: the header is ignored)."""
        return client_address(self.request)

    def audit(self, event: str, **kw: Any) -> None:
        """Record an event: in the transaction of a state-changing request, else written by ``finish``."""
        row = audit_trail.event(
            event,
            user_id=self.user.id if self.user else None,
            email=self.user.email if self.user else kw.pop("email", None),
            method=self.request.method,
            path=str(self.request.url.path),
            ip=self.ip,
            **kw,
        )
        if self.request.method in UNSAFE:
            self.db.add(row)
        else:
            self.pending.append(row)

    def finish(self) -> None:
        """Commit the request's work, then (read-only requests) its audit events in one short write transaction,
        before the answer leaves: nothing is served without its event."""
        self.db.commit()
        if not (self.pending or self.touch_session or self.touch_token):
            return
        self.db.connection(execution_options=WRITE)
        self.db.add_all(self.pending)
        t = now()
        if self.touch_session:
            self.db.execute(
                update(WebSession).where(WebSession.id == self.touch_session).values(last_seen_at=t)
            )
        if self.touch_token:
            self.db.execute(update(ApiToken).where(ApiToken.id == self.touch_token).values(last_used_at=t))
        self.db.commit()
        self.pending, self.touch_session, self.touch_token = [], None, None

    def deny(self, reason: str, status: int = 403, **kw: Any) -> HTTPException:
        """Record a denied access (committed at once) and return the exception to raise."""
        self.db.rollback()  # nothing of a refused request is kept, but its event
        self.audit("denied", detail={"reason": reason, **kw.pop("detail", {})}, **kw)
        self.finish()
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

    async def check_input(self) -> None:
        """Refuse NUL characters anywhere in the query or the form (PostgreSQL text cannot hold them)."""
        bad = any("\x00" in v for _, v in self.request.query_params.multi_items())
        ctype = self.request.headers.get("content-type", "")
        if (
            not bad
            and self.request.method in UNSAFE
            and ctype.startswith("application/x-www-form-urlencoded")
        ):
            form = await self.request.form()
            bad = any(isinstance(v, str) and "\x00" in v for _, v in form.multi_items())
        if bad:
            raise HTTPException(400, detail="invalid character (NUL) in the request")

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
            reason = "CSRF token missing or invalid"
            if self.user is None:  # anonymous: one audit row per address and window, counting the attempts
                audit_trail.count_denied(self.db, self.ip, reason, path=str(self.request.url.path))
            else:
                self.audit("denied", detail={"reason": reason})
                self.finish()
            raise HTTPException(403, detail="CSRF token missing or invalid: reload the page and try again")


def _networks(request: Request) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    app = request.app
    nets = getattr(app.state, "trusted_networks", None)
    if nets is None:
        nets = [ipaddress.ip_network(p.strip(), strict=False) for p in app.state.settings.trusted_proxies if p.strip()]
        app.state.trusted_networks = nets
    return list(nets)


def _trusted(address: str, nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in nets)


def client_address(request: Request) -> str | None:
    """See ``Ctx.ip``."""
    peer = request.client.host if request.client else None
    nets = _networks(request)
    if peer is None or not nets or not _trusted(peer, nets):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed chain: the proxy's own address
        if not _trusted(hop, nets):
            return hop
    return peer


def _sign(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def _session_row(db: Session, token: str, at: datetime, policy: SessionPolicy) -> WebSession | None:
    row = db.scalar(select(WebSession).where(WebSession.token_hash == sha256(token)))
    if row is None or row.revoked_at is not None:
        return None
    created, seen = aware(row.created_at), aware(row.last_seen_at)
    assert created is not None and seen is not None
    if not policy.valid(created, seen, at):
        db.rollback()
        db.connection(execution_options=WRITE)
        db.execute(update(WebSession).where(WebSession.id == row.id).values(revoked_at=at))
        db.commit()
        return None
    return row


def _due(last: datetime | None, at: datetime) -> bool:
    last = aware(last)
    return last is None or (at - last).total_seconds() >= TOUCH_EVERY


@dataclass(frozen=True)
class PageUser:
    """Who the header of an error page names (a copy: the database session is gone when the page is drawn)."""

    email: str
    name: str | None
    role: str


def page_user(request: Request) -> tuple[PageUser | None, str | None]:
    """The logged-in user of a browser request and their CSRF token, read only (no write, no audit): what an error
    page's header needs ("Mon compte" and "Se déconnecter" rather than "Se connecter"), also for an unknown route,
    where no route dependency ran."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or getattr(request.app.state, "sessions", None) is None:
        return None, None
    db: Session = request.app.state.sessions()
    try:
        row = db.scalar(select(WebSession).where(WebSession.token_hash == sha256(token)))
        if row is None or row.revoked_at is not None or row.stage != "ok":
            return None, None
        created, seen = aware(row.created_at), aware(row.last_seen_at)
        if created is None or seen is None or not request.app.state.session_policy.valid(created, seen, now()):
            return None, None
        user = db.get(User, row.user_id)
        if user is None:
            return None, None
        return PageUser(user.email, user.name, user.role), row.csrf_token
    except Exception:  # an error page must not fail on its header
        return None, None
    finally:
        db.close()


def get_ctx(request: Request) -> Iterator[Ctx]:
    """FastAPI dependency: the request's context (its database session is closed after the answer).

    On SQLite, a state-changing request writes from its first statement (``BEGIN IMMEDIATE``); a read-only one
    reads in a deferred transaction and writes its audit events afterwards (``Ctx.finish``).
    """
    app = request.app
    db: Session = app.state.sessions()
    try:
        if request.method in UNSAFE:
            db.connection(execution_options=WRITE)
        ctx = Ctx(request, db)
        t = now()
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            row = token_row(db, auth[7:].strip())
            user = db.get(User, row.user_id) if row is not None else None
            if row is None or user is None:
                # one audit row per address and 10 minutes, counting the attempts (not one row each)
                audit_trail.count_denied(db, ctx.ip, "invalid or expired API token", path=str(request.url.path))
                raise HTTPException(
                    401, detail="invalid or expired API token", headers={"WWW-Authenticate": "Bearer"}
                )
            ctx.user, ctx.via = user, "token"
            ctx.actor = actor_of(db, user)
            if _due(row.last_used_at, t):
                ctx.touch_token = row.id
        elif token := request.cookies.get(SESSION_COOKIE):
            srow = _session_row(db, token, t, app.state.session_policy)
            if srow is not None:
                ctx.session = srow
                user = db.get(User, srow.user_id)
                if user is not None and srow.stage == "ok":
                    ctx.user, ctx.via = user, "session"
                    ctx.actor = actor_of(db, user)
                    if _due(srow.last_seen_at, t):
                        ctx.touch_session = srow.id
        yield ctx
    finally:
        db.close()
