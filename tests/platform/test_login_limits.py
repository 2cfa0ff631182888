"""Issue 18 ("close the leaks"), defects 4 and 13: failed logins are limited per address and per account in the
table ``login_attempts`` (purged as it goes), the throttled attempts and the anonymous refusals (bogus API token,
bogus CSRF token) are audited in one row per address and window, not one row each. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from seed import SEED_PASSWORD, SEED_USERS
from sqlalchemy import func, select
from test_web_auth import _csrf, _events, _password_step

from signaux_faibles.config import Settings
from signaux_faibles.platform.accounts import THROTTLE, login_throttled, record_failed_login
from signaux_faibles.platform.models import LoginAttempt
from signaux_faibles.platform.web import create_app

WRONG = "Wrong-password-123"


def _app(db_url: str, tmp_path: Path, **kw: Any) -> Any:
    return create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, secret_key="test-secret-key", **kw))


def _attempt(client: TestClient, email: str, password: str = WRONG, forwarded: str | None = None) -> Any:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    token = _csrf(client.get("/connexion", headers=headers).text)
    return client.post("/connexion", headers=headers, data={"email": email, "password": password, "csrf_token": token},
                       follow_redirects=False)  # fmt: skip


def test_failures_on_one_account_are_limited_whatever_the_address(
    seeded: tuple[str, dict[str, int]], tmp_path: Path
) -> None:
    """Defect 4: behind a trusted proxy, each agent has their own address, so guesses spread over many addresses
    are limited per account; an unknown e-mail and an existing account are limited alike (same status, same
    message), and another account is not affected."""
    app = _app(seeded[0], tmp_path, trusted_proxies=["10.0.0.1"])
    client = TestClient(app, client=("10.0.0.1", 40000))
    answers = set()
    for email in ("personne@urssaf.fr", SEED_USERS["agent_b"][0]):
        codes = [_attempt(client, email, forwarded=f"198.51.100.{i}").status_code for i in range(THROTTLE.per_account)]
        assert set(codes) == {400}
        r = _attempt(client, email, forwarded="198.51.100.200")
        answers.add((r.status_code, r.text))
        # not even the right password is checked now
        assert _attempt(client, email, SEED_PASSWORD, forwarded="198.51.100.201").status_code == 429
    assert len(answers) == 1 and next(iter(answers))[0] == 429
    assert "Trop de tentatives pour cet identifiant" in next(iter(answers))[1]
    assert _attempt(client, SEED_USERS["agent_a"][0], SEED_PASSWORD, forwarded="198.51.100.7").status_code == 303
    with app.state.sessions() as db:  # the table never holds an e-mail address
        accounts = set(db.scalars(select(LoginAttempt.account)))
    assert accounts and not any("@" in (a or "") for a in accounts)
    app.state.engine.dispose()


def test_rotating_forwarded_for_from_the_loopback_does_not_bypass_the_limit(
    seeded: tuple[str, dict[str, int]], tmp_path: Path
) -> None:
    """Defect 4: with no trusted proxy (the default), a client on the loopback cannot pose as many addresses."""
    app = _app(seeded[0], tmp_path)
    client = TestClient(app, client=("127.0.0.1", 40000))
    codes = [_attempt(client, f"x{i}@urssaf.fr", forwarded=f"203.0.113.{i}").status_code for i in range(22)]
    assert codes[: THROTTLE.per_address] == [400] * THROTTLE.per_address
    assert set(codes[THROTTLE.per_address :]) == {429}
    with app.state.sessions() as db:
        assert set(db.scalars(select(LoginAttempt.ip))) == {"127.0.0.1"}
    app.state.engine.dispose()


def test_throttled_attempts_are_counted_in_one_audit_row(web_app: Any) -> None:
    """Defects 4 and 13: past the limit, attempts are refused unchecked and add no row to the attempts table nor
    one audit row each: one ``login_failed`` row per address and window carries their count."""
    client = TestClient(web_app)
    codes = [_password_step(client, email=f"z{i}@urssaf.fr", password=WRONG).status_code for i in range(60)]
    assert codes.count(400) == THROTTLE.per_address and codes.count(429) == 60 - THROTTLE.per_address
    failed = _events(web_app, "login_failed")
    assert len(failed) == THROTTLE.per_address + 1
    counted = [e.detail for e in failed if e.detail and "count" in e.detail]
    assert len(counted) == 1 and counted[0]["count"] == 60 - THROTTLE.per_address
    assert counted[0]["reason"] == "throttled (address)"
    with web_app.state.sessions() as db:
        assert db.scalar(select(func.count()).select_from(LoginAttempt)) == THROTTLE.per_address


def test_successful_logins_do_not_count(web_app: Any) -> None:
    """Defect 4: the 21st correct login from one address goes through; no attempt row is written for them."""
    client = TestClient(web_app)
    assert {_password_step(client).status_code for _ in range(THROTTLE.per_address + 5)} == {303}
    with web_app.state.sessions() as db:
        assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_old_attempts_are_purged(seeded: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    """Defect 4: the attempts older than the longest window are deleted at each new failure (bounded table), and
    no longer count."""
    app = _app(seeded[0], tmp_path)
    t = dt.datetime.now(dt.UTC)
    old = t - THROTTLE.keep - dt.timedelta(seconds=1)
    with app.state.sessions() as db:
        for i in range(50):
            record_failed_login(db, "someone@urssaf.fr", f"192.0.2.{i % 3}", at=old)
        db.commit()
        assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 50
        assert login_throttled(db, "someone@urssaf.fr", "192.0.2.0", at=old) == "account"
        assert login_throttled(db, "someone@urssaf.fr", "192.0.2.0", at=t) is None
        record_failed_login(db, "someone@urssaf.fr", "192.0.2.0", at=t)
        db.commit()
        assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 1
    app.state.engine.dispose()


def test_anonymous_refusals_are_counted_not_written_one_by_one(web_app: Any) -> None:
    """Defect 13: bogus API tokens and bogus CSRF tokens from one address, interleaved, give one ``denied`` row
    per reason with the count of the attempts."""
    client = TestClient(web_app)
    for i in range(30):
        assert client.get("/api/me", headers={"Authorization": f"Bearer sf_bogus-{i}"}).status_code == 401
        r = client.post("/connexion", data={"email": "a@urssaf.fr", "password": WRONG, "csrf_token": f"forged-{i}"},
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == 403
    denied = _events(web_app, "denied")
    counts = {e.detail["reason"]: e.detail["count"] for e in denied if e.detail}
    assert len(denied) == 2, [e.detail for e in denied]
    assert counts == {"invalid or expired API token": 30, "CSRF token missing or invalid": 30}
