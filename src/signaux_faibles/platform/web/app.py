"""The platform's web application (FastAPI): pages in French, the REST API under ``/api/``, single sign-on.

``create_app(settings)`` builds it on the platform database (migrated to the latest schema at start-up);
``signaux-faibles serve`` runs it with uvicorn.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from ...config import Settings, get_settings
from .. import db as platform_db
from ..security import SessionPolicy
from .context import CSRF_COOKIE, Ctx, LoginRequired, get_ctx

__all__ = ["create_app", "secret_key"]

HERE = Path(__file__).resolve().parent

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self' https:"
    ),
}


def secret_key(settings: Settings) -> str:
    """The configured key, or one kept in ``DATA_DIR/.secret_key`` (created with mode 600)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / ".secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or get_settings()
    url = platform_db.resolve_url(settings.database_url, Path(settings.data_dir))
    engine = platform_db.get_engine(url)
    if migrate:
        platform_db.upgrade(engine)
    key = secret_key(settings)

    app = FastAPI(
        title="Signaux Faibles",
        description=(
            "API de la plateforme Signaux Faibles. Authentification par jeton personnel "
            "(`Authorization: Bearer …`, délivré par `signaux-faibles users token EMAIL`). "
            "Chaque réponse suit la politique d'accès de la plateforme ; chaque accès est journalisé."
        ),
        version="1",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
        redoc_url=None,
        dependencies=[Depends(_csrf)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = platform_db.sessions(engine)
    app.state.secret_key = key
    app.state.session_policy = SessionPolicy()
    app.state.secure_cookies = settings.production
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.templates.env.auto_reload = False  # packaged templates: no stat() of each file at every render
    app.state.login_throttle = {}
    from .cache import ViewCache

    app.state.view_cache = ViewCache()
    app.add_middleware(
        SessionMiddleware,  # only for the OpenID Connect state and nonce (Authlib)
        secret_key=key,
        session_cookie="sf_oidc",
        max_age=600,
        same_site="lax",
        https_only=settings.production,
    )

    @app.middleware("http")
    async def _headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(exc.where, status_code=303)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path.startswith("/sso/"):
            return await http_exception_handler(request, exc)
        messages = {
            401: "Connexion requise.",
            403: "Accès refusé.",
            404: "Page introuvable.",
            429: "Trop de tentatives.",
        }
        return HTMLResponse(
            app.state.templates.get_template("error.html").render(
                request=request,
                status=exc.status_code,
                title=messages.get(exc.status_code, "Erreur"),
                detail=exc.detail,
            ),
            status_code=exc.status_code,
        )

    static = HERE / "static"
    static.mkdir(exist_ok=True)
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    from . import api, auth, dashboard, listing, pages, sso, work

    app.include_router(auth.router)
    app.include_router(sso.router)
    app.include_router(api.router)
    app.include_router(listing.router)
    app.include_router(dashboard.router)
    app.include_router(pages.router)
    app.include_router(work.router)
    sso.configure(app, settings)
    return app


async def _csrf(ctx: Ctx = Depends(get_ctx)) -> None:  # noqa: B008
    """Every route: no NUL characters in the input, and the CSRF token on state-changing requests."""
    await ctx.check_input()
    await ctx.check_csrf()


def render(ctx: Ctx, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page: the template with the user, the CSRF token and the request; sets the pre-login CSRF cookie."""
    templates: Jinja2Templates = ctx.request.app.state.templates
    ctx.finish()  # the audit events of what the page shows, before it leaves
    token = ctx.csrf_token()
    html = templates.get_template(template).render(
        request=ctx.request, user=ctx.user if ctx.via == "session" else None, csrf_token=token, **context
    )
    response = HTMLResponse(html, status_code=status)
    if ctx.new_csrf_cookie:
        response.set_cookie(
            CSRF_COOKIE,
            ctx.new_csrf_cookie,
            httponly=True,
            samesite="strict",
            secure=ctx.request.app.state.secure_cookies,
        )
    return response


def json(ctx: Ctx, payload: Any, status: int = 200) -> JSONResponse:
    """An API answer, committed with its audit events before it leaves."""
    ctx.finish()
    return JSONResponse(payload, status_code=status)
