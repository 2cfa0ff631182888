"""Every route × every kind of actor × every company case gives what the access policy says.

The expected answers are computed from the seed's *definitions* (territories, alerts, follows, open régions) with
``policy.allowed`` — not from what the database layer derives — and the policy itself is pinned by the golden V/A/F
cases (``test_policy.py``). ``test_every_route_is_covered`` fails when a route is added without a row in ``ROUTES``.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from seed import SEED_COMPANIES, SEED_USERS, login
from sqlalchemy import select

from signaux_faibles.platform.models import AuditEvent, User
from signaux_faibles.platform.policy import (
    Action,
    Actor,
    CompanyFacts,
    OrganisationRef,
    Territory,
    allowed,
    visible,
)

ACTORS = ("anonymous", *SEED_USERS)
OPEN_REGIONS = {"27", "11"}
BLOCKS = {
    "scores": Action.VIEW_SCORE,
    "urssaf": Action.VIEW_URSSAF,
    "dgefp": Action.VIEW_DGEFP,
    "bdf": Action.VIEW_BDF,
}

#: Every route of the application and the rule that covers it (a new route must be added here).
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/"): "home",
    ("GET", "/sante"): "public",
    ("GET", "/connexion"): "public",
    ("POST", "/connexion"): "login (test_web_auth)",
    ("GET", "/connexion/code"): "login (test_web_auth)",
    ("POST", "/connexion/code"): "login (test_web_auth)",
    ("GET", "/avis"): "notice (test_web_auth)",
    ("POST", "/avis"): "notice (test_web_auth)",
    ("POST", "/deconnexion"): "logout (test_web_auth)",
    ("POST", "/deconnexion-partout"): "logout (test_web_auth)",
    ("GET", "/sso/connexion"): "sso (test_sso)",
    ("GET", "/sso/retour"): "sso (test_sso)",
    ("GET", "/api/openapi.json"): "public",
    ("GET", "/api/docs"): "public",
    ("GET", "/api/me"): "authenticated",
    ("GET", "/listes"): "authenticated",
    ("GET", "/api/lists"): "authenticated",
    ("GET", "/mes-entreprises"): "authenticated",
    ("GET", "/mes-entreprises/export.xlsx"): "portfolio (test_portfolio)",
    ("GET", "/mes-entreprises/export.docx"): "portfolio (test_portfolio)",
    ("GET", "/portefeuille"): "portfolio (test_portfolio)",
    ("GET", "/portefeuille/export.xlsx"): "portfolio (test_portfolio)",
    ("GET", "/portefeuille/export.docx"): "portfolio (test_portfolio)",
    ("GET", "/compte"): "authenticated",
    ("GET", "/listes/{list_id}"): "list",
    ("GET", "/api/lists/{list_id}/scores"): "list",
    ("GET", "/api/lists/{list_id}/changes"): "list",
    ("GET", "/api/lists/{list_id}/export.csv"): "list",
    ("GET", "/api/lists/{list_id}/export.xlsx"): "list",
    ("GET", "/api/me/companies"): "portfolio (test_api_work)",
    ("GET", "/api/companies/{siren}/comments"): "work (test_api_work)",
    ("POST", "/api/companies/{siren}/comments"): "work (test_api_work)",
    ("PATCH", "/api/comments/{comment_id}"): "work (test_api_work)",
    ("GET", "/api/companies/{siren}/case"): "work (test_api_work)",
    ("POST", "/api/companies/{siren}/case"): "work (test_api_work)",
    ("PATCH", "/api/cases/{case_id}"): "work (test_api_work)",
    ("POST", "/api/cases/{case_id}/measures"): "work (test_api_work)",
    ("PATCH", "/api/measures/{measure_id}"): "work (test_api_work)",
    ("POST", "/api/cases/{case_id}/codefi"): "work (test_api_work)",
    ("POST", "/api/companies/{siren}/suggestions"): "work (test_api_work)",
    ("GET", "/listes/{list_id}/evolutions"): "list",
    ("GET", "/listes/{list_id}/export.csv"): "list",
    ("GET", "/listes/{list_id}/export.xlsx"): "list",
    ("GET", "/tableau-de-bord"): "authenticated",
    ("GET", "/recherche"): "search",
    ("GET", "/api/search"): "search",
    ("GET", "/entreprises/{siren}"): "company",
    ("GET", "/api/companies/{siren}"): "company",
    ("GET", "/etablissements/{siret}"): "company",
    ("GET", "/api/establishments/{siret}"): "company",
    ("POST", "/entreprises/{siren}/suivre"): "follow",
    ("PUT", "/api/companies/{siren}/follow"): "follow",
    ("POST", "/entreprises/{siren}/ne-plus-suivre"): "unfollow",
    ("DELETE", "/api/companies/{siren}/follow"): "unfollow",
    ("GET", "/admin/audit"): "admin",
    ("GET", "/admin/statistiques"): "admin",
    ("GET", "/admin/exploitation"): "admin",
    ("GET", "/admin/exploitation/quarantaine/{batch}.csv"): "admin",
    ("GET", "/admin/utilisateurs"): "manage",
    ("POST", "/admin/utilisateurs/{user_id}/confirmer"): "manage_user",
    ("POST", "/admin/utilisateurs/{user_id}/desactiver"): "manage_user",
    ("GET", "/entreprises/{siren}/commentaires"): "work",
    ("POST", "/entreprises/{siren}/commentaires"): "work",
    ("POST", "/commentaires/{comment_id}"): "work",
    ("POST", "/entreprises/{siren}/accompagnement"): "work",
    ("POST", "/accompagnements/{case_id}"): "work",
    ("POST", "/accompagnements/{case_id}/mesures"): "work",
    ("POST", "/accompagnements/{case_id}/codefi"): "work",
    ("POST", "/mesures/{measure_id}"): "work",
    ("POST", "/entreprises/{siren}/suggestions"): "work",
    ("GET", "/entreprises/{siren}/dossier.docx"): "work",
    ("GET", "/admin/codefi"): "codefi",
    ("POST", "/admin/codefi"): "codefi",
}


def _actor(kind: str, ids: dict[str, int]) -> Actor:
    if kind == "anonymous":
        return Actor.anonymous()
    _, org, territory, rights, role = SEED_USERS[kind]
    return Actor(user_id=ids[kind], organisation=org, territory=Territory.parse(territory),
                 rights=frozenset(r for r in rights.split(",") if r), role=role)  # fmt: skip


def _facts(kind: str, company: str) -> CompanyFacts:
    siren, etabs, alert = SEED_COMPANIES[company]
    return CompanyFacts(
        siren,
        tuple((d, r) for _, d, r in etabs),
        alerted=alert != "Pas d'alerte",
        followed=kind == "agent_a" and company == "out_followed",
        open=any(r in OPEN_REGIONS for _, _, r in etabs),
    )


_login = login


def _expect_login(r: Any, api: bool) -> None:
    if api:
        assert r.status_code == 401, (r.request.url, r.status_code)
    else:
        assert r.status_code == 303 and r.headers["location"].startswith("/connexion"), (
            r.request.url,
            r.status_code,
        )


def _events(app: Any, user_id: int, event: str, siren: str | None = None) -> int:
    with app.state.sessions() as db:
        q = select(AuditEvent).where(AuditEvent.user_id == user_id, AuditEvent.event == event)
        if siren:
            q = q.where(AuditEvent.siren == siren)
        return len(db.scalars(q).all())


def _flat_routes(routes: Any) -> list[Any]:
    """The application's routes, included routers flattened (FastAPI keeps them as ``_IncludedRouter``)."""
    out = []
    for r in routes:
        if hasattr(r, "effective_candidates"):
            out += _flat_routes(r.effective_candidates())
        else:
            out.append(r)
    return out


def test_every_route_is_covered(web_app: Any) -> None:
    routes = set()
    flat = _flat_routes(web_app.routes)
    for r in flat:
        methods = getattr(r, "methods", None)
        if methods is None:  # the /static mount
            continue
        for m in methods - {"HEAD"}:
            routes.add((m, r.path))
    assert routes - set(ROUTES) == set(), "routes without a row in ROUTES (add them to the matrix)"
    assert set(ROUTES) - routes == set(), "rows of ROUTES that are no longer routes"
    # every API operation is in the OpenAPI document
    api = {(m, r.path) for r in flat if getattr(r, "include_in_schema", False) and r.path.startswith("/api/")
           for m in r.methods}  # fmt: skip
    documented = {(m.upper(), p) for p, ops in web_app.openapi()["paths"].items() for m in ops}
    assert api == documented


@pytest.mark.parametrize("kind", ACTORS)
def test_company_routes(web_app: Any, seeded: tuple[str, dict[str, int]], kind: str) -> None:
    ids = seeded[1]
    client, _ = _login(web_app, kind, ids)
    actor = _actor(kind, ids)
    for company, (siren, etabs, _) in SEED_COMPANIES.items():
        facts = _facts(kind, company)
        for path, api in ((f"/api/companies/{siren}", True), (f"/entreprises/{siren}", False),
                          (f"/api/establishments/{etabs[-1][0]}", True), (f"/etablissements/{etabs[-1][0]}", False)):  # fmt: skip
            r = client.get(path, follow_redirects=False)
            if kind == "anonymous":
                _expect_login(r, api)
                continue
            if not facts.open:
                assert r.status_code == 404, (kind, company, path)
                continue
            view = allowed(actor, Action.VIEW_COMPANY, facts)
            assert r.status_code == (200 if view else 403), (kind, company, path, r.status_code)
            if not view or "/etablissements" in path or "/establishments" in path:
                continue
            if api:
                body = r.json()
                assert body["siren"] == siren and body["in_territory"] == (not view.out_of_territory)
                for block, action in BLOCKS.items():
                    shown = bool(allowed(actor, action, facts))
                    assert (block in body) == shown, (kind, company, block)
                    assert body["permissions"][block] == shown
            else:
                assert ('id="score-hidden"' in r.text) == (not allowed(actor, Action.VIEW_SCORE, facts)), (
                    kind,
                    company,
                )
        if kind == "anonymous" or not facts.open or not allowed(actor, Action.VIEW_COMPANY, facts):
            continue
        # nothing confidential is served without its audit events
        assert _events(web_app, ids[kind], "company_viewed", siren) >= 2
        confidential = any(allowed(actor, a, facts) for a in BLOCKS.values())
        assert (_events(web_app, ids[kind], "confidential_shown", siren) >= 2) == confidential
        outside = bool(allowed(actor, Action.VIEW_COMPANY, facts).out_of_territory)
        assert (_events(web_app, ids[kind], "out_of_territory", siren) > 0) == outside
    if kind != "anonymous":
        assert _events(web_app, ids[kind], "denied") > 0 or all(
            allowed(actor, Action.VIEW_COMPANY, _facts(kind, c)) or not _facts(kind, c).open
            for c in SEED_COMPANIES
        )


def _sirens(body: Any) -> set[str]:
    return set(re.findall(r"\b\d{9}\b", str(body)))


@pytest.mark.parametrize("kind", ACTORS)
def test_list_search_and_account_routes(web_app: Any, seeded: tuple[str, dict[str, int]], kind: str) -> None:
    ids = seeded[1]
    client, _ = _login(web_app, kind, ids)
    actor = _actor(kind, ids)
    shown = {
        s
        for c, (s, _, _) in SEED_COMPANIES.items()
        if visible(actor, _facts(kind, c))  # what lists show: in the territory or followed
    }
    listed = {s for c, (s, _, a) in SEED_COMPANIES.items() if s in shown and a != "Pas d'alerte"}
    score = "score" in actor.rights
    for path, api in (("/api/me", True), ("/api/lists", True), ("/listes", False), ("/mes-entreprises", False),
                      ("/compte", False), ("/", False), ("/tableau-de-bord", False)):  # fmt: skip
        r = client.get(path, follow_redirects=False)
        if kind == "anonymous":
            _expect_login(r, api)
        elif path == "/":
            assert r.status_code == 303 and r.headers["location"] == "/listes"
        else:
            assert r.status_code == 200, (kind, path)
    if kind != "anonymous":
        lists = client.get("/api/lists").json()
        assert lists[0]["total"] == (len(listed) if score else None)
    for path, api in (("/api/lists/1/scores", True), ("/listes/1", False), ("/listes/1/export.csv", False),
                      ("/listes/1/export.xlsx", False)):  # fmt: skip
        r = client.get(path, follow_redirects=False)
        if kind == "anonymous":
            _expect_login(r, api)
            continue
        assert r.status_code == (200 if score else 403), (kind, path)
        if score:
            if path.endswith(".xlsx"):
                import io

                import openpyxl

                sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
                got = {
                    str(v)
                    for row in sheet.iter_rows(values_only=True)
                    for v in row
                    if v and re.fullmatch(r"\d{9}", str(v))
                }
            else:
                got = _sirens(r.json()) if api else _sirens(r.text)
            assert got == listed, (kind, path)
    assert client.get("/api/lists/999/scores").status_code == (401 if kind == "anonymous" else 404)
    for path, api in (("/api/lists/1/changes", True), ("/listes/1/evolutions", False)):
        r = client.get(path, follow_redirects=False)
        if kind == "anonymous":
            _expect_login(r, api)
            continue
        assert r.status_code == (200 if score else 403), (kind, path)
    assert client.get("/api/lists/999/changes").status_code == (401 if kind == "anonymous" else 404)
    for path, api in (
        ("/api/search?q=SOCIETE", True),
        ("/recherche?q=SOCIETE", False),
        ("/api/search?q=55555555500029", True),
    ):
        r = client.get(path, follow_redirects=False)
        if kind == "anonymous":
            _expect_login(r, api)
            continue
        assert r.status_code == 200
        got = (
            _sirens(r.json())
            if api
            else {s for s in _sirens(r.text) if s in {v[0] for v in SEED_COMPANIES.values()}}
        )
        want = shown if "SOCIETE" in path else shown & {"555555555"}
        assert got == want, (kind, path)
    if kind != "anonymous":
        assert _events(web_app, ids[kind], "search") == 3


@pytest.mark.parametrize("kind", ACTORS)
def test_admin_routes(web_app: Any, seeded: tuple[str, dict[str, int]], kind: str) -> None:
    ids = seeded[1]
    client, csrf = _login(web_app, kind, ids)
    actor = _actor(kind, ids)
    for path in ("/admin/audit", "/admin/statistiques", "/admin/exploitation",
                 "/admin/exploitation/quarantaine/2609.csv", "/admin/utilisateurs"):  # fmt: skip
        r = client.get(path, follow_redirects=False)
        if kind == "anonymous":
            _expect_login(r, False)
            continue
        if path == "/admin/utilisateurs":
            ok = allowed(actor, Action.MANAGE_USERS, OrganisationRef(actor.organisation))
        else:
            ok = allowed(actor, Action.ADMIN)
        assert r.status_code == (200 if ok else 403), (kind, path)
    # managing an agent: the platform admin, or the admin of the agent's organisation
    for target in ("agent_b", "no_rights"):
        facts = OrganisationRef(SEED_USERS[target][1])
        ok = kind != "anonymous" and allowed(actor, Action.MANAGE_USERS, facts)
        r = client.post(f"/admin/utilisateurs/{ids[target]}/confirmer", data={"csrf_token": csrf or ""},
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == (303 if ok else 403), (kind, target, r.status_code)
        assert r.status_code != 303 or r.headers["location"] == "/admin/utilisateurs"
    if kind == "org_admin":
        with web_app.state.sessions() as db:
            assert db.scalar(select(User.reviewed_by).where(User.id == ids["agent_b"])) == ids["org_admin"]
            assert db.scalar(select(User.reviewed_by).where(User.id == ids["no_rights"])) is None


@pytest.mark.parametrize("kind", ACTORS)
def test_follow_routes(web_app: Any, seeded: tuple[str, dict[str, int]], kind: str) -> None:
    ids = seeded[1]
    client, csrf = _login(web_app, kind, ids)
    actor = _actor(kind, ids)
    headers = {"X-CSRF-Token": csrf or ""}
    for company, (siren, _, _) in SEED_COMPANIES.items():
        facts = _facts(kind, company)
        want = (
            401
            if kind == "anonymous"
            else 404
            if not facts.open
            else 200
            if allowed(actor, Action.FOLLOW, facts)
            else 403
        )
        r = client.put(f"/api/companies/{siren}/follow", json={"category": "Veille"}, headers=headers)
        if kind == "anonymous":  # no session: refused before anything (CSRF or authentication)
            assert r.status_code in (401, 403)
            continue
        assert r.status_code == want, (kind, company, r.status_code)
        want_page = 303 if want == 200 else want
        r = client.post(f"/entreprises/{siren}/suivre", data={"csrf_token": csrf, "category": "Veille"},
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == want_page, (kind, company, r.status_code)
        if want == 200:
            assert (
                client.delete(f"/api/companies/{siren}/follow", headers=headers).json()["followed"] is False
            )
            r = client.post(
                f"/entreprises/{siren}/ne-plus-suivre", data={"csrf_token": csrf}, follow_redirects=False
            )
            assert r.status_code == 303


def test_every_state_changing_route_needs_csrf(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """A logged-in browser without (or with a wrong) CSRF token is refused on every POST/PUT/DELETE route."""
    ids = seeded[1]
    client, _csrf = _login(web_app, "admin", ids)
    unsafe = [(m, p) for m, p in ROUTES if m in ("POST", "PUT", "DELETE")]
    assert len(unsafe) >= 10
    for method, path in unsafe:
        url = path.format(
            siren="111111111", user_id=ids["agent_b"], list_id=1, comment_id=1, case_id=1, measure_id=1
        )
        for token in (None, "wrong-token"):
            data = {"csrf_token": token} if token else {}
            r = client.request(method, url, data=data, follow_redirects=False)
            assert r.status_code == 403 and "CSRF" in r.text, (method, url, token, r.status_code)
    # an API token without cookies is not subject to CSRF (a browser never sends that header by itself)
    from signaux_faibles.platform.accounts import issue_token

    with web_app.state.sessions() as db:
        token = issue_token(db, db.get(User, ids["agent_a"]))
        db.commit()
    r = TestClient(web_app).put("/api/companies/111111111/follow", json={"category": "Veille"},
                                headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert r.status_code == 200


def _seed_work(app: Any, ids: dict[str, int]) -> dict[str, dict[str, int]]:
    """On every company: a comment by agent A and a case (with one measure) opened by agent A."""
    from signaux_faibles.platform.services.work import add_comment, add_measure, open_case

    out = {}
    with app.state.sessions() as db:
        author = db.get(User, ids["agent_a"])
        for company, (siren, _, _) in SEED_COMPANIES.items():
            c = add_comment(db, author, siren, f"Note sur {company}")
            case = open_case(db, author, siren, ["trésorerie"])
            m = add_measure(db, author, case, "delai_urssaf")
            out[company] = {"comment": c.id, "case": case.id, "measure": m.id}
        db.commit()
    return out


@pytest.mark.parametrize("kind", ACTORS)
def test_work_routes(web_app: Any, seeded: tuple[str, dict[str, int]], kind: str) -> None:
    """Comments, cases, measures, suggestions, dossier: the COMMENT / CASE / VIEW_COMPANY rules of the policy."""
    ids = seeded[1]
    work = _seed_work(web_app, ids)
    client, csrf = _login(web_app, kind, ids)
    actor = _actor(kind, ids)
    form = {"csrf_token": csrf or ""}
    for company, (siren, _, _) in SEED_COMPANIES.items():
        facts = _facts(kind, company)
        w = work[company]

        def want(action: Action, ok_status: int, facts: CompanyFacts = facts) -> int:
            if kind == "anonymous":
                return -1
            if not facts.open:
                return 404
            return ok_status if allowed(actor, action, facts) else 403

        checks: list[tuple[str, str, dict[str, Any], int]] = [
            ("GET", f"/entreprises/{siren}/commentaires", {}, want(Action.VIEW_WORK, 200)),
            ("GET", f"/entreprises/{siren}/dossier.docx", {}, want(Action.VIEW_COMPANY, 200)),
            ("POST", f"/entreprises/{siren}/commentaires", {"body": "Vu"}, want(Action.COMMENT, 303)),
            (
                "POST",
                f"/accompagnements/{w['case']}",
                {"state": "under_surveillance"},
                want(Action.CASE, 303),
            ),
            ("POST", f"/accompagnements/{w['case']}/mesures", {"measure": "ccsf"}, want(Action.CASE, 303)),
            ("POST", f"/mesures/{w['measure']}", {"status": "obtained"}, want(Action.CASE, 303)),
            ("POST", f"/accompagnements/{w['case']}/codefi", {}, want(Action.CASE, 303)),
        ]
        score_ok = bool(allowed(actor, Action.VIEW_SCORE, facts)) and bool(allowed(actor, Action.CASE, facts))
        suggestion = -1 if kind == "anonymous" else 404 if not facts.open else 303 if score_ok else 403
        checks.append(
            (
                "POST",
                f"/entreprises/{siren}/suggestions",
                {"measure": "ccsf", "decision": "discarded"},
                suggestion,
            )
        )
        # only the author edits a comment (agent A wrote them all)
        author_ok = kind == "agent_a" and facts.open and allowed(actor, Action.COMMENT, facts)
        edit = -1 if kind == "anonymous" else 404 if not facts.open else 303 if author_ok else 403
        checks.append(("POST", f"/commentaires/{w['comment']}", {"body": "Corrigé"}, edit))
        for method, path, fields, expected in checks:
            r = client.request(
                method, path, data={**form, **fields} if method == "POST" else None, follow_redirects=False
            )
            if expected == -1:  # anonymous: login page, or refused for lack of a CSRF token
                assert r.status_code in (303, 403) and (
                    r.status_code == 403 or "/connexion" in r.headers["location"]
                )
                continue
            assert r.status_code == expected, (kind, company, method, path, r.status_code, r.text[:200])
        # a case can be opened once the previous one is completed
        r = client.post(f"/entreprises/{siren}/accompagnement", data=form, follow_redirects=False)
        if kind != "anonymous":
            opened = want(Action.CASE, 409)
            assert r.status_code == opened, (kind, company, r.status_code)
    if kind == "agent_a":
        # the dossier export is audited; the docx holds only what the page may show
        assert _events(web_app, ids[kind], "export") >= 4


@pytest.mark.parametrize("kind", ACTORS)
def test_codefi_import_route(web_app: Any, seeded: tuple[str, dict[str, int]], kind: str) -> None:
    ids = seeded[1]
    client, csrf = _login(web_app, kind, ids)
    ok = kind != "anonymous" and allowed(_actor(kind, ids), Action.IMPORT_CODEFI)
    r = client.get("/admin/codefi", follow_redirects=False)
    if kind == "anonymous":
        _expect_login(r, False)
        return
    assert r.status_code == (200 if ok else 403)
    content = b"siren;motif\n111111111;dette fiscale\n12345;court\n333333333;\n"
    r = client.post(
        "/admin/codefi", data={"csrf_token": csrf}, files={"file": ("codefi.csv", content, "text/csv")}
    )
    assert r.status_code == (200 if ok else 403)
    if ok:
        assert "2 SIREN" in r.text and "ligne 3" in r.text  # the bad line is reported, not dropped silently
        # the flag shows on the company page to those who may see the score
        agent, _ = _login(web_app, "agent_a", ids)
        assert 'id="codefi-flag"' in agent.get("/entreprises/111111111").text
        nobody, _ = _login(web_app, "no_rights", ids)
        assert 'id="codefi-flag"' not in nobody.get("/entreprises/111111111").text
