"""Operators' commands (users, regions) and ``signaux-faibles serve`` answering the API as a real server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from seed import SEED_COMPANIES
from sqlalchemy import select
from typer.testing import CliRunner

from signaux_faibles.cli import app
from signaux_faibles.platform.models import ApiToken, AuditEvent, User
from signaux_faibles.platform.store import db as platform_db

PASSWORD = "S3cret-passw0rd-operator"


@pytest.fixture
def cli_env(seeded: tuple[str, dict[str, int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SF_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SF_DATABASE_URL", seeded[0])
    monkeypatch.setenv("SF_CONFIG", str(tmp_path / "none.toml"))
    return seeded[0]


def _run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    r = CliRunner().invoke(app, list(args), input=stdin)
    return r.exit_code, r.output


def _user(url: str, email: str) -> User | None:
    engine = platform_db.get_engine(url)
    with platform_db.sessions(engine)() as db:
        u = db.scalar(select(User).where(User.email == email))
    engine.dispose()
    return u


def test_users_commands(cli_env: str) -> None:
    code, out = _run("users", "add", "Agent.C@URSSAF.fr", "--organisation", "URSSAF", "--territory", "21,R11",
                     "--rights", "score,urssaf", "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert code == 0, out
    u = _user(cli_env, "agent.c@urssaf.fr")
    assert u is not None and u.territory == "R11,21" and u.rights == "score,urssaf" and u.role == "agent"
    assert u.password_hash and u.password_hash.startswith("$argon2id$") and PASSWORD not in u.password_hash
    # clear errors: weak password, unknown organisation, bad territory, unknown right, duplicate
    for args, stdin, msg in (
        (["--territory", "21", "--password-stdin"], "short\n", "too weak"),
        (["--territory", "21", "--organisation", "NASA"], None, "unknown organisation"),
        (["--territory", "2C"], None, "unknown territory code"),
        (["--territory", "21", "--rights", "score,impots"], None, "unknown data right"),
    ):
        base = ["users", "add", "x@urssaf.fr", "--organisation", "URSSAF"]
        if "--organisation" in args:
            base = ["users", "add", "x@urssaf.fr"]
        code, out = _run(*base, *args, stdin=stdin)
        assert code == 2 and msg in out, (args, out)
    code, out = _run("users", "add", "agent.c@urssaf.fr", "--organisation", "URSSAF", "--territory", "21")
    assert code == 2 and "already exists" in out
    code, out = _run("users", "list")
    assert code == 0 and "agent.c@urssaf.fr" in out
    code, out = _run("users", "set-rights", "agent.c@urssaf.fr", "--rights", "score", "--territory", "FR")
    assert code == 0, out
    u = _user(cli_env, "agent.c@urssaf.fr")
    assert u is not None and u.rights == "score" and u.territory == "FR"
    code, out = _run("users", "token", "agent.c@urssaf.fr", "--days", "7")
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("sf_")
    code, out = _run("users", "disable", "agent.c@urssaf.fr")
    assert code == 0
    u = _user(cli_env, "agent.c@urssaf.fr")
    assert u is not None and not u.active
    code, out = _run("users", "token", "agent.c@urssaf.fr")
    assert code == 2 and "désactivé" in out
    engine = platform_db.get_engine(cli_env)
    with platform_db.sessions(engine)() as db:
        assert all(t.revoked_at is not None for t in db.scalars(select(ApiToken)))  # disabling revokes tokens
        changes = db.scalars(select(AuditEvent).where(AuditEvent.event == "admin_change")).all()
        actions = [e.detail["action"] for e in changes if e.detail]
    engine.dispose()
    assert {"account created", "rights changed", "API token issued", "account disabled"} <= set(actions)


def test_regions_commands(cli_env: str) -> None:
    code, out = _run("regions", "list")
    assert code == 0 and "R11" in out and "R27" in out
    code, out = _run("regions", "open", "R93")
    assert code == 0 and "93" in out
    code, out = _run("regions", "open", "R9")
    assert code == 2 and "unknown région code" in out
    code, out = _run("regions", "close", "R93,R11")
    assert code == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_serve_answers_the_api_by_territory(cli_env: str, tmp_path: Path) -> None:
    """A real ``signaux-faibles serve`` process; a région opened by one command becomes visible."""
    code, out = _run("users", "add", "agent.d@urssaf.fr", "--organisation", "URSSAF", "--territory", "13,21",
                     "--rights", "score,urssaf", "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert code == 0, out
    token = _run("users", "token", "agent.d@urssaf.fr")[1].strip().splitlines()[-1]
    port = _free_port()
    exe = Path(sys.executable).parent / "signaux-faibles"
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if _get(base + "/sante")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        assert _get(base + "/api/lists")[0] == 401
        inside, outside, closed = (
            SEED_COMPANIES[k][0] for k in ("in_alerted", "out_alerted", "closed_region")
        )
        status, body = _get(f"{base}/api/companies/{inside}", token)
        assert status == 200 and json.loads(body)["permissions"]["scores"] is True
        status, body = _get(f"{base}/api/companies/{outside}", token)  # identity only out of the territory
        assert status == 200 and not any(json.loads(body)["permissions"].values())
        assert _get(f"{base}/api/companies/{outside}/comments", token)[0] == 403  # the agents' work: refused
        assert _get(f"{base}/api/companies/{closed}", token)[0] == 404  # région 93 not open
        assert _run("regions", "open", "R93")[0] == 0
        assert _get(f"{base}/api/companies/{closed}", token)[0] == 200
        spec = json.loads(_get(base + "/api/openapi.json")[1])
        assert "/api/companies/{siren}" in spec["paths"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode is not None
