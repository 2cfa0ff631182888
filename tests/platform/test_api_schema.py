"""Property-based tests of the REST API with schemathesis, on SQLite and PostgreSQL.

Every operation of ``/api/openapi.json`` is exercised with generated requests (valid and invalid ones), as agent A
(a Bearer token) and anonymously, and each answer is checked against the schema (no server error, documented status
code, content type and body) and against the access policy: no answer carries a company agent A may not see, and
the confidential blocks of a company appear only where agent A holds them.
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

from signaux_faibles.platform.accounts import issue_token
from signaux_faibles.platform.models import Follow, User

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
#: Agent A (territory: département 21) sees the companies with an establishment in 21, and those it follows.
IN_TERRITORY = {SIREN["in_alerted"], SIREN["in_quiet"], SIREN["both_alerted"]}
#: ... and holds the confidential blocks of the alerted ones in its territory, and of those it follows.
ALERTED_IN_TERRITORY = {SIREN["in_alerted"], SIREN["both_alerted"]}
#: Never: out of the territory and not followed (403), in a région where the platform is closed (404).
DENIED = {SIREN["out_alerted"]: 403, SIREN["closed_region"]: 404}
NEVER = set(DENIED)
BLOCKS = ("scores", "urssaf", "dgefp", "bdf")
DIGITS = re.compile(r"^\d{9}(\d{5})?$")


@pytest.fixture
def api_schema(web_app: Any) -> Any:
    """The API's schema, loaded from the application (requests go through its ASGI interface)."""
    return schemathesis.openapi.from_asgi("/api/openapi.json", web_app)


@pytest.fixture
def agent_a(web_app: Any, seeded: tuple[str, dict[str, int]]) -> Iterator[dict[str, Any]]:
    """Agent A's Bearer header, id and the application (to read its follows while the tests change them)."""
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
    """Every SIREN in a JSON document: a string of 9 digits, or the first 9 digits of a SIRET (14 digits)."""
    if isinstance(node, dict):
        for v in node.values():
            yield from _sirens(v)
    elif isinstance(node, list):
        for v in node:
            yield from _sirens(v)
    elif isinstance(node, str) and DIGITS.match(node):
        yield node[:9]


def rights_check(agent: dict[str, Any]) -> Any:
    """The check "no answer outside agent A's rights" (a schemathesis check function)."""

    def no_response_outside_rights(ctx: Any, response: Any, case: Any) -> bool | None:
        if response.status_code != 200:
            return None
        body = response.json()
        followed = _followed(agent)
        visible = IN_TERRITORY | followed
        if case.operation.path == "/api/companies/{siren}/follow":
            # the answer echoes the SIREN of the request (and a boolean): a company agent A may follow (PUT: in
            # its territory, or followed at the start) or any SIREN (DELETE; "changed" is false unless followed)
            siren = case.path_parameters["siren"]
            assert body["siren"] == siren, body
            if case.method.upper() == "PUT":
                assert siren in IN_TERRITORY | {SIREN["out_followed"]}, f"PUT follow accepted for {siren}"
            else:
                assert body["changed"] is False or siren not in NEVER, body
            return None
        leaked = {s for s in _sirens(body) if s not in visible or s in NEVER}
        assert not leaked, f"{case.method} {case.formatted_path}: SIRENs outside agent A's rights: {leaked}"
        if case.operation.path == "/api/companies/{siren}":
            shown = [b for b in BLOCKS if b in body]
            if shown:
                assert body["siren"] in ALERTED_IN_TERRITORY | followed, (
                    f"confidential blocks {shown} shown for {body['siren']}"
                )
        return None

    return no_response_outside_rights


#: Values of the parameters that name seeded objects: half of the valid cases use one (with the rest generated).
SEEDS: dict[str, list[Any]] = {
    "siren": list(SIREN.values()),
    "siret": SIRETS,
    "list_id": [1],
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
    assert len(operations) == 9, [op.label for op in operations]
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

    failures = _fuzz(api_schema, test)
    assert not failures, "\n\n".join(failures)


def test_api_anonymous(api_schema: Any) -> None:
    """Generated requests without a token, or with an invalid one: never an answer, never a server error."""

    def test(case: Any) -> None:
        for headers in ({}, {"Authorization": "Bearer sf_not-a-token"}):  # two calls: fewer cases
            response = case.call_and_validate(headers=headers, checks=SCHEMA_CHECKS)
            assert response.status_code in (400, 401, 403, 422), (
                f"{case.method} {case.formatted_path} {headers}: {response.status_code} {response.text[:200]}"
            )

    failures = _fuzz(api_schema, test, max_examples=20)
    assert not failures, "\n\n".join(failures)


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
        if siren in IN_TERRITORY | {SIREN["out_followed"]}:
            body = r.json()
            held = ALERTED_IN_TERRITORY | {SIREN["out_followed"]}
            assert r.status_code == 200 and [b for b in BLOCKS if b in body] == (
                list(BLOCKS) if siren in held else []
            ), (siren, r.status_code)
        else:
            assert r.status_code == DENIED[siren], (siren, r.status_code)
        r = call("/api/search", query={"q": siren})
        assert [c["siren"] for c in r.json()] == (
            [siren] if siren in IN_TERRITORY | _followed(agent_a) else []
        )
    for siret in SIRETS:
        r = call("/api/establishments/{siret}", path_parameters={"siret": siret})
        assert r.status_code == DENIED.get(siret[:9], 200), (siret, r.status_code)
    r = call("/api/search", query={"q": "SOCIETE"})
    assert {c["siren"] for c in r.json()} == IN_TERRITORY | {SIREN["out_followed"]}
    lists = call("/api/lists").json()
    assert lists and lists[0]["total"] == len(ALERTED_IN_TERRITORY)
    r = call("/api/lists/{list_id}/scores", path_parameters={"list_id": lists[0]["id"]})
    assert {i["siren"] for i in r.json()["items"]} == ALERTED_IN_TERRITORY
    # following: in the territory yes, outside no; unfollowing an out-of-territory company hides it
    body = {"category": "Veille"}
    assert call("/api/companies/{siren}/follow", "PUT", path_parameters={"siren": SIREN["in_quiet"]},
                body=body, media_type="application/json").status_code == 200  # fmt: skip
    r = call("/api/companies/{siren}", path_parameters={"siren": SIREN["in_quiet"]})
    assert all(b in r.json() for b in BLOCKS)
    for siren, status in DENIED.items():
        assert call("/api/companies/{siren}/follow", "PUT", path_parameters={"siren": siren},
                    body=body, media_type="application/json").status_code == status  # fmt: skip
    r = call("/api/companies/{siren}/follow", "DELETE", path_parameters={"siren": SIREN["out_followed"]})
    assert r.json()["changed"] is True
    r = call("/api/companies/{siren}", path_parameters={"siren": SIREN["out_followed"]})
    assert r.status_code == 403
    r = call("/api/search", query={"q": "SOCIETE"})
    assert {c["siren"] for c in r.json()} == IN_TERRITORY
