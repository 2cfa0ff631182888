"""Issue 18 ("close the leaks"), web defects: self-review, security headers, API docs assets, ``Allow``, list
counts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_web_matrix import _login

from signaux_faibles.config import Settings
from signaux_faibles.platform.models import Score, User
from signaux_faibles.platform.web import create_app


def test_org_admin_cannot_confirm_their_own_review(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """Defect 8: the review is another person's word."""
    ids = seeded[1]
    client, csrf = _login(web_app, "org_admin", ids)
    with web_app.state.sessions() as db:
        before = db.scalar(select(User.reviewed_at).where(User.id == ids["org_admin"]))
    r = client.post(f"/admin/utilisateurs/{ids['org_admin']}/confirmer", data={"csrf_token": csrf or ""},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 403
    with web_app.state.sessions() as db:
        assert db.scalar(select(User.reviewed_at).where(User.id == ids["org_admin"])) == before
        assert db.scalar(select(User.reviewed_by).where(User.id == ids["org_admin"])) != ids["org_admin"]
    # another agent of the organisation: still confirmed
    r = client.post(f"/admin/utilisateurs/{ids['agent_a']}/confirmer", data={"csrf_token": csrf or ""},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303


def _csp(headers: Any) -> dict[str, str]:
    return {d.split()[0]: d for d in (p.strip() for p in headers["content-security-policy"].split(";")) if d}


@pytest.mark.parametrize("production", [False, True])
def test_security_headers(tmp_path: Path, production: bool) -> None:
    """Defect 10: no inline script allowed, forms post to the platform only, HSTS in production."""
    app = create_app(Settings(data_dir=tmp_path, secret_key="test-secret-key", production=production))
    client = TestClient(app, base_url="https://testserver")
    for path in ("/connexion", "/api/openapi.json", "/api/docs", "/sante"):
        r = client.get(path)
        csp = _csp(r.headers)
        assert "'unsafe-inline'" not in csp["script-src"] and csp["script-src"] == "script-src 'self'"
        assert csp["form-action"] == "form-action 'self'"
        assert ("strict-transport-security" in r.headers) == production
        if production:
            assert "max-age=" in r.headers["strict-transport-security"]
    app.state.engine.dispose()


def test_pages_have_no_inline_script() -> None:
    """The CSP allows no inline script: no template may carry one (nor an inline event handler)."""
    templates = Path(__file__).parents[2] / "src" / "signaux_faibles" / "platform" / "web" / "templates"
    for t in templates.glob("*.html"):
        text = t.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), t.name
        assert not re.search(r"\son[a-z]+\s*=\s*\"", text), t.name


def test_api_docs_assets_are_served_by_the_platform(tmp_path: Path) -> None:
    """Defect 10: the docs page names no outside asset, and each of its assets is served (no CDN)."""
    app = create_app(Settings(data_dir=tmp_path, secret_key="test-secret-key"))
    client = TestClient(app)
    html = client.get("/api/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    for a in assets:
        assert client.get(a).status_code == 200, a
    assert client.get("/api/openapi.json").json()["paths"]
    app.state.engine.dispose()


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("POST", "/api/companies/123456789/follow", {"PUT", "DELETE"}),
        ("PATCH", "/api/lists", {"GET", "HEAD"}),
        ("DELETE", "/entreprises/123456789/suivre", {"POST"}),
    ],
)
def test_allow_lists_every_method(tmp_path: Path, method: str, path: str, allow: set[str]) -> None:
    """Defect 15: a 405 names every method of the path, not those of its first route only."""
    app = create_app(Settings(data_dir=tmp_path, secret_key="test-secret-key"))
    r = TestClient(app).request(method, path)
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["allow"].split(",")} == allow
    app.state.engine.dispose()


def test_list_counts_are_numbers_with_the_score_right(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """Defect 15: a list without a visible alert counts 0 for a score-right agent; no count without the right."""
    ids = seeded[1]
    with web_app.state.sessions() as db:  # no alert visible to agent B anymore
        for s in db.scalars(select(Score)):
            s.alert = "Pas d'alerte"
        db.commit()
    client, _ = _login(web_app, "agent_b", ids)
    (li,) = client.get("/api/lists").json()
    assert (li["nb_f1"], li["nb_f2"], li["total"]) == (0, 0, 0)
    client, _ = _login(web_app, "no_rights", ids)
    (li,) = client.get("/api/lists").json()
    assert (li["nb_f1"], li["nb_f2"], li["total"]) == (None, None, None)
