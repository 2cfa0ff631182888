"""Login with password and TOTP, lockout and throttling, sessions (renewal, cookie flags, timeouts, logout
everywhere), the confidentiality notice, expiry and habilitation review, API tokens. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pyotp
from fastapi.testclient import TestClient
from seed import SEED_PASSWORD, SEED_USERS
from sqlalchemy import select, update

from signaux_faibles.platform.accounts import issue_token
from signaux_faibles.platform.models import ApiToken, AuditEvent, User, WebSession

EMAIL = SEED_USERS["agent_a"][0]


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def _password_step(client: TestClient, email: str = EMAIL, password: str = SEED_PASSWORD) -> Any:
    token = _csrf(client.get("/connexion").text)
    return client.post("/connexion", data={"email": email, "password": password, "csrf_token": token, "next": "/listes"},
                       follow_redirects=False)  # fmt: skip


def _login(client: TestClient, secret: str | None = None, at: dt.datetime | None = None) -> tuple[Any, str]:
    """Password then code (enrolling the secret shown at first login); returns the answer and the secret."""
    r = _password_step(client)
    assert r.status_code == 303 and r.headers["location"] == "/connexion/code"
    page = client.get("/connexion/code").text
    if secret is None:
        m = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
        assert m, "first login shows the TOTP secret to enrol"
        secret = m.group(1)
    code = pyotp.TOTP(secret).at(at or dt.datetime.now(dt.UTC))
    r = client.post("/connexion/code", data={"code": code, "csrf_token": _csrf(page)}, follow_redirects=False)
    return r, secret


def _accept_notice(client: TestClient) -> Any:
    return client.post("/avis", data={"accept": "oui", "csrf_token": _csrf(client.get("/avis").text)},
                       follow_redirects=False)  # fmt: skip


def _events(app: Any, event: str) -> list[AuditEvent]:
    with app.state.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.event == event)))


def test_login_with_totp_notice_and_session_renewal(web_app: Any) -> None:
    client = TestClient(web_app)
    # nothing without a login
    assert client.get("/listes", follow_redirects=False).headers["location"].startswith("/connexion")
    r = _password_step(client)
    partial = client.cookies.get("sf_session")
    assert partial
    # the password alone opens nothing
    assert client.get("/listes", follow_redirects=False).headers["location"].startswith("/connexion")
    r, secret = _login(client)
    assert r.status_code == 303 and r.headers["location"] == "/avis"  # first login: the notice
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    full = client.cookies.get("sf_session")
    assert full and full != partial  # the session is renewed at login
    with web_app.state.sessions() as db:
        rows = db.scalars(select(WebSession).order_by(WebSession.id)).all()
        assert rows[0].revoked_at is not None and rows[-1].stage == "ok" and rows[-1].revoked_at is None
        assert full not in {r.token_hash for r in rows}  # only hashes are stored
    # pages wait for the notice, then open
    assert client.get("/listes", follow_redirects=False).headers["location"] == "/avis"
    r = client.post("/avis", data={"csrf_token": _csrf(client.get("/avis").text)}, follow_redirects=False)
    assert r.status_code == 400  # not accepted
    assert _accept_notice(client).headers["location"] == "/listes"
    assert client.get("/listes").status_code == 200
    assert len(_events(web_app, "login")) == 1
    # the next login asks the code of the enrolled secret; a code cannot be used twice
    other = TestClient(web_app)
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    r, _ = _login(other, secret, at)
    assert r.status_code == 303 and r.headers["location"] == "/listes"  # notice already accepted
    again = TestClient(web_app)
    r, _ = _login(again, secret, at)
    assert r.status_code == 400 and "déjà utilisé" in r.text
    # the notice comes back after three months
    with web_app.state.sessions() as db:
        db.execute(update(User).where(User.email == EMAIL).values(
            notice_accepted_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=92)))  # fmt: skip
        db.commit()
    assert client.get("/listes", follow_redirects=False).headers["location"] == "/avis"


def test_secure_cookies_in_production(seeded: tuple[str, dict[str, int]], tmp_path: Any) -> None:
    from signaux_faibles.config import Settings
    from signaux_faibles.platform.web import create_app

    app = create_app(Settings(data_dir=tmp_path, database_url=seeded[0], secret_key="k", production=True))
    client = TestClient(app, base_url="https://testserver")
    r = _password_step(client)
    assert "Secure" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    app.state.engine.dispose()


def test_lockout_after_failures(web_app: Any) -> None:
    client = TestClient(web_app)
    for _ in range(5):
        r = _password_step(client, password="Wrong-password-123")
        assert r.status_code == 400 and "incorrect" in r.text
    # locked: even the right password is refused, with its own message
    r = _password_step(client)
    assert r.status_code == 423 and "verrouillé" in r.text
    assert len(_events(web_app, "login_failed")) == 6
    # an unknown account gets the same message as a wrong password
    r = _password_step(client, email="personne@urssaf.fr", password="Wrong-password-123")
    assert r.status_code == 400 and "Identifiant ou mot de passe incorrect" in r.text
    # after the lockout period, the right password works again
    with web_app.state.sessions() as db:
        db.execute(update(User).where(User.email == EMAIL).values(
            locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))  # fmt: skip
        db.commit()
    assert _password_step(TestClient(web_app)).status_code == 303


def test_wrong_codes_count_towards_lockout(web_app: Any) -> None:
    client = TestClient(web_app)
    _password_step(client)
    page = client.get("/connexion/code").text
    for _ in range(5):
        r = client.post(
            "/connexion/code", data={"code": "000000", "csrf_token": _csrf(page)}, follow_redirects=False
        )
    r = client.post(
        "/connexion/code", data={"code": "000000", "csrf_token": _csrf(page)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/connexion"  # locked: back to the start
    assert _password_step(TestClient(web_app)).status_code == 423


def test_throttling_by_address(web_app: Any) -> None:
    client = TestClient(web_app)
    codes = [
        _password_step(client, email=f"x{i}@urssaf.fr", password="Wrong-password-123").status_code
        for i in range(21)
    ]
    assert codes[:20] == [400] * 20 and codes[20] == 429


def _age_sessions(app: Any, **ago: dt.timedelta) -> None:
    """Every session's timestamps named in ``ago`` set that long before now."""
    now = dt.datetime.now(dt.UTC)
    with app.state.sessions() as db:
        db.execute(update(WebSession).values(**{column: now - delta for column, delta in ago.items()}))
        db.commit()


def test_session_timeouts_and_logout(web_app: Any) -> None:
    client = TestClient(web_app)
    _r, secret = _login(client)
    _accept_notice(client)
    assert client.get("/listes").status_code == 200
    # idle for 31 minutes: the session is over
    _age_sessions(web_app, last_seen_at=dt.timedelta(minutes=31))
    assert client.get("/listes", follow_redirects=False).headers["location"].startswith("/connexion")
    # absolute timeout: 12 hours, even when active
    client = TestClient(web_app)
    _login(client, secret, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
    assert client.get("/listes").status_code == 200
    _age_sessions(web_app, created_at=dt.timedelta(hours=13))
    assert client.get("/listes", follow_redirects=False).headers["location"].startswith("/connexion")
    # logout ends the session, even if the cookie is replayed
    a = TestClient(web_app)
    _login(a, secret, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60))
    cookie = a.cookies.get("sf_session")
    a.post("/deconnexion", data={"csrf_token": _csrf(a.get("/compte").text)})
    replay = TestClient(web_app)
    replay.cookies.set("sf_session", cookie)  # type: ignore[arg-type]
    assert replay.get("/listes", follow_redirects=False).status_code == 303
    # logout everywhere ends every session of the user
    b, c = TestClient(web_app), TestClient(web_app)
    _login(b, secret, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90))
    _login(c, secret, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30))
    assert b.get("/listes").status_code == 200 and c.get("/listes").status_code == 200
    b.post("/deconnexion-partout", data={"csrf_token": _csrf(b.get("/compte").text)})
    assert b.get("/listes", follow_redirects=False).status_code == 303
    assert c.get("/listes", follow_redirects=False).status_code == 303


def test_expiry_review_and_disabling(web_app: Any) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with web_app.state.sessions() as db:
        db.execute(update(User).where(User.email == EMAIL).values(expires_at=past))
        db.commit()
    r = _password_step(TestClient(web_app))
    assert r.status_code == 403 and "expiré" in r.text
    with web_app.state.sessions() as db:
        db.execute(update(User).where(User.email == EMAIL).values(
            expires_at=None, reviewed_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=200)))  # fmt: skip
        db.commit()
    r = _password_step(TestClient(web_app))
    assert r.status_code == 403 and "revue" in r.text
    with web_app.state.sessions() as db:
        db.execute(update(User).where(User.email == EMAIL).values(reviewed_at=dt.datetime.now(dt.UTC)))
        db.commit()
    client = TestClient(web_app)
    _login(client)
    _accept_notice(client)
    assert client.get("/listes").status_code == 200
    # a disabled account loses its open sessions at once
    from signaux_faibles.platform.accounts import find_user, set_user

    with web_app.state.sessions() as db:
        set_user(db, find_user(db, EMAIL), active=False)
        db.commit()
    assert client.get("/listes", follow_redirects=False).status_code == 303


def test_api_tokens(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    ids = seeded[1]
    with web_app.state.sessions() as db:
        user = db.get(User, ids["agent_a"])
        token = issue_token(db, user, days=30)
        db.commit()
        stored = db.scalars(select(ApiToken)).all()
        assert len(stored) == 1 and stored[0].token_hash != token and token not in stored[0].token_hash
    client = TestClient(web_app)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=auth).json()["email"] == EMAIL
    assert client.get("/api/me", headers={"Authorization": "Bearer sf_not-a-token"}).status_code == 401
    assert client.get("/api/me").status_code == 401
    # expired, then revoked
    with web_app.state.sessions() as db:
        db.execute(update(ApiToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        db.commit()
    assert client.get("/api/me", headers=auth).status_code == 401
    with web_app.state.sessions() as db:
        db.execute(update(ApiToken).values(expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
                                           revoked_at=dt.datetime.now(dt.UTC)))  # fmt: skip
        db.commit()
    assert client.get("/api/me", headers=auth).status_code == 401
    # anonymous refusals are counted in one row per address and window, not one row each (issue 18, defect 13)
    denied = _events(web_app, "denied")
    assert len(denied) == 1 and denied[0].detail is not None and denied[0].detail["count"] == 3
    for _ in range(50):
        assert client.get("/api/me", headers={"Authorization": f"Bearer sf_bogus-{_}"}).status_code == 401
    denied = _events(web_app, "denied")
    assert len(denied) == 1 and denied[0].detail is not None and denied[0].detail["count"] == 53


def test_audit_view_filters_and_monthly_statistics(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """The admin's audit view filters by user, company, event and dates; the statistics count by month."""
    from signaux_faibles.platform import audit

    ids = seeded[1]
    with web_app.state.sessions() as db:
        token = issue_token(db, db.get(User, ids["agent_a"]))
        admin_token = issue_token(db, db.get(User, ids["admin"]))
        db.commit()
    agent = TestClient(web_app)
    auth = {"Authorization": f"Bearer {token}"}
    assert agent.get("/api/companies/111111111", headers=auth).status_code == 200
    assert agent.get("/api/companies/222222222", headers=auth).status_code == 200
    # outside the territory: the identity opens (recorded), the agents' work is refused (recorded as denied)
    assert agent.get("/api/companies/333333333/comments", headers=auth).status_code == 403
    with web_app.state.sessions() as db:
        total, rows = audit.events(
            db, audit.AuditFilter(user="agent.a", siren="111111111", event="company_viewed")
        )
        assert total == 1 and rows[0].siren == "111111111" and rows[0].email == EMAIL
        today = dt.datetime.now(dt.UTC).date()
        assert audit.events(db, audit.AuditFilter(event="denied", since=today, until=today))[0] >= 1
        assert audit.events(db, audit.AuditFilter(since=today + dt.timedelta(days=1)))[0] == 0
        stats = audit.monthly_stats(db)
        assert stats[0]["mois"] == today.strftime("%Y-%m")
        assert (
            stats[0]["entreprises_consultees"] == 2
            and stats[0]["denied"] >= 1
            and stats[0]["utilisateurs_actifs"] >= 1
        )
    # the pages: an admin session (a token is not a browser session: log the admin in through the form)
    admin = TestClient(web_app)
    _login_as(admin, SEED_USERS["admin"][0])
    _accept_notice(admin)
    page = admin.get("/admin/audit", params={"siren": "333333333", "event": "denied"})
    assert page.status_code == 200 and "333333333" in page.text and "111111111" not in page.text
    from signaux_faibles.platform.web.formats import fr_month

    assert fr_month(today) in admin.get("/admin/statistiques").text  # « décembre 2026 »
    assert admin_token  # issued for an admin too; the API follows the same rules


def _login_as(client: TestClient, email: str) -> tuple[Any, str]:
    r = _password_step(client, email=email)
    assert r.status_code == 303
    page = client.get("/connexion/code").text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)  # type: ignore[union-attr]
    r = client.post("/connexion/code", data={"code": pyotp.TOTP(secret).now(), "csrf_token": _csrf(page)},
                    follow_redirects=False)  # fmt: skip
    return r, secret
