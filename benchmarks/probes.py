"""The security probes of issue 18 ("close the leaks"), rerun: inputs tried and failures found, per family.

    uv run python benchmarks/probes.py [--fuzz-examples 60] [--work /tmp/sf-probes]

The platform families run in this process on the tests' seeded database (``tests/platform/conftest.py``: six
companies in and out of the territory, alerted or not, followed, in a closed région; agents of every kind) through
the ASGI interface, plus three agents without the score right (no right, ``dgefp`` only, ``urssaf`` only):

- **access**: every actor × company × company route (API, page, establishment, dossier, comments): the status the
  policy gives, the confidential blocks it allows and no other; and, for an actor without the score right, an
  alerted and a quiet company answer alike (the same fields and no score-derived value: alert, rank, probability,
  explanation, what-if, first alert);
- **enumeration**: searches made of LIKE wildcards (``%%``, ``__``…) and SIREN prefixes ``10`` … ``99`` by the actors
  without the score right: no answer may carry a score-derived value, a wildcard finds nothing;
- **csrf**: every state-changing route with a session cookie and no token, a wrong token, another session's token;
- **injection**: SQL, HTML/JS, template, path and control-character payloads in every free-text input (search, list
  filter, follow comment, comments, login e-mail): no server error, no payload echoed unescaped;
- **fuzz**: schemathesis over every API operation with a token of each kind of actor (server errors, answers
  outside the schema).

The ingestion families (malformed files, kills) are in ``benchmarks/probes_ingest.py``. A failure is printed with
its input; the exit code is 1 when any family found one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import re
import secrets
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCORE_WORDS = ("alert", "score", "probab", "rank", "rang", "explanation", "expl", "what_if", "whatif", "levier",
               "risque", "risk")  # fmt: skip
PAYLOADS = [
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    '" OR ""="',
    "%' UNION SELECT email, password_hash FROM users --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}",
    "${7*7}",
    "{% raw %}{{ config }}{% endraw %}",
    "../../../../etc/passwd",
    "%00",
    "\u202e\u0000",
    "\r\nSet-Cookie: x=1",
    "ÉÈ" * 40,
    "a" * 5000,
    "=HYPERLINK(\"http://x\")",
    "\\",
    "%%",
    "__",
]


@dataclass
class Family:
    name: str
    tried: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> None:
        self.tried += 1
        if not ok:
            self.failures.append(what)


def _load_seed() -> Any:
    """``tests/platform/conftest.py`` as a module (its ``seed_platform``, ``SEED_*``)."""
    spec = importlib.util.spec_from_file_location("platform_seed", ROOT / "tests" / "platform" / "conftest.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _leaks(obj: Any, path: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "permissions":
                continue
            p = f"{path}.{k}"
            if any(w in k.lower() for w in SCORE_WORDS) and v not in (None, False, 0, "", [], {}):
                out.append(p)
            out += _leaks(v, p)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _leaks(v, f"{path}[{i}]")
    return out


class Platform:
    """The seeded application, a session per actor, the policy's expectations from the seed's definitions."""

    def __init__(self, work: Path) -> None:
        from fastapi.testclient import TestClient

        from signaux_faibles.config import Settings
        from signaux_faibles.platform import accounts
        from signaux_faibles.platform.web import create_app

        self.seed = _load_seed()
        url = f"sqlite:///{work / 'platform.db'}"
        self.ids = self.seed.seed_platform(url)
        self.app = create_app(Settings(data_dir=work / "data", database_url=url, secret_key="probe-secret-key"))
        extra = {"no_score_dgefp": "dgefp", "no_score_urssaf": "urssaf", "no_score_all": "urssaf,dgefp,bdf"}
        self.users = dict(self.seed.SEED_USERS)
        with self.app.state.sessions() as db:
            for kind, rights in extra.items():
                email = f"{kind.replace('_', '.')}@dreets.gouv.fr"
                u = accounts.add_user(db, email, organisation="DREETS/DDETS", territory="21", rights=rights,
                                      role="agent", password=self.seed.SEED_PASSWORD)  # fmt: skip
                self.ids[kind] = u.id
                self.users[kind] = (email, "DREETS/DDETS", "21", rights, "agent")
            db.commit()
        self.clients: dict[str, Any] = {}
        self.csrf: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        for kind in self.users:
            self.clients[kind], self.csrf[kind] = self._login(kind)
        self.anonymous = TestClient(self.app)
        self._client_cls = TestClient

    def _login(self, kind: str) -> tuple[Any, str]:
        from fastapi.testclient import TestClient

        from signaux_faibles.platform.accounts import issue_token, sha256
        from signaux_faibles.platform.models import User, WebSession

        client = TestClient(self.app)
        token, csrf = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        now = dt.datetime.now(dt.UTC)
        with self.app.state.sessions() as db:
            db.add(WebSession(token_hash=sha256(token), user_id=self.ids[kind], stage="ok", method="password",
                              csrf_token=csrf, created_at=now, last_seen_at=now))  # fmt: skip
            user = db.get(User, self.ids[kind])
            user.notice_accepted_at = now
            self.tokens[kind] = issue_token(db, user)
            db.commit()
        client.cookies.set("sf_session", token)
        return client, csrf

    def actor(self, kind: str) -> Any:
        from signaux_faibles.platform.policy import Actor, Territory

        _, org, territory, rights, role = self.users[kind]
        return Actor(user_id=self.ids[kind], organisation=org, territory=Territory.parse(territory),
                     rights=frozenset(r for r in rights.split(",") if r), role=role)  # fmt: skip

    def facts(self, kind: str, company: str) -> Any:
        from signaux_faibles.platform.policy import CompanyFacts

        siren, etabs, alert = self.seed.SEED_COMPANIES[company]
        counted = tuple((d, r) for _, d, r in etabs if r in ("27", "11"))  # the seed opens régions 27 and 11
        return CompanyFacts(siren, counted, alerted=alert != "Pas d'alerte",
                            followed=kind == "agent_a" and company == "out_followed", open=bool(counted))  # fmt: skip

    def close(self) -> None:
        self.app.state.engine.dispose()


def access(p: Platform) -> Family:
    from signaux_faibles.platform.policy import Action, allowed

    fam = Family("access")
    blocks = {"scores": Action.VIEW_SCORE, "urssaf": Action.VIEW_URSSAF, "dgefp": Action.VIEW_DGEFP,
              "bdf": Action.VIEW_BDF}  # fmt: skip
    for kind in p.users:
        client, actor = p.clients[kind], p.actor(kind)
        for company, (siren, etabs, _) in p.seed.SEED_COMPANIES.items():
            facts = p.facts(kind, company)
            view = allowed(actor, Action.VIEW_COMPANY, facts)
            expected = 404 if not facts.open else 200 if view else 403
            for path in (f"/api/companies/{siren}", f"/entreprises/{siren}", f"/api/establishments/{etabs[-1][0]}",
                         f"/etablissements/{etabs[-1][0]}", f"/entreprises/{siren}/dossier.docx",
                         f"/entreprises/{siren}/commentaires"):  # fmt: skip
                r = client.get(path, follow_redirects=False)
                fam.check(r.status_code == expected, f"{kind} {path}: {r.status_code}, expected {expected}")
                if r.status_code == 200 and path.startswith("/api/companies/"):
                    body = r.json()
                    for block, action in blocks.items():
                        shown = bool(allowed(actor, action, facts))
                        fam.check((block in body) == shown, f"{kind} {path}: block {block} shown={block in body}")
                    if "score" not in actor.rights:
                        found = _leaks(body)
                        fam.check(not found, f"{kind} {path}: score-derived {found[:3]}")
        if "score" not in actor.rights:  # an alerted and a quiet company of the territory answer alike
            a = p.clients[kind].get(f"/api/companies/{p.seed.SEED_COMPANIES['in_alerted'][0]}").json()
            q = p.clients[kind].get(f"/api/companies/{p.seed.SEED_COMPANIES['in_quiet'][0]}").json()
            fam.check(sorted(a) == sorted(q) and a.get("permissions") == q.get("permissions"),
                      f"{kind}: alerted and quiet companies answer with different fields")  # fmt: skip
    return fam


def enumeration(p: Platform) -> Family:
    fam = Family("enumeration")
    queries = ["%%", "__", "%", "_", "%_%", "\\%", *[f"{i:02d}" for i in range(10, 100)]]
    for kind in p.users:
        if "score" in p.actor(kind).rights:
            continue
        for q in queries:
            r = p.clients[kind].get("/api/search", params={"q": q})
            if r.status_code != 200:
                fam.check(r.status_code == 422, f"{kind} search {q!r}: {r.status_code}")
                continue
            body = r.json()
            fam.check(not _leaks(body), f"{kind} search {q!r}: score-derived {_leaks(body)[:3]}")
            if not q.isdigit():
                fam.check(body == [], f"{kind} search {q!r}: a wildcard found {len(body)} companies")
            for item in body[:5]:
                c = p.clients[kind].get(f"/api/companies/{item['siren']}")
                fam.check(c.status_code != 200 or not _leaks(c.json()), f"{kind} {item['siren']}: score-derived")
    return fam


def _routes(p: Platform) -> list[tuple[str, str]]:
    out = []

    def flat(routes: Any) -> list[Any]:
        res = []
        for r in routes:
            res += flat(r.effective_candidates()) if hasattr(r, "effective_candidates") else [r]
        return res

    fill = {"siren": p.seed.SEED_COMPANIES["in_alerted"][0], "user_id": str(p.ids["agent_a"]), "list_id": "1",
            "comment_id": "1", "case_id": "1", "measure_id": "1"}  # fmt: skip
    for r in flat(p.app.routes):
        for m in sorted(getattr(r, "methods", None) or ()):
            if m in ("POST", "PUT", "PATCH", "DELETE"):
                out.append((m, re.sub(r"\{(\w+)\}", lambda g: fill.get(g.group(1), "1"), r.path)))
    return out


def csrf(p: Platform) -> Family:
    from signaux_faibles.platform.models import AuditEvent

    fam = Family("csrf")
    kind = "admin"
    other = p.csrf["agent_a"]
    for method, path in _routes(p):
        if path.startswith("/sso/"):
            continue
        for label, token in (("no token", None), ("wrong token", secrets.token_urlsafe(16)), ("another session's", other)):
            with p.app.state.sessions() as db:
                before = db.query(AuditEvent).filter(AuditEvent.event != "denied").count()
            data = {"csrf_token": token} if token and method == "POST" else None
            headers = {"X-CSRF-Token": token} if token and method != "POST" else {}
            r = p.clients[kind].request(method, path, data=data, headers=headers, follow_redirects=False)
            with p.app.state.sessions() as db:
                after = db.query(AuditEvent).filter(AuditEvent.event != "denied").count()
            fam.check(r.status_code == 403 and after == before, f"{method} {path} ({label}): {r.status_code}")
    return fam


def injection(p: Platform) -> Family:
    fam = Family("injection")
    siren = p.seed.SEED_COMPANIES["in_alerted"][0]
    client, token = p.clients["agent_a"], p.csrf["agent_a"]
    for payload in PAYLOADS:
        attempts: list[tuple[str, Callable[[], Any]]] = [
            ("api search", lambda payload=payload: client.get("/api/search", params={"q": payload})),
            ("search page", lambda payload=payload: client.get("/recherche", params={"q": payload})),
            ("list filter", lambda payload=payload: client.get("/listes/1", params={"q": payload, "departement": payload})),
            ("list export", lambda payload=payload: client.get("/listes/1/export.csv", params={"q": payload})),
            ("comment", lambda payload=payload: client.post(f"/entreprises/{siren}/commentaires",
                                            data={"csrf_token": token, "message": payload}, follow_redirects=False)),
            ("follow", lambda payload=payload: client.put(f"/api/companies/{siren}/follow", headers={"X-CSRF-Token": token},
                                          json={"category": payload[:64] or "x", "comment": payload[:2000]})),
            ("login", lambda payload=payload: p.anonymous.post("/connexion", data={"email": payload, "password": payload},
                                               follow_redirects=False)),
        ]  # fmt: skip
        for where, call in attempts:
            try:
                r = call()
            except Exception as e:  # a crash of the application inside the test client
                fam.check(False, f"{where} {payload[:30]!r}: {type(e).__name__}")
                continue
            body = r.text
            echoed = any(x in body for x in ("<script>alert(1)</script>", "onerror=alert(1)>")) and "html" in r.headers.get(
                "content-type", "")
            fam.check(r.status_code < 500 and not echoed,
                      f"{where} {payload[:30]!r}: {r.status_code}{' echoed' if echoed else ''}")  # fmt: skip
    with p.app.state.sessions() as db:  # the database is intact
        from signaux_faibles.platform.models import User

        fam.check(db.query(User).count() == len(p.users), "users table changed")
    return fam


def _fuzz_operation(
    operation: Any, headers: dict[str, str], kind: str, examples: int, checks: list[Any]
) -> tuple[int, str | None]:
    """Generated requests on one operation: how many were sent, and the first failure (shrunk) if any."""
    from hypothesis import HealthCheck, given, settings
    from schemathesis.core.failures import FailureGroup

    seen: list[int] = []

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        if case.method != "GET":
            case.headers = {**(case.headers or {}), "X-CSRF-Token": "x"}
        response = case.call(headers=headers)
        seen.append(1)
        try:
            case.validate_response(response, checks=checks)
        except (FailureGroup, AssertionError) as e:
            raise AssertionError(f"{kind} {case.method} {case.path}: {str(e)[:200]}") from None

    try:
        run()
    except Exception as e:  # hypothesis re-raises the first failure, shrunk
        return len(seen), str(e)[:300]
    return len(seen), None


def fuzz(p: Platform, examples: int) -> Family:
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    fam = Family("fuzz")
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", p.app)
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    for kind in [*p.users, "anonymous"]:
        headers = {} if kind == "anonymous" else {"Authorization": f"Bearer {p.tokens[kind]}"}
        for op in schema.get_all_operations():
            tried, failure = _fuzz_operation(op.ok(), headers, kind, examples, checks)
            fam.tried += tried
            if failure:
                fam.failures.append(failure)
    return fam


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fuzz-examples", type=int, default=60)
    ap.add_argument("--work", type=Path, default=Path("/tmp/sf-probes"))
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    sys.path.insert(0, str(ROOT / "tests" / "platform"))
    p = Platform(args.work)
    families = []
    try:
        for run in (access, enumeration, csrf, injection, lambda pl: fuzz(pl, args.fuzz_examples)):
            t0 = time.perf_counter()
            fam = run(p)
            families.append(fam)
            print(f"{fam.name:<12} {fam.tried:>6} inputs tried, {len(fam.failures):>3} failures "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip
            for f in fam.failures[:10]:
                print(f"    {f}")
    finally:
        p.close()
    total = sum(f.tried for f in families)
    failed = sum(len(f.failures) for f in families)
    print(json.dumps({f.name: {"tried": f.tried, "failures": len(f.failures)} for f in families}))
    print(f"platform probes: {total} inputs tried, {failed} failures")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
