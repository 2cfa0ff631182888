"""The API agents and partner systems script against (issue 23): comments, the follow-up case and its measures,
suggestions, « mes entreprises », the list's filters and exports. Same rules as the pages (the same services, the
guard): a refused call answers 403 or 404 and writes nothing.

Positive cases use agent A in its territory; negative ones a missing data right, an unknown or closed company, or
what the policy itself says for a company outside the territory (``policy.allowed``), so that the tests hold
whichever way the territory rule goes.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from seed import SEED_COMPANIES
from sqlalchemy import func, select

from signaux_faibles.platform.accounts import company_facts, issue_token
from signaux_faibles.platform.models import AuditEvent, Case, CaseMeasure, Comment, User
from signaux_faibles.platform.policy import Action, allowed
from signaux_faibles.platform.services.users import actor_of
from signaux_faibles.platform.store.work import SuggestionDecision

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
S = {kind: siren for kind, (siren, _, _) in SEED_COMPANIES.items()}


def _api(app: Any, ids: dict[str, int], kind: str) -> TestClient:
    """A client with ``kind``'s Bearer token (no cookie: no CSRF token needed)."""
    with app.state.sessions() as db:
        token = issue_token(db, db.get(User, ids[kind]))
        db.commit()
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def _count(app: Any, model: Any) -> int:
    with app.state.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _may(app: Any, user_id: int, action: Action, siren: str) -> bool:
    with app.state.sessions() as db:
        actor = actor_of(db, db.get(User, user_id))
        return bool(allowed(actor, action, company_facts(db, actor, siren)))


def test_comments(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    ids = seeded[1]
    a, b = _api(web_app, ids, "agent_a"), _api(web_app, ids, "agent_b")
    siren = S["in_alerted"]
    r = a.post(f"/api/companies/{siren}/comments", json={"body": "Rendez-vous pris."})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["body"] == "Rendez-vous pris." and first["author"]["email"] == "agent.a@urssaf.fr"
    r = a.post(f"/api/companies/{siren}/comments", json={"body": "Réponse", "parent_id": first["id"]})
    assert r.status_code == 201 and r.json()["parent_id"] == first["id"]
    assert a.post(f"/api/companies/{siren}/comments", json={"body": "Deuxième fil"}).status_code == 201
    page = a.get(f"/api/companies/{siren}/comments", params={"size": 1}).json()
    assert (page["total"], page["page"], page["size"]) == (2, 1, 1)
    assert page["items"][0]["id"] == first["id"] and page["items"][0]["replies"][0]["body"] == "Réponse"
    page2 = a.get(f"/api/companies/{siren}/comments", params={"size": 1, "page": 2}).json()
    assert page2["items"][0]["body"] == "Deuxième fil"
    # edit one's own; the service's rules (blank) and the schema's (empty, unknown field)
    r = a.patch(f"/api/comments/{first['id']}", json={"body": "Rendez-vous pris le 3."})
    assert r.status_code == 200 and r.json()["edited_at"] is not None
    assert a.patch(f"/api/comments/{first['id']}", json={"body": "   "}).status_code == 400
    assert a.patch(f"/api/comments/{first['id']}", json={"body": ""}).status_code == 422
    assert a.post(f"/api/companies/{siren}/comments", json={"body": "x", "autre": 1}).status_code == 422
    other = S["both_alerted"]  # in both territories: agent B may comment, not edit agent A's comment
    mine = a.post(f"/api/companies/{other}/comments", json={"body": "Note de A"}).json()
    before = _count(web_app, Comment)
    r = b.patch(f"/api/comments/{mine['id']}", json={"body": "Réécrit par B"})
    assert r.status_code == 403 and r.json() == {"detail": "only the author may edit a comment"}
    assert (
        a.post(f"/api/companies/{other}/comments", json={"body": "x", "parent_id": first["id"]}).status_code
        == 400
    )
    assert a.patch("/api/comments/999999", json={"body": "x"}).status_code == 404
    # a company of a closed région: 404; agent B on a company of agent A's territory: as the policy says
    assert a.get(f"/api/companies/{S['closed_region']}/comments").status_code == 404
    assert a.post(f"/api/companies/{S['closed_region']}/comments", json={"body": "x"}).status_code == 404
    expected = 201 if _may(web_app, ids["agent_b"], Action.COMMENT, S["in_quiet"]) else 403
    r = b.post(f"/api/companies/{S['in_quiet']}/comments", json={"body": "Note de B"})
    assert r.status_code == expected
    assert _count(web_app, Comment) == before + (expected == 201)
    with web_app.state.sessions() as db:
        assert db.get(Comment, mine["id"]).body == "Note de A"


def test_case_and_measures(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    ids = seeded[1]
    a = _api(web_app, ids, "agent_a")
    siren = S["in_alerted"]
    assert a.get(f"/api/companies/{siren}/case").json() == {"siren": siren, "case": None, "decisions": {}}
    r = a.post(f"/api/companies/{siren}/case", json={"difficulties": ["trésorerie"], "summary": "Tension"})
    assert r.status_code == 201, r.text
    case = r.json()["case"]
    assert case["state"] == "in_progress" and case["difficulties"] == ["trésorerie"]
    assert case["referent"]["email"] == "agent.a@urssaf.fr"
    assert a.post(f"/api/companies/{siren}/case", json={}).status_code == 409  # one open case at a time
    r = a.patch(
        f"/api/cases/{case['id']}", json={"state": "under_surveillance", "participant": "agent.b@urssaf.fr"}
    )
    assert r.status_code == 200 and r.json()["case"]["state"] == "under_surveillance"
    assert {p["email"] for p in r.json()["case"]["participants"]} == {
        "agent.a@urssaf.fr",
        "agent.b@urssaf.fr",
    }
    assert a.patch(f"/api/cases/{case['id']}", json={"state": "autre"}).status_code == 422
    r = a.post(f"/api/cases/{case['id']}/measures", json={"measure": "delai_urssaf"})
    assert r.status_code == 201
    (m,) = r.json()["case"]["measures"]
    assert (m["measure"], m["status"], m["label"]) == ("delai_urssaf", "proposed", "Délai de paiement URSSAF")
    assert a.post(f"/api/cases/{case['id']}/measures", json={"measure": "inconnue"}).status_code == 422
    r = a.patch(f"/api/measures/{m['id']}", json={"status": "obtained", "outcome": "12 mois"})
    assert r.json()["case"]["measures"][0]["outcome"] == "12 mois"
    r = a.post(f"/api/cases/{case['id']}/codefi")
    assert r.status_code == 200 and r.json()["case"]["codefi_referred_at"] is not None
    assert [x["measure"] for x in r.json()["case"]["measures"]] == ["delai_urssaf", "codefi"]
    r = a.post(f"/api/companies/{siren}/suggestions", json={"measure": "ccsf", "decision": "confirmed"})
    assert r.status_code == 200 and r.json()["decisions"] == {"ccsf": "confirmed"}
    # refused: unknown ids, a closed région, a suggestion without the score right (nothing written)
    assert a.patch("/api/cases/999999", json={}).status_code == 404
    assert a.patch("/api/measures/999999", json={"status": "obtained"}).status_code == 404
    assert a.post(f"/api/companies/{S['closed_region']}/case", json={}).status_code == 404
    counts = (_count(web_app, Case), _count(web_app, CaseMeasure), _count(web_app, SuggestionDecision))
    no_score = _api(web_app, ids, "no_rights")  # in département 21, without any data right
    r = no_score.post(
        f"/api/companies/{S['in_quiet']}/suggestions", json={"measure": "ccsf", "decision": "confirmed"}
    )
    assert r.status_code == 403 and r.json() == {"detail": "needs the score on this company"}
    b = _api(web_app, ids, "agent_b")
    expected = 200 if _may(web_app, ids["agent_b"], Action.CASE, siren) else 403
    assert b.post(f"/api/cases/{case['id']}/measures", json={"measure": "ccsf"}).status_code in (
        {201} if expected == 200 else {403}
    )
    if expected == 403:
        assert (
            _count(web_app, Case),
            _count(web_app, CaseMeasure),
            _count(web_app, SuggestionDecision),
        ) == counts


def test_my_companies(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    pytest.importorskip("signaux_faibles.platform.services.portfolio")
    a = _api(web_app, seeded[1], "agent_a")
    assert a.put(f"/api/companies/{S['in_quiet']}/follow", json={"category": "Veille"}).status_code == 200
    body = a.get("/api/me/companies").json()
    assert {i["siren"] for i in body["items"]} == {S["out_followed"], S["in_quiet"]} and body["total"] == 2
    first = a.get("/api/me/companies", params={"size": 1}).json()
    assert first["total"] == 2 and len(first["items"]) == 1 and first["items"][0]["siren"] == S["in_quiet"]
    assert a.get("/api/me/companies", params={"size": 501}).status_code == 422
    assert _api(web_app, seeded[1], "agent_b").get("/api/me/companies").json()["items"] == []


def test_list_filters_sort_and_exports(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    ids = seeded[1]
    a = _api(web_app, ids, "agent_a")

    def sirens(**params: Any) -> list[str]:
        r = a.get("/api/lists/1/scores", params=params)
        assert r.status_code == 200, r.text
        return [i["siren"] for i in r.json()["items"]]

    assert sirens() == [S["in_alerted"], S["both_alerted"]]
    assert sirens(tri="raison_sociale", ordre="asc") == [S["both_alerted"], S["in_alerted"]]
    assert sirens(alerte="F2") == [] and sirens(alerte=["F1", "F2"]) == sirens()
    assert sirens(departement="75") == [S["both_alerted"]]
    assert sirens(q="alerted", effectif_min=5, effectif_max=10, secteur="c") == []
    assert sirens(q="in alerted") == [S["in_alerted"]]
    r = a.get("/api/lists/1/scores", params={"size": 1, "page": 2})
    assert (r.json()["total"], r.json()["page"], [i["siren"] for i in r.json()["items"]]) == (
        2,
        2,
        [S["both_alerted"]],
    )
    # validated: 422 naming the parameter, with the page's French message
    r = a.get("/api/lists/1/scores", params={"naf": "5610AB"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "naf"]
    r = a.get("/api/lists/1/scores", params={"effectif_min": 50, "effectif_max": 10})
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == "Le maximum doit être supérieur ou égal au minimum."
    for bad in (
        {"alerte": "F3"},
        {"etat": "autre"},
        {"creation_avant": "2026-13-01"},
        {"size": 501},
        {"tri": "x"},
    ):
        assert a.get("/api/lists/1/scores", params=bad).status_code == 422, bad
    org_admin = _api(web_app, ids, "org_admin")  # the score right, not the URSSAF one
    r = org_admin.get("/api/lists/1/scores", params={"sans_delai": True})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == "Ce filtre demande le droit URSSAF."
    assert "dette_urssaf" not in org_admin.get("/api/lists/1/scores").json()["items"][0]
    assert a.get("/api/lists/1/scores").json()["items"][0]["dette_urssaf"] == 1234.0
    # exports: the page's code, filtered, recorded
    r = a.get("/api/lists/1/export.csv", params={"departement": "75"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and S["both_alerted"] in lines[1] and "Dette URSSAF (€)" in lines[0]
    r = a.get("/api/lists/1/export.xlsx", params={"alerte": "F1"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    with web_app.state.sessions() as db:
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.event == "export").order_by(AuditEvent.id)
        ).all()
    assert [(e.detail["format"], e.detail["filters"]) for e in events] == [
        ("csv", {"departement": ["75"]}),
        ("xlsx", {"alerte": ["F1"]}),
    ]
    no_rights = _api(web_app, ids, "no_rights")
    for path in ("/api/lists/1/export.csv", "/api/lists/1/export.xlsx", "/api/lists/1/scores"):
        assert no_rights.get(path).status_code == 403, path
    assert a.get("/api/lists/999/export.csv").status_code == 404
    assert a.get("/api/lists/1/export.csv", params={"naf": "x"}).status_code == 422
    r = a.get("/api/lists", params={"size": 1})
    assert len(r.json()) == 1 and r.headers["X-Total-Count"] == "1"


def test_browser_session_needs_the_csrf_token(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """Called with the browser session (not a token), every writing route of the work API asks the CSRF header."""
    from seed import login

    client, csrf = login(web_app, "agent_a", seeded[1])
    assert csrf is not None
    siren = S["in_alerted"]
    writes = [
        ("POST", f"/api/companies/{siren}/comments", {"body": "x"}),
        ("PATCH", "/api/comments/1", {"body": "x"}),
        ("POST", f"/api/companies/{siren}/case", {}),
        ("PATCH", "/api/cases/1", {}),
        ("POST", "/api/cases/1/measures", {"measure": "ccsf"}),
        ("PATCH", "/api/measures/1", {"status": "obtained"}),
        ("POST", "/api/cases/1/codefi", None),
        ("POST", f"/api/companies/{siren}/suggestions", {"measure": "ccsf", "decision": "discarded"}),
    ]
    before = (_count(web_app, Comment), _count(web_app, Case))
    for method, url, body in writes:
        for headers in ({}, {"X-CSRF-Token": "wrong"}):
            r = client.request(method, url, json=body, headers=headers)
            assert r.status_code == 403 and "CSRF" in r.text, (method, url, r.status_code)
    assert (_count(web_app, Comment), _count(web_app, Case)) == before
    r = client.post(
        f"/api/companies/{siren}/comments", json={"body": "Avec le jeton"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 201


def test_list_changes_filters_and_paging(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    from test_changes import _changes

    _changes(web_app)
    a = _api(web_app, seeded[1], "agent_a")
    every = a.get("/api/lists/1/changes").json()
    assert every["total"] == len(every["items"]) >= 3
    first = a.get("/api/lists/1/changes", params={"size": 1, "page": 2}).json()
    assert (first["total"], first["page"], first["size"]) == (every["total"], 2, 1)
    assert first["items"] == every["items"][1:2]
    r = a.get("/api/lists/1/changes", params={"q": "in alerted"}).json()
    assert [i["siren"] for i in r["items"]] == [S["in_alerted"]]
    assert a.get("/api/lists/1/changes", params={"secteur": "Z"}).status_code == 422
    assert a.get("/api/lists/1/changes", params={"secteur": "C"}).json()["items"] == []
    a.put(f"/api/companies/{S['in_alerted']}/follow", json={"category": "Veille"})
    r = a.get("/api/lists/1/changes", params={"exclure_suivies": True}).json()
    assert S["in_alerted"] not in {i["siren"] for i in r["items"]} and r["total"] == every["total"] - 1
