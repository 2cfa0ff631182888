"""Every route of the API, fuzzed by schemathesis with a token of each role (issue 23): an agent with every data
right, an agent without any, an organisation administrator and a platform administrator.

For each role, generated requests (valid and invalid) on every operation of ``/api/openapi.json``, through the
application's ASGI interface; checks: never a server error, the status codes, content types and bodies the schema
documents, invalid data refused; and the list routes answer only where the policy grants the list
(``VIEW_LIST_SCORES``, ``EXPORT_LIST``). A few examples per operation keep the four roles near a minute in all; the
policy's rules on each company are ``test_api_schema.py``'s (agent A, many more examples).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from test_api_schema import HYPOTHESIS, SCHEMA_CHECKS, _strategy

from signaux_faibles.platform.accounts import issue_token
from signaux_faibles.platform.models import User
from signaux_faibles.platform.policy import Action, ListRef, allowed
from signaux_faibles.platform.services.users import actor_of
from signaux_faibles.platform.services.work import add_comment, open_case

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
#: The seeded accounts of each role (``seed.SEED_USERS``).
ROLES = {
    "agent with every right": "agent_a",
    "agent without rights": "no_rights",
    "organisation admin": "org_admin",
    "platform admin": "admin",
}
EXAMPLES = 8
#: The list routes and the action each needs on the list.
LIST_ROUTES = {
    "/api/lists/{list_id}/scores": Action.VIEW_LIST_SCORES,
    "/api/lists/{list_id}/changes": Action.VIEW_LIST_SCORES,
    "/api/lists/{list_id}/export.csv": Action.EXPORT_LIST,
    "/api/lists/{list_id}/export.xlsx": Action.EXPORT_LIST,
}


def _token(app: Any, user_id: int) -> tuple[str, Any]:
    """A Bearer token of the account, and the account as the policy sees it."""
    with app.state.sessions() as db:
        user = db.get(User, user_id)
        token = issue_token(db, user)
        actor = actor_of(db, user)
        db.commit()
    return token, actor


def _work(app: Any, user_id: int) -> None:
    """A comment and a case (ids 1) on a company of agent A's territory: the by-id routes meet real objects."""
    with app.state.sessions() as db:
        user = db.get(User, user_id)
        add_comment(db, user, "111111111", "Premier contact")
        open_case(db, user, "111111111", ["trésorerie"], "Tension")
        db.commit()


def _list_check(actor: Any) -> Any:
    def list_routes_follow_the_policy(ctx: Any, response: Any, case: Any) -> bool | None:
        action = LIST_ROUTES.get(case.operation.path)
        if action is not None and response.status_code == 200:
            list_id = case.path_parameters["list_id"]
            assert allowed(actor, action, ListRef(list_id)), (
                f"{case.operation.label}: answered without {action}"
            )
        return None

    return list_routes_follow_the_policy


@pytest.mark.parametrize("role", list(ROLES))
def test_every_route_for_each_role(web_app: Any, seeded: tuple[str, dict[str, int]], role: str) -> None:
    ids = seeded[1]
    _work(web_app, ids["agent_a"])
    token, actor = _token(web_app, ids[ROLES[role]])
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", web_app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 22, [op.label for op in operations]
    check, failures, n = _list_check(actor), [], 0
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(HYPOTHESIS, max_examples=EXAMPLES)
            @given(case=_strategy(op, mode))
            def run(case: Any) -> None:
                nonlocal n
                n += 1
                case.call_and_validate(headers=dict(headers), checks=SCHEMA_CHECKS, additional_checks=[check])

            try:
                run()
            except Unsatisfiable:  # no invalid request exists (an operation without parameters nor body)
                assert mode is GenerationMode.NEGATIVE and not op.path_parameters and not op.query, op.label
            except (Exception, FailureGroup) as e:
                failures.append(f"{op.label} [{mode.value}]: {type(e).__name__}: {str(e)[:2000]}")
    print(f"{role}: {n} generated cases over {len(operations)} operations")
    assert not failures, "\n\n".join(failures)
