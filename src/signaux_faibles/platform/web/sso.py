"""Single sign-on by OpenID Connect (Keycloak, ProConnect) with Authlib.

``GET /sso/connexion`` redirects to the identity provider (authorization code flow, state and nonce kept in the
short-lived ``sf_oidc`` cookie); ``GET /sso/retour`` exchanges the code, validates the ID token and maps its claims
(``platform.claims.map_claims``):

- claims with roles (Keycloak) give the territory, the data rights and the role; an account is created at first
  login, or updated at each login (the identity provider is then the source of truth);
- claims without roles (ProConnect) only identify the person: the account must exist (prepared by the
  organisation admin) and keeps its territory and rights; otherwise the login is refused.

The identity provider performs the strong authentication: no TOTP code is asked after SSO. The confidentiality
notice, the account's expiry and its habilitation review apply as for a local login. A refused callback is a
failed login attempt of the address (``accounts.record_failed_login``): beyond the address's limit, callbacks are
refused unchecked (429) and audited in one row per address and window.
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import Response
from sqlalchemy import select

from ...config import Settings
from .. import audit as audit_trail
from ..accounts import AccountError, add_user, login_blocker, login_throttled, record_failed_login, set_user
from ..claims import ClaimsError, MappedAccount, map_claims
from ..models import Organisation, User
from ..store.db import WRITE
from .context import Ctx
from .deps import CtxDep

__all__ = ["configure", "router"]

router = APIRouter(prefix="/sso", include_in_schema=False)


def configure(app: FastAPI, settings: Settings) -> None:
    app.state.oauth = None
    if not settings.oidc_issuer:
        return
    from authlib.integrations.starlette_client import OAuth

    oauth = OAuth()
    oauth.register(
        "idp",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile"},
    )
    app.state.oauth = oauth


def _client(ctx: Ctx) -> Any:
    oauth = ctx.request.app.state.oauth
    if oauth is None:
        raise HTTPException(404, detail="single sign-on is not configured")
    return oauth.idp


def _refuse(
    ctx: Ctx, email: str | None, reason: str, status: int = 403, detail: str | None = None
) -> HTTPException:
    """A refused login: nothing of it is kept (account creation or update) but its ``login_failed`` event.

    ``reason`` is recorded (English, for the audit trail); ``detail`` is the French reason shown on the login
    page (``app`` renders the errors of ``/sso/`` as that page). The refusal counts as a failed attempt of the
    address (and of the account, when the provider named one)."""
    ctx.db.rollback()
    ctx.db.connection(execution_options=WRITE)
    record_failed_login(ctx.db, email or None, ctx.ip)
    ctx.audit(
        "login_failed",
        email=email[:254] if email is not None else None,
        detail={"reason": reason, "method": "sso"},
    )
    ctx.finish()
    return HTTPException(status, detail=detail or reason)


#: French reasons of the refusals, shown on the login page.
FR = {
    "oidc": "le fournisseur d'identité n'a pas confirmé la connexion (réponse invalide ou expirée) : recommencez.",
    "unreachable": "le fournisseur d'identité ne répond pas : réessayez dans quelques minutes.",
    "organisation": "l'organisation de votre identité ne correspond pas à celle de votre compte sur la plateforme.",
    "subject": "ce compte est rattaché à une autre identité du fournisseur.",
    "throttled": "trop de tentatives depuis cette adresse : réessayez dans quelques minutes.",
}


@router.get("/connexion")
async def sso_login(ctx: CtxDep, next: str = "/") -> Response:
    client = _client(ctx)
    ctx.request.session["next"] = next
    redirect_uri = str(ctx.request.url_for("sso_callback"))
    try:
        response: Response = await client.authorize_redirect(ctx.request, redirect_uri)
    except httpx.HTTPError:
        raise HTTPException(502, detail="the identity provider cannot be reached") from None
    return response


async def _provider_claims(ctx: Ctx, client: Any) -> dict[str, Any]:
    """The identity provider's claims: the ID token's, completed by its userinfo endpoint (refused: recorded)."""
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError

    try:
        token = await client.authorize_access_token(ctx.request)
    # OAuthError: state missing or forged, error=… from the provider, code refused; JoseError: invalid ID token
    except (AuthlibBaseError, JoseError) as e:
        error = getattr(e, "error", None) or type(e).__name__
        raise _refuse(ctx, None, f"OIDC: {error}", 401, FR["oidc"]) from None
    except httpx.HTTPError:
        raise _refuse(ctx, None, "OIDC: identity provider unreachable", 502, FR["unreachable"]) from None
    claims = dict(token.get("userinfo") or {})
    if "email" not in claims:  # ProConnect sends the e-mail only from its userinfo endpoint
        # on failure map_claims refuses the login below: no e-mail address
        with contextlib.suppress(AuthlibBaseError, JoseError, httpx.HTTPError, ValueError):
            claims.update(
                {k: v for k, v in dict(await client.userinfo(token=token)).items() if k not in claims}
            )
    return claims


def _account(ctx: Ctx, mapped: MappedAccount, sub: str) -> User:
    """The account of the asserted identity: checked against the provider (organisation, subject, blocker), created
    or updated from its roles; refused (recorded) otherwise."""
    user = ctx.db.scalar(select(User).where(User.email == mapped.email))
    if user is not None:  # checked before the provider's roles may change the account
        org = ctx.db.get(Organisation, user.organisation_id)
        if org is not None and org.name != mapped.organisation:
            raise _refuse(ctx, user.email, "organisation mismatch", detail=FR["organisation"])
        if user.sso_subject and sub and user.sso_subject != sub:
            raise _refuse(ctx, user.email, "subject mismatch", detail=FR["subject"])
        blocker = login_blocker(user)
        if blocker is not None:
            raise _refuse(ctx, user.email, blocker)
    try:
        if user is None:
            if mapped.territory is None or mapped.rights is None:
                raise _refuse(ctx, mapped.email,
                              f"{mapped.email}: no account on the platform; the admin of {mapped.organisation} must create it",
                              detail=f"vous n'avez pas de compte sur la plateforme : l'administrateur de {mapped.organisation} "
                              "doit le créer.")  # fmt: skip
            user = add_user(
                ctx.db,
                mapped.email,
                organisation=mapped.organisation,
                territory=",".join(mapped.territory.codes()),
                rights=mapped.rights,
                role=mapped.role,
                name=mapped.name,
            )
            ctx.audit("admin_change", email=mapped.email,
                      detail={"action": "account created by SSO", "email": mapped.email})  # fmt: skip
        elif mapped.territory is not None and mapped.rights is not None:
            changes = set_user(
                ctx.db,
                user,
                territory=",".join(mapped.territory.codes()),
                rights=mapped.rights,
                role=mapped.role,
            )
            if changes:
                ctx.audit("admin_change", email=user.email, detail={"action": "account updated by SSO", "email": user.email,
                          "changes": {k: [str(a), str(b)] for k, (a, b) in changes.items()}})  # fmt: skip
    except AccountError as e:
        raise _refuse(ctx, mapped.email, str(e)) from None
    return user


@router.get("/retour", name="sso_callback")
async def sso_callback(ctx: CtxDep) -> Response:
    from .auth import finish_login

    client = _client(ctx)
    # the events of this login are about the identity the provider asserts, not a session this browser still holds
    ctx.user = None
    if login_throttled(ctx.db, None, ctx.ip) is not None:  # refused unchecked; one audit row per address and window
        audit_trail.count_anonymous(ctx.db, "login_failed", ctx.ip, "throttled (address)", str(ctx.request.url.path))
        raise HTTPException(429, detail=FR["throttled"])
    claims = await _provider_claims(ctx, client)
    settings = ctx.request.app.state.settings
    try:
        mapped = map_claims(claims, settings.oidc_client_id or "")
    except ClaimsError as e:
        raw = claims.get("email")
        raise _refuse(ctx, raw if isinstance(raw, str) else "", str(e), detail=e.french) from None
    sub = str(claims.get("sub") or "")
    user = _account(ctx, mapped, sub)
    blocker = login_blocker(user)
    if blocker is not None:
        raise _refuse(ctx, user.email, blocker)
    user.sso_subject = user.sso_subject or sub or None
    if mapped.ignored_roles:  # roles the platform does not know: ignored, and said in the audit trail
        ctx.audit("admin_change", email=user.email,
                  detail={"action": "unknown SSO roles ignored", "roles": list(mapped.ignored_roles)})  # fmt: skip
    return finish_login(ctx, user, "sso", ctx.request.session.pop("next", "/"))
