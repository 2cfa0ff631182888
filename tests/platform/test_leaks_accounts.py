"""Issue 18 ("close the leaks"), accounts: the login limit counts failed attempts per address in the database
(trusted proxies only), wrong passwords answer alike whatever the account, participants do not reveal accounts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from seed import SEED_PASSWORD, SEED_USERS
from sqlalchemy import select
from test_web_auth import _csrf, _password_step
from test_web_matrix import _login

from signaux_faibles.config import Settings
from signaux_faibles.platform.models import AuditEvent, Case, User
from signaux_faibles.platform.web import create_app

WRONG = "Wrong-password-123"


def _app(db_url: str, tmp_path: Path, **kw: Any) -> Any:
    return create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, secret_key="test-secret-key", **kw))


def test_successful_logins_are_never_throttled(web_app: Any) -> None:
    """Defect 4: 30 correct logins from one address go through (only failures count)."""
    client = TestClient(web_app)
    codes = {_password_step(client).status_code for _ in range(30)}
    assert codes == {303}
    assert not hasattr(web_app.state, "login_throttle")  # no per-worker memory that grows with requests


def test_rotating_forwarded_for_does_not_bypass_the_limit(web_app: Any) -> None:
    """Defect 4: without a trusted proxy, X-Forwarded-For is ignored: from one peer, 20 failures then 429."""
    client = TestClient(web_app)
    codes = []
    for i in range(22):
        token = _csrf(client.get("/connexion").text)
        r = client.post("/connexion", headers={"X-Forwarded-For": f"203.0.113.{i}"},
                        data={"email": f"x{i}@urssaf.fr", "password": WRONG, "csrf_token": token}, follow_redirects=False)  # fmt: skip
        codes.append(r.status_code)
    assert codes[:20] == [400] * 20 and codes[20:] == [429, 429]


def test_behind_a_trusted_proxy_each_agent_has_their_own_counter(seeded: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    """Defect 4: from a trusted proxy, the client is the right-most untrusted X-Forwarded-For hop; a hop that
    claims to be the proxy is skipped, and one agent's failures do not throttle another."""
    app = _app(seeded[0], tmp_path, trusted_proxies=["10.0.0.0/24"])
    client = TestClient(app, client=("10.0.0.7", 40000))

    def attempt(forwarded: str, email: str, password: str = WRONG) -> int:
        token = _csrf(client.get("/connexion", headers={"X-Forwarded-For": forwarded}).text)
        return client.post("/connexion", headers={"X-Forwarded-For": forwarded},
                           data={"email": email, "password": password, "csrf_token": token},
                           follow_redirects=False).status_code  # fmt: skip

    codes = [attempt(f"198.51.100.{i}, 192.0.2.1, 10.0.0.3", f"x{i}@urssaf.fr") for i in range(21)]
    assert codes[:20] == [400] * 20 and codes[20] == 429  # the agent at 192.0.2.1, whatever the left hops say
    assert attempt("192.0.2.2", SEED_USERS["agent_a"][0], SEED_PASSWORD) == 303  # a colleague behind the proxy
    with app.state.sessions() as db:
        ips = set(db.scalars(select(AuditEvent.ip).where(AuditEvent.event == "login_failed")))
    assert ips == {"192.0.2.1"}
    app.state.engine.dispose()


def test_the_counter_is_shared_by_every_worker(seeded: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    """Defect 4: two application processes on one database share the counter (it lives in the database)."""
    one, two = _app(seeded[0], tmp_path / "a"), _app(seeded[0], tmp_path / "b")
    for i in range(20):
        assert _password_step(TestClient(one if i % 2 else two), email=f"y{i}@urssaf.fr", password=WRONG).status_code == 400
    assert _password_step(TestClient(one), email="z@urssaf.fr", password=WRONG).status_code == 429
    assert _password_step(TestClient(two), email="z@urssaf.fr", password=WRONG).status_code == 429
    one.state.engine.dispose()
    two.state.engine.dispose()


def test_wrong_password_answers_alike_whatever_the_account(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """Defect 9: unknown, locked, disabled and expired accounts: same status, same message on a wrong password."""
    ids = seeded[1]
    now = dt.datetime.now(dt.UTC)
    with web_app.state.sessions() as db:
        db.get(User, ids["agent_b"]).locked_until = now + dt.timedelta(minutes=10)  # type: ignore[union-attr]
        db.get(User, ids["no_rights"]).active = False  # type: ignore[union-attr]
        db.get(User, ids["org_admin"]).expires_at = now - dt.timedelta(days=1)  # type: ignore[union-attr]
        db.commit()
    answers = set()
    for email in ("nobody@urssaf.fr", SEED_USERS["agent_b"][0], SEED_USERS["no_rights"][0], SEED_USERS["org_admin"][0],
                  SEED_USERS["agent_a"][0]):  # fmt: skip
        r = _password_step(TestClient(web_app), email=email, password=WRONG)
        message = r.text.split('fr-alert--error', 1)[-1].split("</p>", 1)[0]
        answers.add((r.status_code, message))
    assert len(answers) == 1, answers
    # the holder of the right password learns that the account is locked
    assert _password_step(TestClient(web_app), email=SEED_USERS["agent_b"][0]).status_code == 423


def test_adding_a_participant_does_not_reveal_accounts(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """Defect 9: an unknown address and an existing one get the same answer."""
    client, csrf = _login(web_app, "agent_a", seeded[1])
    siren = "111111111"
    r = client.post(f"/entreprises/{siren}/accompagnement", data={"csrf_token": csrf, "difficulties": "trésorerie"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    with web_app.state.sessions() as db:
        case = db.scalars(select(Case).where(Case.siren == siren)).one()
    answers = set()
    for who in ("personne@nulle-part.fr", SEED_USERS["agent_b"][0], SEED_USERS["no_rights"][0]):
        r = client.post(f"/accompagnements/{case.id}", data={"csrf_token": csrf, "participant": who},
                        follow_redirects=False)  # fmt: skip
        answers.add((r.status_code, r.headers.get("location")))
    assert len(answers) == 1 and next(iter(answers))[0] == 303


def test_totp_secrets_are_sealed_at_rest(web_app: Any, seeded: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    """Defect 14: the database never holds a TOTP secret in clear; a secret stored in clear earlier is sealed at
    start-up and still works."""
    import re

    import pyotp

    from signaux_faibles.platform.security import SEALED, unseal

    client = TestClient(web_app)
    assert _password_step(client).status_code == 303
    page = client.get("/connexion/code").text
    m = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert m
    secret = m.group(1)
    r = client.post("/connexion/code", data={"code": pyotp.TOTP(secret).now(), "csrf_token": _csrf(page)},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    with web_app.state.sessions() as db:
        user = db.get(User, seeded[1]["agent_a"])
        assert user is not None and user.totp_secret is not None
        stored = user.totp_secret
    assert stored.startswith(SEALED) and secret not in stored
    assert unseal(stored, web_app.state.secret_key) == secret
    # a secret in clear (an earlier version's) is sealed when the application starts again
    with web_app.state.sessions() as db:
        db.get(User, seeded[1]["agent_a"]).totp_secret = secret  # type: ignore[union-attr]
        db.commit()
    again = _app(seeded[0], tmp_path)
    with again.state.sessions() as db:
        resealed = db.get(User, seeded[1]["agent_a"]).totp_secret  # type: ignore[union-attr]
    assert resealed is not None and resealed.startswith(SEALED) and unseal(resealed, "test-secret-key") == secret
    again.state.engine.dispose()
