"""How a route answers: an HTML page from a template (``render``) or an API answer (``json``).

Both commit the request's work and its audit events before the answer leaves (``Ctx.finish``).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from .context import CSRF_COOKIE, Ctx

__all__ = ["json", "render"]


def render(ctx: Ctx, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page: the template with the user, the CSRF token and the request; sets the pre-login CSRF cookie."""
    templates: Jinja2Templates = ctx.request.app.state.templates
    ctx.finish()  # the audit events of what the page shows, before it leaves
    token = ctx.csrf_token()
    context.setdefault("actor", ctx.actor)  # who asks: territory, rights (what a page explains)
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
