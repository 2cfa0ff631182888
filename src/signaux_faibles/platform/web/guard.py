"""The one access guard of the routes: ``ensure_allowed(ctx, action, resource)``.

Every page, API route, export and search calls it (a test walks the application's routes to check it). In order,
it:

1. asks for a logged-in user (``Ctx.require_user``: the login page, or 401 for the API);
2. resolves the resource — a company (``CompanyRef``), an establishment (``EstablishmentRef``), a list
   (``ListRef``), an organisation (``OrganisationRef``) — and answers 404 (recorded) when the platform does not
   know it, or the company has no establishment in a région where it is open;
3. asks ``policy.allowed``, the one function that decides, and answers 403 (recorded) when it refuses;
4. records an allowed access outside the actor's territory (``out_of_territory``).

It returns what it resolved (``Granted``), so the route does not read it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..accounts import company_facts
from ..models import Establishment, List, User
from ..policy import (
    Action,
    CompanyFacts,
    CompanyRef,
    Decision,
    EstablishmentRef,
    ListRef,
    OrganisationRef,
    allowed,
)
from .context import Ctx

__all__ = ["Granted", "Target", "ensure_allowed", "may"]

#: What a route may name: nothing (an action on the platform), a company, an establishment, a list, an organisation.
Target = CompanyRef | EstablishmentRef | ListRef | OrganisationRef | None


@dataclass(frozen=True)
class Granted:
    """An allowed access: the user, the decision and the resolved resource."""

    user: User
    decision: Decision
    facts: CompanyFacts | None = None  # a company, or an establishment's company
    establishment: Establishment | None = None
    list: List | None = None

    @property
    def in_territory(self) -> bool:
        return not self.decision.out_of_territory


def _company(ctx: Ctx, siren: str, unknown: str = "unknown company", **where: Any) -> CompanyFacts:
    facts = company_facts(ctx.db, ctx.actor, siren) if len(siren) == 9 and siren.isdigit() else None
    if facts is None or not facts.open:
        raise ctx.deny(unknown, 404, **(where or {"siren": siren if len(siren) == 9 else None}))
    return facts


def _establishment(ctx: Ctx, siret: str) -> tuple[Establishment, CompanyFacts]:
    etab = ctx.db.get(Establishment, siret) if len(siret) == 14 and siret.isdigit() else None
    if etab is None:
        raise ctx.deny("unknown establishment", 404, siret=siret if len(siret) == 14 else None)
    return etab, _company(ctx, etab.siren, "unknown establishment", siret=siret)


def _list(ctx: Ctx, list_id: int) -> List:
    li = ctx.db.get(List, list_id)
    if li is None:
        raise ctx.deny("unknown list", 404, list_id=list_id)
    return li


def ensure_allowed(ctx: Ctx, action: Action, resource: Target = None) -> Granted:
    """``action`` on ``resource`` for the request's actor, or raise (login, 401, 404 or 403, recorded)."""
    user = ctx.require_user()
    facts: CompanyFacts | None = None
    etab: Establishment | None = None
    li: List | None = None
    where: dict[str, Any] = {}
    decided: CompanyFacts | OrganisationRef | ListRef | None = None
    if isinstance(resource, CompanyRef):
        facts = decided = _company(ctx, resource.siren)
        where = {"siren": resource.siren}
    elif isinstance(resource, EstablishmentRef):
        etab, facts = _establishment(ctx, resource.siret)
        decided = facts
        where = {"siren": etab.siren, "siret": resource.siret}
    elif isinstance(resource, ListRef):
        li = _list(ctx, resource.list_id)
        decided = resource
        where = {"list_id": resource.list_id}
    else:
        decided = resource
    d = allowed(ctx.actor, action, decided)
    if not d:
        raise ctx.deny(d.reason, 403, detail={"action": str(action)}, **where)
    if d.out_of_territory:
        ctx.audit(
            "out_of_territory", **where, detail={"action": str(action), "territory": ctx.actor.territory.codes()}
        )
    return Granted(user, d, facts, etab, li)


def may(ctx: Ctx, action: Action, facts: CompanyFacts | ListRef | None = None) -> bool:
    """Whether the actor may do ``action`` (no record): what a page shows or hides (a block, a button)."""
    return bool(allowed(ctx.actor, action, facts))
