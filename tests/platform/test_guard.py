"""The one access guard: every route calls ``web.guard.ensure_allowed`` (but a short, justified list of public ones),
and an allowed access outside the actor's territory is recorded on every route that grants one."""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import secrets
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from signaux_faibles.platform.accounts import sha256
from signaux_faibles.platform.models import AuditEvent, User, WebSession

#: The routes that do not call the guard, each with why.
PUBLIC = {
    # liveness for operators and load balancers: no data, no authentication
    "/sante",
    # the login form and its second factor: they run before there is an actor to guard
    "/connexion",
    "/connexion/code",
    # the confidentiality notice: shown before it is accepted (the guard would send the user back to it)
    "/avis",
    # logging out ends whatever session the browser holds, even a half-open one
    "/deconnexion",
    # single sign-on: the identity provider's way in and back, before there is an actor
    "/sso/connexion",
    "/sso/retour",
    # the API's description (OpenAPI, Swagger UI): public, no data
    "/api/openapi.json",
    "/api/docs",
}
GUARD = "ensure_allowed"


def _flat(routes: Any) -> list[Any]:
    out = []
    for r in routes:
        out += _flat(r.effective_candidates()) if hasattr(r, "effective_candidates") else [r]
    return out


def _calls_guard(fn: Callable[..., Any], depth: int = 3) -> bool:
    """``fn`` calls the guard, itself or through a helper of the web package (``depth`` calls down)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    helpers = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name == GUARD:
            return True
        helper = fn.__globals__.get(name) if isinstance(node.func, ast.Name) else None
        if inspect.isfunction(helper) and helper.__module__.startswith("signaux_faibles.platform.web"):
            helpers.append(helper)
    return depth > 0 and any(_calls_guard(h, depth - 1) for h in helpers)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_route_calls_the_guard(web_app: Any) -> None:
    routes = [r for r in _flat(web_app.routes) if getattr(r, "endpoint", None) is not None]
    assert len(routes) > 40
    unguarded = sorted({r.path for r in routes if r.path not in PUBLIC and not _calls_guard(r.endpoint)})
    assert unguarded == [], f"routes that do not call {GUARD} (call it, or justify them in PUBLIC)"
    assert {r.path for r in routes} >= PUBLIC, "rows of PUBLIC that are no longer routes"


def _client(app: Any, user_id: int) -> tuple[TestClient, str]:
    client = TestClient(app)
    token, csrf = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    now = dt.datetime.now(dt.UTC)
    with app.state.sessions() as db:
        db.add(WebSession(token_hash=sha256(token), user_id=user_id, stage="ok", method="password",
                          csrf_token=csrf, created_at=now, last_seen_at=now))  # fmt: skip
        db.get(User, user_id).notice_accepted_at = now
        db.commit()
    client.cookies.set("sf_session", token)
    return client, csrf


def _out_of_territory(app: Any, user_id: int, siren: str) -> int:
    with app.state.sessions() as db:
        q = select(func.count()).where(
            AuditEvent.user_id == user_id, AuditEvent.event == "out_of_territory", AuditEvent.siren == siren
        )
        return int(db.scalar(q) or 0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_following_outside_the_territory_is_recorded(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """Following a followed company outside the territory was allowed without a record; the guard records it."""
    agent_a = seeded[1]["agent_a"]
    siren = "444444444"  # in the 75, followed by agent A (territory 21)
    client, csrf = _client(web_app, agent_a)
    before = _out_of_territory(web_app, agent_a, siren)
    r = client.put(f"/api/companies/{siren}/follow", json={"category": "Veille"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    r = client.post(f"/entreprises/{siren}/suivre", data={"category": "Veille", "csrf_token": csrf},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    assert _out_of_territory(web_app, agent_a, siren) == before + 2
    with web_app.state.sessions() as db:
        last = db.scalars(
            select(AuditEvent).where(AuditEvent.event == "out_of_territory").order_by(AuditEvent.id.desc())
        ).first()
    assert last is not None and last.detail == {"action": "follow", "territory": ["21"]}
