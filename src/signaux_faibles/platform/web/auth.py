"""Local login (password, then TOTP code), enrolment of the second factor, confidentiality notice, logout.

- ``POST /connexion`` checks the password (argon2), counts failures (5 in 15 minutes lock the account for 15
  minutes) and throttles (20 failed attempts per address within 10 minutes, 10 per e-mail address typed within 15
  minutes: ``security.ThrottlePolicy``, counted in the table ``login_attempts``, shared by every worker; successful
  logins never count; the address is the client's, ``X-Forwarded-For`` read only from ``Settings.trusted_proxies``;
  the throttled attempts are audited in one row per address and window); a wrong password gets the same answer for
  every kind of account; a correct password opens a *partial* session whose only use is the code page.
- ``POST /connexion/code`` checks the TOTP code (never the same code twice); at first login the page shows the
  secret to enrol in an authenticator app, and the first valid code confirms it. Success replaces the partial
  session by a new one (new cookie value: the session is renewed at login).
- ``/avis``: the confidentiality notice, accepted at first login and every 3 months.
- ``POST /deconnexion`` ends this session, ``POST /deconnexion-partout`` every session of the user.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from .. import audit as audit_trail
from ..accounts import aware, login_blocker, login_throttled, now, record_failed_login, sha256
from ..models import User, WebSession
from ..policy import Action
from ..security import (
    SEALED,
    LockoutPolicy,
    LoginState,
    hash_password,
    needs_rehash,
    new_totp_secret,
    notice_due,
    seal,
    totp_uri,
    unseal,
    verify_password,
    verify_totp,
)
from .context import SESSION_COOKIE, Ctx
from .deps import CtxDep
from .guard import ensure_allowed
from .rendering import render

__all__ = ["router", "start_session"]

router = APIRouter(include_in_schema=False)
LOCKOUT = LockoutPolicy()
#: The answers of a throttled attempt (429), by the limit reached.
THROTTLED = {
    "address": "Trop de tentatives depuis cette adresse : réessayez dans quelques minutes.",
    "account": "Trop de tentatives pour cet identifiant : réessayez dans quelques minutes.",
}
_DUMMY_HASH = hash_password("not-a-password-of-anyone-1A!")
GENERIC = "Identifiant ou mot de passe incorrect."


def _key(ctx: Ctx) -> str:
    key: str = ctx.request.app.state.secret_key
    return key


def _safe_next(url: str | None) -> str:
    """Only local paths (no open redirect)."""
    if not url:
        return "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return "/"
    return url


def start_session(
    ctx: Ctx, response: Response, user: User, *, stage: str, method: str, next_url: str | None
) -> None:
    """A new server-side session for ``user`` (any previous one of this browser is revoked) and its cookie."""
    t = now()
    if ctx.session is not None:
        ctx.session.revoked_at = t
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=sha256(token),
        user_id=user.id,
        stage=stage,
        method=method,
        csrf_token=secrets.token_urlsafe(32),
        next_url=_safe_next(next_url),
        created_at=t,
        last_seen_at=t,
        ip=ctx.ip,
        user_agent=(ctx.request.headers.get("user-agent") or "")[:500],
    )
    ctx.db.add(row)
    ctx.session = row
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=ctx.request.app.state.secure_cookies,
        path="/",
    )


def finish_login(ctx: Ctx, user: User, method: str, next_url: str | None) -> Response:
    """The user is authenticated: fresh session, audit, then the notice or where they were going."""
    t = now()
    user.last_login_at = t
    user.failed_logins = 0
    user.first_failure_at = None
    user.locked_until = None
    go = "/avis" if notice_due(aware(user.notice_accepted_at), t) else _safe_next(next_url)
    response = RedirectResponse(go, status_code=303)
    start_session(ctx, response, user, stage="ok", method=method, next_url=next_url)
    ctx.user = user
    ctx.audit("login", detail={"method": method})
    ctx.finish()
    return response


def _state(user: User) -> LoginState:
    return LoginState(user.failed_logins, aware(user.first_failure_at), aware(user.locked_until))


def _fail(ctx: Ctx, user: User | None, email: str, reason: str) -> None:
    record_failed_login(ctx.db, email, ctx.ip)
    if user is not None:
        state = LOCKOUT.failure(_state(user), now())
        user.failed_logins, user.first_failure_at, user.locked_until = (
            state.failures,
            state.first_failure,
            state.locked_until,
        )
    ctx.audit("login_failed", email=email[:254], detail={"reason": reason})
    ctx.finish()


@router.get("/connexion")
def login_page(ctx: CtxDep, next: str | None = None) -> Response:
    sso = ctx.request.app.state.settings.oidc_issuer is not None
    return render(
        ctx, "login.html", next=_safe_next(next), sso=sso, sso_label=ctx.request.app.state.settings.oidc_label
    )


@router.post("/connexion")
def login(
    ctx: CtxDep,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    email = email.strip().lower()
    ctx.user = (
        None  # events are about the account being logged into, not a session this browser may still hold
    )
    limit = login_throttled(ctx.db, email, ctx.ip)
    if limit is not None:  # refused unchecked; one audit row per address and window, not one each
        audit_trail.count_anonymous(ctx.db, "login_failed", ctx.ip, f"throttled ({limit})", str(ctx.request.url.path))
        raise HTTPException(429, detail=THROTTLED[limit])
    user = ctx.db.scalar(select(User).where(User.email == email))
    sso = ctx.request.app.state.settings.oidc_issuer is not None

    def again(message: str, status: int = 400) -> Response:
        return render(ctx, "login.html", status, next=_safe_next(next), sso=sso, email=email,
                      sso_label=ctx.request.app.state.settings.oidc_label, messages=[("error", message)])  # fmt: skip

    # a wrong password gets one answer (message and status) whatever the account: unknown, locked, disabled,
    # expired; only the holder of the right password learns more (no account enumeration)
    if user is None or user.password_hash is None:
        verify_password(_DUMMY_HASH, password)  # same time whether the account exists or not
        _fail(ctx, None, email, "unknown account or no password")
        return again(GENERIC)
    locked = LOCKOUT.locked(_state(user), now())
    if not verify_password(user.password_hash, password):
        _fail(ctx, user, email, "wrong password (account locked)" if locked else "wrong password")
        return again(GENERIC)
    if locked:
        _fail(ctx, user, email, "locked")
        return again(
            "Compte temporairement verrouillé après plusieurs échecs : réessayez dans 15 minutes.", 423
        )
    blocker = login_blocker(user)
    if blocker is not None:
        _fail(ctx, user, email, blocker)
        return again(blocker, 403)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    response = RedirectResponse("/connexion/code", status_code=303)
    start_session(ctx, response, user, stage="totp", method="password", next_url=next)
    if user.totp_secret is None:
        assert ctx.session is not None
        ctx.session.pending_totp = seal(new_totp_secret(), _key(ctx))
    ctx.finish()
    return response


def _partial(ctx: Ctx) -> tuple[WebSession, User]:
    s = ctx.session
    if s is None or s.stage != "totp":
        raise HTTPException(403, detail="Commencez par saisir votre identifiant et votre mot de passe.")
    user = ctx.db.get(User, s.user_id)
    if user is None:
        raise HTTPException(403, detail="Compte inconnu.")
    return s, user


@router.get("/connexion/code")
def code_page(ctx: CtxDep) -> Response:
    if ctx.session is None or ctx.session.stage != "totp":
        return RedirectResponse("/connexion", status_code=303)
    s, user = _partial(ctx)
    enrol = unseal(s.pending_totp, _key(ctx)) if s.pending_totp else None
    return render(ctx, "code.html", **_enrolment(enrol, user.email))


def _enrolment(secret: str | None, email: str) -> dict[str, Any]:
    """What the code page shows to enrol a secret: the key, its ``otpauth://`` link and that link as a QR code
    (inline SVG drawn on the server: no image from elsewhere, no script)."""
    if secret is None:
        return {"enrol": None, "uri": None, "qr": None}
    import segno
    from markupsafe import Markup

    uri = totp_uri(secret, email)
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#161616", light="#ffffff",
                                                 title="QR code d'enregistrement", svgclass="sf-totp-qr")  # fmt: skip
    return {"enrol": secret, "uri": uri, "qr": Markup(svg)}


@router.post("/connexion/code")
def code(ctx: CtxDep, code: str = Form("")) -> Response:
    s, user = _partial(ctx)
    t = now()
    if LOCKOUT.locked(_state(user), t):
        s.revoked_at = t
        _fail(ctx, user, user.email, "locked")
        return RedirectResponse("/connexion", status_code=303)
    sealed = s.pending_totp or user.totp_secret
    assert sealed is not None
    secret = unseal(sealed, _key(ctx))
    step = verify_totp(secret, code, t, None if s.pending_totp else user.totp_last_step)
    if step is None:
        _fail(ctx, user, user.email, "wrong TOTP code")
        enrol = secret if s.pending_totp else None
        return render(ctx, "code.html", 400, **_enrolment(enrol, user.email),
                      messages=[("error", "Code incorrect ou déjà utilisé.")])  # fmt: skip
    if s.pending_totp:
        user.totp_secret = s.pending_totp  # sealed
    elif not sealed.startswith(SEALED):  # a secret stored in clear before sealing: sealed now
        user.totp_secret = seal(secret, _key(ctx))
    user.totp_last_step = step
    return finish_login(ctx, user, "password", s.next_url)


@router.get("/avis")
def notice_page(ctx: CtxDep) -> Response:
    if ctx.user is None or ctx.via != "session":
        return RedirectResponse("/connexion", status_code=303)
    return render(ctx, "notice.html", due=notice_due(aware(ctx.user.notice_accepted_at), now()))


@router.post("/avis")
def accept_notice(ctx: CtxDep, accept: str = Form("")) -> Response:
    if ctx.user is None or ctx.via != "session":
        return RedirectResponse("/connexion", status_code=303)
    if accept != "oui":
        return render(ctx, "notice.html", 400, due=True,
                      messages=[("error", "Vous devez accepter les conditions pour accéder à la plateforme.")])  # fmt: skip
    ctx.user.notice_accepted_at = now()
    ctx.finish()
    return RedirectResponse(_safe_next(ctx.session.next_url if ctx.session else None), status_code=303)


@router.post("/deconnexion")
def logout(ctx: CtxDep) -> Response:
    response = RedirectResponse("/connexion", status_code=303)
    if ctx.session is not None:
        ctx.session.revoked_at = now()
        if ctx.user is not None:
            ctx.audit("logout", detail={"scope": "session"})
        ctx.finish()
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/deconnexion-partout")
def logout_everywhere(ctx: CtxDep) -> Response:
    user = ensure_allowed(ctx, Action.ACCOUNT).user
    t = now()
    n = 0
    for s in ctx.db.scalars(
        select(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
    ):
        s.revoked_at = t
        n += 1
    ctx.audit("logout", detail={"scope": "everywhere", "sessions": n})
    ctx.finish()
    response = RedirectResponse("/connexion", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
