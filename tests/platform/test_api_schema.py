"""Property-based tests of the REST API with schemathesis, on SQLite and PostgreSQL.

Every operation of ``/api/openapi.json`` is exercised with generated requests (valid and invalid ones), as agent A
(a Bearer token) and anonymously, and each answer is checked against the schema (no server error, documented status
code, content type and body) and against the access policy, asked at each answer (``policy.allowed``: the tests
hold whichever way its rules go): no answer carries a company agent A may not see, a company-scoped operation
answers only where the policy allows its action, and the confidential blocks of a company appear only where agent
A holds them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from seed import SEED_COMPANIES
from sqlalchemy import select

from signaux_faibles.platform.accounts import company_facts, issue_token
from signaux_faibles.platform.models import Follow, User
from signaux_faibles.platform.policy import Action, allowed, visible
from signaux_faibles.platform.services.users import actor_of

SCHEMA_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
HYPOTHESIS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

SIREN = {kind: siren for kind, (siren, _, _) in SEED_COMPANIES.items()}
SIRETS = [siret for _, etabs, _ in SEED_COMPANIES.values() for siret, _, _ in etabs]
DIGITS = re.compile(r"^\d{9}(\d{5})?$")
#: The confidential blocks of a company and the action that opens each.
BLOCKS = {"scores": Action.VIEW_SCORE, "urssaf": Action.VIEW_URSSAF, "dgefp": Action.VIEW_DGEFP,
          "bdf": Action.VIEW_BDF}  # fmt: skip
#: The action a company-scoped operation needs (its SIREN or SIRET in the path).
SCOPED = {
    ("GET", "/api/companies/{siren}"): Action.VIEW_COMPANY,
    ("GET", "/api/establishments/{siret}"): Action.VIEW_COMPANY,
    ("PUT", "/api/companies/{siren}/follow"): Action.FOLLOW,
    ("GET", "/api/companies/{siren}/comments"): Action.VIEW_WORK,
    ("POST", "/api/companies/{siren}/comments"): Action.COMMENT,
    ("GET", "/api/companies/{siren}/case"): Action.VIEW_WORK,
    ("POST", "/api/companies/{siren}/case"): Action.CASE,
    ("POST", "/api/companies/{siren}/suggestions"): Action.CASE,
}
#: The action an operation on a comment, case or measure (by its id) needs on the company it names.
BY_ID = {"/api/comments/{comment_id}": Action.COMMENT, "/api/cases/{case_id}": Action.CASE,
         "/api/cases/{case_id}/measures": Action.CASE, "/api/cases/{case_id}/codefi": Action.CASE,
         "/api/measures/{measure_id}": Action.CASE}  # fmt: skip


@pytest.fixture
def api_schema(web_app: Any) -> Any:
    """The API's schema, loaded from the application (requests go through its ASGI interface)."""
    return schemathesis.openapi.from_asgi("/api/openapi.json", web_app)


@pytest.fixture
def agent_a(web_app: Any, seeded: tuple[str, dict[str, int]]) -> Iterator[dict[str, Any]]:
    """Agent A's Bearer header, id and the application (to ask the policy while the tests change its follows)."""
    with web_app.state.sessions() as db:
        token = issue_token(db, db.get(User, seeded[1]["agent_a"]))
        db.commit()
    yield {"headers": {"Authorization": f"Bearer {token}"}, "id": seeded[1]["agent_a"], "app": web_app}


def _followed(agent: dict[str, Any]) -> set[str]:
    with agent["app"].state.sessions() as db:
        return set(
            db.scalars(select(Follow.siren).where(Follow.user_id == agent["id"], Follow.active.is_(True)))
        )


def _sirens(node: Any) -> Iterator[str]:
    """Every SIREN a JSON document names: the values of its ``siren`` and ``siret`` keys (a SIRET's 9 first digits)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("siren", "siret") and isinstance(v, str) and DIGITS.match(v):
                yield v[:9]
            else:
                yield from _sirens(v)
    elif isinstance(node, list):
        for v in node:
            yield from _sirens(v)


class Policy:
    """Agent A as the policy sees it now (its follows change during the tests): what it may do on a company."""

    def __init__(self, agent: dict[str, Any]) -> None:
        self.db = agent["app"].state.sessions()
        self.actor = actor_of(self.db, self.db.get(User, agent["id"]))

    def __enter__(self) -> Policy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    def facts(self, siren: str) -> Any:
        return company_facts(self.db, self.actor, siren)

    def may(self, action: Action, siren: str) -> bool:
        facts = self.facts(siren)
        return facts is not None and bool(allowed(self.actor, action, facts))

    def sees(self, siren: str) -> bool:
        """What lists and the territory search show: in the territory or followed (``policy.visible``)."""
        facts = self.facts(siren)
        return facts is not None and visible(self.actor, facts)


def _check(p: Policy, case: Any, body: Any) -> None:
    path, method = case.operation.path, case.method.upper()
    params = case.path_parameters or {}
    named = params.get("siren") or (params.get("siret") or "")[:9]
    if (method, path) in SCOPED:
        assert p.may(SCOPED[method, path], named), f"{method} {path}: answered for {named}"
        if path == "/api/companies/{siren}":
            shown = [b for b in BLOCKS if b in body]
            assert all(p.may(BLOCKS[b], named) for b in shown), f"blocks {shown} shown for {named}"
    elif path in BY_ID:
        assert p.may(BY_ID[path], body["siren"]), f"{method} {path}: answered for {body['siren']}"
    elif path == "/api/search":
        for hit in body:  # a national search names companies outside the view, with their identity only
            assert (
                p.sees(hit["siren"]) if hit["visible"] else (hit["alert"], hit["procedure"]) == (None, None)
            )
    elif path == "/api/me/companies":
        assert {i["siren"] for i in body["items"]} <= _followed_now(p)
    elif path != "/api/companies/{siren}/follow":  # DELETE: one's own follow, whatever the company
        leaked = {s for s in _sirens(body) if not p.sees(s)}
        assert not leaked, f"{method} {case.formatted_path}: SIRENs outside agent A's view: {leaked}"


def _followed_now(p: Policy) -> set[str]:
    return set(
        p.db.scalars(select(Follow.siren).where(Follow.user_id == p.actor.user_id, Follow.active.is_(True)))
    )


def rights_check(agent: dict[str, Any]) -> Any:
    """The check "no answer outside agent A's rights", as the policy decides them (a schemathesis check)."""

    def no_response_outside_rights(ctx: Any, response: Any, case: Any) -> bool | None:
        if (
            response.status_code not in (200, 201)
            or "json" not in response.headers.get("content-type", [""])[0]
        ):
            return None
        with Policy(agent) as p:
            _check(p, case, response.json())
        return None

    return no_response_outside_rights


#: Values of the parameters that name seeded objects: half of the valid cases use one (with the rest generated).
SEEDS: dict[str, list[Any]] = {
    "siren": list(SIREN.values()),
    "siret": SIRETS,
    "list_id": [1],
    "comment_id": [1, 2],
    "case_id": [1],
    "measure_id": [1],
    "q": [*SIREN.values(), SIRETS[-1], "SOCIETE", "societe in", "1111", "3333", "6666"],
}


def _strategy(op: Any, mode: GenerationMode) -> Any:
    """Generated cases of ``op``; the valid ones, half of the time, on a seeded SIREN, SIRET, list or search."""
    generated = op.as_strategy(generation_mode=mode)
    if mode is not GenerationMode.POSITIVE:
        return generated

    def on(loc: str, name: str) -> Any:
        return st.sampled_from(SEEDS[name]).flatmap(
            lambda v: op.as_strategy(generation_mode=mode, **{loc: {name: v}})
        )

    seeded = [
        on(loc, p.name)
        for loc, params in (("path_parameters", op.path_parameters), ("query", op.query))
        for p in params
        if p.name in SEEDS
    ]
    return st.one_of(generated, *seeded) if seeded else generated


def _fuzz(api_schema: Any, test: Callable[[Any], None], max_examples: int = 30) -> list[str]:
    """Run ``test`` on generated cases of every operation, valid then invalid: the failures, one line each.

    (``schemathesis.pytest.from_fixture`` would do the same, but its lazy loader breaks on pytest 9.2.)
    """
    failures, n = [], 0
    operations = [r.ok() for r in api_schema.get_all_operations()]
    assert len(operations) >= 22, [op.label for op in operations]
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(HYPOTHESIS, max_examples=max_examples)
            @given(case=_strategy(op, mode))
            def run(case: Any) -> None:
                nonlocal n
                n += 1
                test(case)

            try:
                run()
            except Unsatisfiable:  # no invalid request exists (an operation without parameters nor body)
                assert mode is GenerationMode.NEGATIVE and not op.path_parameters and not op.query, op.label
            except (Exception, FailureGroup) as e:  # failed checks, after shrinking: report them all at once
                failures.append(f"{op.label} [{mode.value}]: {type(e).__name__}: {str(e)[:2000]}")
    print(f"{n} generated cases over {len(operations)} operations")
    return failures


def test_api_as_agent(api_schema: Any, agent_a: dict[str, Any]) -> None:
    """Generated requests as agent A: schema conformance and no answer outside agent A's rights."""
    check = rights_check(agent_a)

    def test(case: Any) -> None:
        case.call_and_validate(
            headers=dict(agent_a["headers"]), checks=SCHEMA_CHECKS, additional_checks=[check]
        )

    failures = _fuzz(api_schema, test, max_examples=15)
    assert not failures, "\n\n".join(failures)


def test_api_anonymous(api_schema: Any) -> None:
    """Generated requests without a token, or with an invalid one: never an answer, never a server error."""

    def test(case: Any) -> None:
        for headers in ({}, {"Authorization": "Bearer sf_not-a-token"}):  # two calls: fewer cases
            response = case.call_and_validate(headers=headers, checks=SCHEMA_CHECKS)
            assert response.status_code in (400, 401, 403, 422), (
                f"{case.method} {case.formatted_path} {headers}: {response.status_code} {response.text[:200]}"
            )

    failures = _fuzz(api_schema, test, max_examples=10)
    assert not failures, "\n\n".join(failures)


def _expected(p: Policy, action: Action, siren: str) -> int:
    """The status the policy gives ``action`` on ``siren``: 404 for a company of a closed région."""
    facts = p.facts(siren)
    if facts is None or not facts.open:
        return 404
    return 200 if allowed(p.actor, action, facts) else 403


def test_api_known_companies(api_schema: Any, agent_a: dict[str, Any]) -> None:
    """The seeded companies, establishments and list through every operation: the policy decides each answer."""
    check = rights_check(agent_a)

    def call(path: str, method: str = "GET", **kw: Any) -> Any:
        case = api_schema[path][method].Case(**kw)
        return case.call_and_validate(
            headers=dict(agent_a["headers"]), checks=SCHEMA_CHECKS, additional_checks=[check]
        )

    for siren in SIREN.values():
        r = call("/api/companies/{siren}", path_parameters={"siren": siren})
        with Policy(agent_a) as p:
            assert r.status_code == _expected(p, Action.VIEW_COMPANY, siren), (siren, r.status_code)
            if r.status_code == 200:
                assert [b for b in BLOCKS if b in r.json()] == [b for b in BLOCKS if p.may(BLOCKS[b], siren)]
            r = call("/api/search", query={"q": siren})
            assert [c["siren"] for c in r.json()] == ([siren] if p.sees(siren) else [])
    for siret in SIRETS:
        r = call("/api/establishments/{siret}", path_parameters={"siret": siret})
        with Policy(agent_a) as p:
            assert r.status_code == _expected(p, Action.VIEW_COMPANY, siret[:9]), (siret, r.status_code)
    with Policy(agent_a) as p:
        seen = {s for s in SIREN.values() if p.sees(s)}
        alerted_seen = {s for s in seen if p.may(Action.VIEW_SCORE, s) and p.facts(s).alerted}
    assert {SIREN["in_alerted"], SIREN["both_alerted"]} <= seen and SIREN["closed_region"] not in seen
    r = call("/api/search", query={"q": "SOCIETE"})
    assert {c["siren"] for c in r.json()} == seen and r.headers["x-total-count"] == [str(len(seen))]
    lists = call("/api/lists").json()
    r = call("/api/lists/{list_id}/scores", path_parameters={"list_id": lists[0]["id"]})
    assert (
        {i["siren"] for i in r.json()["items"]}
        == alerted_seen
        == {SIREN["in_alerted"], SIREN["both_alerted"]}
    )
    assert lists[0]["total"] == len(alerted_seen)
    # following: as the policy says; unfollowing a company outside the territory leaves the lists' view
    body = {"category": "Veille"}
    for siren in SIREN.values():
        with Policy(agent_a) as p:
            status = _expected(p, Action.FOLLOW, siren)
        assert call("/api/companies/{siren}/follow", "PUT", path_parameters={"siren": siren},
                    body=body, media_type="application/json").status_code == status, siren  # fmt: skip
    r = call("/api/companies/{siren}", path_parameters={"siren": SIREN["in_quiet"]})
    assert all(b in r.json() for b in BLOCKS)  # followed: every block (agent A holds every right)
    r = call("/api/companies/{siren}/follow", "DELETE", path_parameters={"siren": SIREN["out_followed"]})
    assert r.json()["changed"] is True
    with Policy(agent_a) as p:
        assert not p.sees(SIREN["out_followed"])
    r = call("/api/search", query={"q": "SOCIETE"})
    assert SIREN["out_followed"] not in {c["siren"] for c in r.json()}
