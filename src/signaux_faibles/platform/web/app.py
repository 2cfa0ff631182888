"""The platform's web application (FastAPI): pages in French, the REST API under ``/api/``, single sign-on.

``create_app(settings)`` builds it on the platform database (migrated to the latest schema at start-up);
``signaux-faibles serve`` runs it with uvicorn.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from ...config import Settings, get_settings
from ..security import SessionPolicy
from ..store import db as platform_db
from .context import LoginRequired, page_user
from .deps import check_request

__all__ = ["create_app", "secret_key"]

HERE = Path(__file__).resolve().parent

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    # scripts only from the platform's own files (no inline script, no outside asset); forms post to it only
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
}
#: HTTPS only for two years, sent in production (``SF_PRODUCTION=true``), where the platform is served over TLS.
HSTS = "max-age=63072000; includeSubDomains"
#: Swagger UI's files, shipped by the ``swagger-ui-bundle-v2`` package (served by the platform: no CDN).
SWAGGER_UI = Path(swagger_ui_bundle.swagger_ui_path)


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
    if migrate:
        from ..accounts import seal_totp_secrets

        seal_totp_secrets(engine, key)  # secrets stored in clear by an earlier version: sealed once

    app = FastAPI(
        title="Signaux Faibles",
        description=(
            "API de la plateforme Signaux Faibles. Authentification par jeton personnel "
            "(`Authorization: Bearer …`, délivré par `signaux-faibles users token EMAIL`). "
            "Chaque réponse suit la politique d'accès de la plateforme ; chaque accès est journalisé."
        ),
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served below from the packaged Swagger UI, under the platform's CSP
        swagger_ui_oauth2_redirect_url=None,
        redoc_url=None,
        dependencies=[Depends(check_request)],
    )
    from . import sso

    _state(app, settings, engine, key)
    _middleware(app, settings, key)
    _error_pages(app, settings)
    _static_and_docs(app)
    _routers(app)
    sso.configure(app, settings)
    return app


def _state(app: FastAPI, settings: Settings, engine: Any, key: str) -> None:
    """What the routes find on ``app.state``: settings, database, key, session policy, templates, view cache."""
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = platform_db.sessions(engine)
    app.state.secret_key = key
    app.state.session_policy = SessionPolicy()
    app.state.secure_cookies = settings.production
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.templates.env.auto_reload = False  # packaged templates: no stat() of each file at every render
    from .formats import FILTERS

    app.state.templates.env.filters.update(FILTERS)
    from .cache import ViewCache

    app.state.view_cache = ViewCache()


def _middleware(app: FastAPI, settings: Settings, key: str) -> None:
    """The OpenID Connect session cookie, and the security headers of every answer."""
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
        if response.status_code == 405:  # Starlette names the methods of the first route of the path only
            response.headers["Allow"] = ", ".join(_methods_of(app, request))
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if settings.production:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.url.path.startswith(("/static/", "/api/docs/assets/")):
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response


#: The title of a French error page, by status.
ERROR_TITLES = {
    400: "Demande invalide",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    413: "Fichier trop volumineux",
    422: "Adresse invalide",
    429: "Trop de tentatives",
    500: "Erreur interne",
    502: "Service indisponible",
}
#: What a page says when the refusal gives no reason of its own.
ERROR_TEXTS = {
    404: "La page demandée n'existe pas, ou plus. Vérifiez l'adresse, ou repartez de l'accueil.",
    405: "Cette adresse ne répond pas à cette méthode.",
    422: "Un paramètre de l'adresse n'a pas la forme attendue.",
    500: "La plateforme a rencontré une erreur. Elle est enregistrée ; réessayez dans un instant.",
}
#: The parameters an agent may mistype, named for a page.
FIELD_NAMES = {
    "siren": "le SIREN (9 chiffres)",
    "siret": "le SIRET (14 chiffres)",
    "list_id": "le numéro de la liste",
    "page": "le numéro de page",
}
#: Starlette's own English details (unknown route, wrong method), replaced on the pages by ``ERROR_TEXTS``.
STARLETTE_DETAILS = frozenset({"Not Found", "Method Not Allowed", "Internal Server Error"})


def wants_json(request: Request) -> bool:
    """An API request (``/api/…``, the API docs page aside) or one that asks for JSON and not for HTML."""
    path = request.url.path
    if path.startswith("/api/") and path != "/api/docs":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_page(request: Request, status: int, detail: Any = None, **extra: Any) -> HTMLResponse:
    """A French error page, its header naming the logged-in user (``context.page_user``)."""
    from .guard import in_french

    user, csrf = page_user(request)
    text = ERROR_TEXTS.get(status, "") if detail is None or detail in STARLETTE_DETAILS else in_french(detail)
    html = request.app.state.templates.get_template("error.html").render(
        request=request,
        user=user,
        csrf_token=csrf,
        status=status,
        title=ERROR_TITLES.get(status, "Erreur"),
        detail=text,
        **extra,
    )
    return HTMLResponse(html, status_code=status)


def _invalid_fields(exc: RequestValidationError) -> list[str]:
    """The parameters a request got wrong, named for a page (« siren (chemin) »)."""
    where = {"path": "adresse", "query": "paramètre", "body": "formulaire", "header": "en-tête", "cookie": "cookie"}
    out = []
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ())]
        if loc:
            name = ".".join(loc[1:]) or loc[0]
            out.append(FIELD_NAMES.get(name, f"{where.get(loc[0], loc[0])} « {name} »"))
    return sorted(set(out))


def _error_pages(app: FastAPI, settings: Settings) -> None:
    """A login redirect; the API's errors in JSON; French error pages elsewhere (the SSO's: back to the login)."""

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(exc.where, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_json(request):
            return await http_exception_handler(request, exc)
        if request.url.path.startswith("/sso/"):  # a refused single sign-on: a French page back to the login
            return HTMLResponse(
                app.state.templates.get_template("sso_error.html").render(
                    request=request, label=settings.oidc_label, detail=exc.detail, status=exc.status_code
                ),
                status_code=exc.status_code,
            )
        response = error_page(request, exc.status_code, exc.detail)
        for k, v in (exc.headers or {}).items():
            response.headers.setdefault(k, v)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if wants_json(request):
            return await request_validation_exception_handler(request, exc)
        return error_page(request, 422, None, fields=_invalid_fields(exc))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        response: Response = (
            JSONResponse({"detail": "internal server error"}, status_code=500)
            if wants_json(request)
            else error_page(request, 500)
        )
        response.headers.update(SECURITY_HEADERS)  # outside the headers middleware (Starlette's error middleware)
        return response


def _static_and_docs(app: FastAPI) -> None:
    """The platform's static files, and the API documentation from the packaged Swagger UI."""
    static = HERE / "static"
    static.mkdir(exist_ok=True)
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.mount("/api/docs/assets", StaticFiles(directory=str(SWAGGER_UI)), name="swagger-ui")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """The API documentation (Swagger UI) from the package's own files; started by ``static/api-docs.js``."""
        return HTMLResponse(API_DOCS_PAGE)


def _routers(app: FastAPI) -> None:
    from . import api, api_work, auth, changes, dashboard, listing, operations, pages, portfolio, sso, work

    app.include_router(auth.router)
    app.include_router(sso.router)
    app.include_router(api.router)
    app.include_router(api_work.router)
    app.include_router(listing.router)
    app.include_router(changes.router)
    app.include_router(operations.router)
    app.include_router(dashboard.router)
    app.include_router(pages.router)
    app.include_router(work.router)
    app.include_router(portfolio.router)


def _flat(routes: Any) -> list[Any]:
    """The routes, included routers flattened (FastAPI keeps each as an ``_IncludedRouter``)."""
    out = []
    for r in routes:
        out += _flat(r.effective_candidates()) if hasattr(r, "effective_candidates") else [r]
    return out


def _methods_of(app: FastAPI, request: Request) -> list[str]:
    """Every method that some route of the application answers on ``request``'s path (HEAD with GET)."""
    from starlette.routing import Match

    methods: set[str] = set()
    scope = {**request.scope, "method": "GET"}
    for route in _flat(app.router.routes):
        match, _ = route.matches(scope)
        if match is not Match.NONE and getattr(route, "methods", None):
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


API_DOCS_PAGE = """<!doctype html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <title>Signaux Faibles — documentation de l'API</title>
  <link rel="icon" href="/static/dsfr/favicon/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-url="/api/openapi.json"></div>
  <script src="/api/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""
