"""Issue 18 ("close the leaks"), single sign-on against the real OpenID Connect provider of ``test_sso.py``: refused
callbacks count as failed login attempts of the address (defect 4), and past the limit they are refused unchecked
and audited in one row per address and window (defect 13), whatever the claims the provider sends (defect 6)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_sso import _events, browser, keycloak, platform, provider, sso_login  # noqa: F401 (fixtures)

from signaux_faibles.platform.accounts import THROTTLE
from signaux_faibles.platform.models import LoginAttempt, User

# the provider's grant uses Authlib's deprecated ``get_jwt_config``
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")


def _sub() -> str:
    return uuid.uuid4().hex


def test_refused_callbacks_are_limited_per_address(
    platform: tuple[TestClient, dict[str, int]],  # noqa: F811
    browser: httpx.Client,  # noqa: F811
    provider: str,  # noqa: F811
) -> None:
    """Refused flows (unverified e-mail, malformed roles) and forged callbacks count for the address; past the
    limit, a valid identity is refused too (429, the French page) and nothing is created."""
    client, _ = platform
    email = "dominique.sso@urssaf.fr"
    malformed: list[dict[str, Any]] = [
        keycloak(email, ["21", "score"], email_verified=False),
        {**keycloak(email, []), "resource_access": {"signaux-faibles": ["score", "21"]}},
        {**keycloak(email, []), "resource_access": {"signaux-faibles": {"roles": "score 21"}}},
    ]
    codes = []
    for i in range(THROTTLE.per_address):  # refused flows of the real provider, and forged callbacks
        r = (
            sso_login(client, browser, provider, _sub(), malformed[i % 3])
            if i % 2
            else client.get("/sso/retour", params={"code": "forged", "state": f"forged-{i}"})
        )
        codes.append(r.status_code)
        client.cookies.clear()
    assert set(codes) <= {401, 403}, codes
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert db.scalar(select(func.count()).select_from(LoginAttempt)) == THROTTLE.per_address
    # past the limit, even a valid identity is refused unchecked: no account is created
    for _ in range(3):
        r = sso_login(client, browser, provider, _sub(), keycloak(email, ["21", "score"]))
        assert r.status_code == 429 and "Connexion impossible" in r.text and "trop de tentatives" in r.text
        assert "sf_session" not in r.cookies
        client.cookies.clear()
    for _ in range(10):
        assert client.get("/sso/retour", params={"code": "forged", "state": "forged"}).status_code == 429
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert db.scalar(select(User).where(User.email == email)) is None
    failed = _events(client, "login_failed")
    assert len(failed) == THROTTLE.per_address + 1
    counted = [e.detail for e in failed if e.detail and "count" in e.detail]
    assert counted == [counted[0]] and counted[0]["count"] == 13 and counted[0]["reason"] == "throttled (address)"
