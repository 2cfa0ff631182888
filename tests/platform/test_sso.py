"""Single sign-on (``/sso/connexion``, ``/sso/retour``) against a real OpenID Connect provider.

The provider is ``oidc-provider-mock`` (Authlib's authorization server on werkzeug) listening on a free local port
in a thread. The test plays the browser by hand: ``/sso/connexion`` on the application (FastAPI ``TestClient``,
which keeps the ``sf_oidc`` state cookie), the provider's authorization form (real HTTP: the claims of the chosen
subject are set beforehand with ``PUT /users/<sub>``, then the form is posted with that ``sub``), and back to
``/sso/retour``, where the application exchanges the code with the provider server to server and checks the ID
token. Every login test runs on SQLite and on PostgreSQL (see ``conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import socket
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from seed import SEED_USERS, seed_platform
from sqlalchemy import select

from signaux_faibles.config import Settings
from signaux_faibles.platform.models import AuditEvent, User, WebSession
from signaux_faibles.platform.web import create_app

with warnings.catch_warnings():  # the provider imports Authlib's deprecated ``authlib.jose``
    from authlib.deprecate import AuthlibDeprecationWarning  # (its import puts an "always" filter first)

    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    import oidc_provider_mock

# the provider's grant uses Authlib's deprecated ``get_jwt_config``
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")

CLIENT_ID = "signaux-faibles"
CALLBACK = "http://testserver/sso/retour"


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A running OpenID Connect provider (any client id, secret and redirect URI accepted): its issuer URL."""
    with oidc_provider_mock.run_server_in_thread(port=0) as server:
        port = server.server_port
        assert _port_open(port)
        yield f"http://127.0.0.1:{port}"
    assert not _port_open(port), "the provider still listens after the fixture"


@pytest.fixture(scope="module")
def expired_provider() -> Iterator[str]:
    """A provider issuing ID tokens already expired (beyond Authlib's 2 minutes of leeway)."""
    with oidc_provider_mock.run_server_in_thread(
        port=0, access_token_max_age=dt.timedelta(minutes=-10)
    ) as server:
        port = server.server_port
        yield f"http://127.0.0.1:{port}"
    assert not _port_open(port)


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """The browser's side towards the provider (real HTTP)."""
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


def _app(db_url: str, tmp_path: Path, issuer: str | None) -> Any:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        secret_key="test-secret-key",
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID if issuer else None,
        oidc_client_secret="client-secret" if issuer else None,
    )
    return create_app(settings)


@pytest.fixture
def platform(db_url: str, tmp_path: Path, provider: str) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """``(client of the application with SSO on the provider, seeded user ids)``."""
    ids = seed_platform(db_url)
    app = _app(db_url, tmp_path, provider)
    with TestClient(app) as client:
        yield client, ids
    app.state.engine.dispose()


def keycloak(email: str, roles: list[str], **extra: Any) -> dict[str, Any]:
    """Keycloak-style claims: the zone and data roles of the platform's client."""
    return {"email": email, "email_verified": True, "name": "Camille Test",
            "resource_access": {CLIENT_ID: {"roles": roles}, "account": {"roles": ["view-profile"]}}, **extra}  # fmt: skip


def proconnect(email: str, **extra: Any) -> dict[str, Any]:
    """ProConnect-style claims: identity only."""
    return {"email": email, "email_verified": True, "given_name": "Camille", "usual_name": "Test", **extra}


def authorize(client: TestClient, browser: httpx.Client, issuer: str, sub: str, claims: dict[str, Any],
              next_url: str = "/") -> str:  # fmt: skip
    """The browser's trip to the provider: the URL it is sent back to (``/sso/retour?code=…&state=…``)."""
    browser.put(f"{issuer}/users/{sub}", json=claims).raise_for_status()
    r = client.get("/sso/connexion", params={"next": next_url}, follow_redirects=False)
    assert r.status_code == 302, r.text
    assert "sf_oidc" in client.cookies
    url = r.headers["location"]
    assert url.startswith(f"{issuer}/oauth2/authorize?")
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert query["state"] and query["nonce"]
    form = browser.get(url)
    assert form.status_code == 200 and 'name="sub"' in form.text
    back = browser.post(url, data={"sub": sub}, follow_redirects=False)
    assert back.status_code == 302, back.text
    location = back.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return str(location)


def sso_login(client: TestClient, browser: httpx.Client, issuer: str, sub: str, claims: dict[str, Any],
              next_url: str = "/") -> httpx.Response:  # fmt: skip
    """A whole SSO login: the application's answer to ``/sso/retour``."""
    return client.get(authorize(client, browser, issuer, sub, claims, next_url), follow_redirects=False)


def _db(client: TestClient) -> Any:
    return client.app.state.sessions()  # type: ignore[attr-defined]


def _user(client: TestClient, email: str) -> User | None:
    with _db(client) as db:
        user: User | None = db.scalar(select(User).where(User.email == email))
        return user


def _events(client: TestClient, event: str | None = None) -> list[AuditEvent]:
    with _db(client) as db:
        q = select(AuditEvent).order_by(AuditEvent.id)
        if event is not None:
            q = q.where(AuditEvent.event == event)
        return list(db.scalars(q))


def _sessions(client: TestClient, user_id: int) -> list[WebSession]:
    with _db(client) as db:
        return list(db.scalars(select(WebSession).where(WebSession.user_id == user_id)))


def _set(client: TestClient, email: str, **values: Any) -> None:
    with _db(client) as db:
        user = db.scalar(select(User).where(User.email == email))
        for k, v in values.items():
            setattr(user, k, v)
        db.commit()


def _snapshot(client: TestClient, email: str) -> tuple[Any, ...]:
    user = _user(client, email)
    assert user is not None
    return (user.territory, user.rights, user.role, user.sso_subject, user.name, user.active)


def assert_logged_in(r: httpx.Response, client: TestClient, email: str, where: str = "/avis") -> User:
    assert r.status_code == 303, r.text
    assert r.headers["location"] == where
    assert "sf_session" in r.cookies
    user = _user(client, email)
    assert user is not None and user.last_login_at is not None
    live = [s for s in _sessions(client, user.id) if s.revoked_at is None]
    assert [(s.method, s.stage) for s in live] == [("sso", "ok")]
    login = _events(client, "login")[-1]
    assert (login.user_id, login.email, login.detail) == (user.id, email, {"method": "sso"})
    assert login.path == "/sso/retour"
    return user


def assert_refused(r: httpx.Response, client: TestClient, email: str, status: int = 403) -> AuditEvent:
    assert r.status_code == status, r.text
    assert "sf_session" not in r.cookies
    assert "sf_session" not in client.cookies
    assert not _events(client, "login")
    failed = _events(client, "login_failed")[-1]
    assert failed.email == email
    assert failed.detail is not None and failed.detail["method"] == "sso"
    return failed


def _sub() -> str:
    return f"sub-{uuid.uuid4().hex[:12]}"


# ------------------------------------------------------------------------------------------------------ tests


def test_sso_not_configured_or_unreachable(tmp_path: Path) -> None:
    """Without an issuer the SSO routes do not exist; with an issuer nobody answers at, a gateway error."""
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    app = _app(url, tmp_path, None)
    try:
        with TestClient(app) as client:
            assert (
                client.get("/sso/connexion", params={"next": "/"}, follow_redirects=False).status_code == 404
            )
            assert client.get("/sso/retour", params={"code": "x", "state": "y"}).status_code == 404
    finally:
        app.state.engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = _app(url, tmp_path, f"http://127.0.0.1:{port}")
    try:
        with TestClient(app) as client:
            r = client.get("/sso/connexion", follow_redirects=False)
            assert r.status_code == 502, r.text
            assert "sf_session" not in client.cookies
    finally:
        app.state.engine.dispose()


def test_keycloak_creates_then_updates_the_account(
    platform: tuple[TestClient, dict[str, int]], browser: httpx.Client, provider: str
) -> None:
    client, _ = platform
    email, sub = "nouvel.agent@urssaf.fr", _sub()
    assert _user(client, email) is None

    # (1) first login: the account is created from the roles
    r = sso_login(client, browser, provider, sub, keycloak(email, ["21", "score", "urssaf"]))
    user = assert_logged_in(r, client, email)
    assert (user.territory, user.rights, user.role) == ("21", "score,urssaf", "agent")
    assert (user.name, user.sso_subject, user.password_hash, user.active) == ("Camille Test", sub, None, True)
    created = [e for e in _events(client, "admin_change") if e.detail and e.detail.get("email") == email]
    assert [e.detail["action"] for e in created if e.detail] == ["account created by SSO"]
    first_cookie = r.cookies["sf_session"]
    # the notice page is served to the new session
    assert client.get("/avis", follow_redirects=False).status_code == 200

    # (2) the roles changed at the provider: the account follows at the next login
    r = sso_login(client, browser, provider, sub, keycloak(email, ["R27", "score"]))
    user = assert_logged_in(r, client, email)
    assert (user.territory, user.rights, user.role) == ("R27", "score", "agent")
    assert r.cookies["sf_session"] != first_cookie  # a new session, the previous one revoked
    assert len(_sessions(client, user.id)) == 2
    updates = [
        e.detail for e in _events(client, "admin_change") if e.detail and e.detail.get("email") == email
    ]
    assert [d["action"] for d in updates] == ["account created by SSO", "account updated by SSO"]
    assert updates[1]["changes"]["territory"] == ["21", "R27"]
    assert updates[1]["changes"]["rights"] == ["score,urssaf", "score"]

    # an org-admin role given by the provider
    r = sso_login(client, browser, provider, sub, keycloak(email, ["R27", "score", "org-admin"]))
    assert assert_logged_in(r, client, email).role == "org-admin"


def test_proconnect_existing_account(
    platform: tuple[TestClient, dict[str, int]], browser: httpx.Client, provider: str
) -> None:
    client, ids = platform
    email, _org, territory, rights, role = SEED_USERS["agent_a"]
    before = _snapshot(client, email)
    admin_changes = len(_events(client, "admin_change"))

    # (3) no roles: the account keeps its territory and rights; bound to the subject at first SSO login
    sub = _sub()
    r = sso_login(
        client, browser, provider, sub, proconnect(email.upper()), next_url="/entreprises/111111111"
    )
    user = assert_logged_in(r, client, email)
    assert user.id == ids["agent_a"]
    assert (user.territory, user.rights, user.role) == (territory, ",".join(sorted(rights.split(","))), role)
    assert user.password_hash is not None  # the local login stays possible
    assert user.sso_subject == sub
    assert _snapshot(client, email)[:3] == before[:3]
    assert len(_events(client, "admin_change")) == admin_changes

    # notice accepted: straight to the page asked for; never to another site
    _set(client, email, notice_accepted_at=dt.datetime.now(dt.UTC))
    r = sso_login(client, browser, provider, sub, proconnect(email), next_url="/entreprises/111111111")
    assert_logged_in(r, client, email, where="/entreprises/111111111")
    r = sso_login(client, browser, provider, sub, proconnect(email), next_url="https://evil.example/")
    assert_logged_in(r, client, email, where="/")
    me = client.get("/api/me")
    assert me.status_code == 200, me.text
    assert me.json()["email"] == email


def test_unknown_identities_refused(
    platform: tuple[TestClient, dict[str, int]], browser: httpx.Client, provider: str
) -> None:
    client, _ = platform
    # (4) a partner's domain, but no account prepared
    email = "inconnu@urssaf.fr"
    r = sso_login(client, browser, provider, _sub(), proconnect(email))
    failed = assert_refused(r, client, email)
    assert failed.detail is not None and "no account" in failed.detail["reason"]
    assert _user(client, email) is None

    # (5) a domain of no partner: refused whatever the roles
    for claims in (proconnect("x@example.org"), keycloak("x@example.org", ["21", "score"])):
        r = sso_login(client, browser, provider, _sub(), claims)
        failed = assert_refused(r, client, "x@example.org")
        assert failed.detail is not None and "organisation" in failed.detail["reason"]
    assert _user(client, "x@example.org") is None
    # an address the provider does not vouch for, and no address at all
    r = sso_login(client, browser, provider, _sub(), keycloak("y@urssaf.fr", ["21"], email_verified=False))
    assert_refused(r, client, "y@urssaf.fr")
    r = sso_login(client, browser, provider, _sub(), {"name": "Sans Adresse"})
    assert_refused(r, client, "")
    assert _user(client, "y@urssaf.fr") is None


def test_existing_account_guarded(
    platform: tuple[TestClient, dict[str, int]], browser: httpx.Client, provider: str
) -> None:
    client, _ = platform
    email = SEED_USERS["agent_a"][0]

    # (6) a disabled account: refused, and the provider's roles do not touch it
    _set(client, email, active=False)
    before = _snapshot(client, email)
    r = sso_login(client, browser, provider, _sub(), proconnect(email))
    failed = assert_refused(r, client, email)
    assert failed.detail == {"reason": "Ce compte est désactivé.", "method": "sso"}
    r = sso_login(client, browser, provider, _sub(), keycloak(email, ["FR", "score"]))
    assert_refused(r, client, email)
    assert _snapshot(client, email) == before
    assert not [e for e in _events(client, "admin_change") if e.detail and e.detail.get("email") == email]

    # enabled again: the first SSO login binds the account to the provider's subject
    _set(client, email, active=True)
    sub = _sub()
    assert_logged_in(sso_login(client, browser, provider, sub, proconnect(email)), client, email)
    before = _snapshot(client, email)
    assert before[3] == sub
    client.cookies.clear()
    n_login = len(_events(client, "login"))
    # another subject with the same address: refused, the account untouched
    r = sso_login(client, browser, provider, _sub(), keycloak(email, ["FR", "score"]))
    assert r.status_code == 403 and "sf_session" not in r.cookies
    assert _events(client, "login_failed")[-1].detail == {"reason": "subject mismatch", "method": "sso"}
    # the provider says another organisation: refused, the account untouched
    r = sso_login(client, browser, provider, sub, keycloak(email, ["FR", "score"], organisation="DGEFP"))
    assert r.status_code == 403 and "sf_session" not in r.cookies
    reason = _events(client, "login_failed")[-1].detail
    assert reason is not None and reason["reason"].startswith("organisation mismatch")
    assert _snapshot(client, email) == before
    assert len(_events(client, "login")) == n_login
    assert not [e for e in _events(client, "admin_change") if e.detail and e.detail.get("email") == email]


def test_tampered_callback_refused(
    platform: tuple[TestClient, dict[str, int]], browser: httpx.Client, provider: str
) -> None:
    client, _ = platform
    email = SEED_USERS["agent_a"][0]

    def refused(r: httpx.Response) -> str:
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        assert "sf_session" not in r.cookies and "sf_session" not in client.cookies
        failed = _events(client, "login_failed")[-1]
        assert failed.detail is not None and failed.detail["method"] == "sso"
        return str(failed.detail["reason"])

    # (7) no flow started (no state in the session), bogus or missing code and state
    assert "mismatching_state" in refused(
        client.get("/sso/retour", params={"code": "bogus", "state": "bogus"})
    )
    assert "mismatching_state" in refused(client.get("/sso/retour"))

    def tamper(url: str, **params: str) -> str:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query)) | params
        return urlunsplit(parts._replace(query=urlencode(query)))

    # a real flow, whose state is altered
    url = authorize(client, browser, provider, _sub(), proconnect(email))
    assert "mismatching_state" in refused(client.get(tamper(url, state="forged"), follow_redirects=False))
    # a real flow, whose code is altered: the provider refuses the exchange
    url = authorize(client, browser, provider, _sub(), proconnect(email))
    assert "invalid_grant" in refused(client.get(tamper(url, code="forged"), follow_redirects=False))
    # the same callback replayed: its state was used up
    url = authorize(client, browser, provider, _sub(), proconnect(email))
    assert client.get(url, follow_redirects=False).status_code == 303
    client.cookies.delete("sf_session")
    assert "mismatching_state" in refused(client.get(url, follow_redirects=False))
    # the person refuses at the provider
    r = client.get("/sso/connexion", follow_redirects=False)
    denied = browser.post(r.headers["location"], data={"action": "deny"}, follow_redirects=False)
    assert denied.headers["location"].startswith(CALLBACK + "?")
    assert "access_denied" in refused(client.get(denied.headers["location"], follow_redirects=False))
    assert len(_events(client, "login")) == 1


def test_invalid_id_token_refused(
    db_url: str, tmp_path: Path, browser: httpx.Client, expired_provider: str
) -> None:
    """An ID token that does not validate (here: expired) is a refused login, not a server error."""
    seed_platform(db_url)
    app = _app(db_url, tmp_path, expired_provider)
    try:
        with TestClient(app) as client:
            email = SEED_USERS["agent_a"][0]
            r = sso_login(client, browser, expired_provider, _sub(), proconnect(email))
            assert r.status_code == 401, r.text
            assert "sf_session" not in client.cookies
            failed = _events(client, "login_failed")[-1]
            assert failed.detail == {"reason": "OIDC: expired_token", "method": "sso"}
            user = _user(client, email)
            assert user is not None and user.sso_subject is None
    finally:
        app.state.engine.dispose()


def test_unexpected_or_malformed_claims(
    platform: tuple[TestClient, dict[str, int]], browser: httpx.Client, provider: str
) -> None:
    """Issue 18, defect 6: unknown roles are ignored and audited; malformed claims give the French error page and
    an audited ``login_failed``, never a server error."""
    client, _ = platform
    email = "camille.roles@urssaf.fr"
    r = sso_login(client, browser, provider, _sub(), keycloak(email, ["21", "score", "uma_protection", "offline_access"]))
    user = assert_logged_in(r, client, email)
    assert user.territory == "21" and user.rights == "score"
    ignored = [e.detail for e in _events(client, "admin_change") if e.detail and e.detail.get("action") == "unknown SSO roles ignored"]
    assert ignored == [{"action": "unknown SSO roles ignored", "roles": ["offline_access", "uma_protection"]}]
    client.cookies.clear()
    for claims in (
        {**keycloak(email, []), "resource_access": {CLIENT_ID: {"roles": "score urssaf"}}},
        {**keycloak(email, []), "resource_access": {CLIENT_ID: ["score", "21"]}},
        {**keycloak(email, []), "resource_access": [CLIENT_ID]},
        keycloak(email, ["21", "score"], email_verified=False),
        {k: v for k, v in keycloak(email, ["21", "score"]).items() if k != "email_verified"},
    ):
        n = len(_events(client, "login_failed"))
        r = sso_login(client, browser, provider, _sub(), claims)
        assert r.status_code == 403, (claims, r.status_code)
        assert "text/html" in r.headers["content-type"] and "Connexion impossible" in r.text
        assert "La connexion par" in r.text and "sf_session" not in r.cookies
        assert len(_events(client, "login_failed")) == n + 1
        client.cookies.clear()
