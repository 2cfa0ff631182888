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

from ...contract import DATA_RIGHTS as RIGHTS
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

__all__ = ["REASONS_FR", "Granted", "Target", "ensure_allowed", "in_french", "may"]

#: What a route may name: nothing (an action on the platform), a company, an establishment, a list, an organisation.
Target = CompanyRef | EstablishmentRef | ListRef | OrganisationRef | None


#: What a refusal says to an agent, in French, by the reason the policy and the guard record (in English, in the
#: audit trail). The API keeps the recorded reason; the pages show this one.
REASONS_FR = {
    "not authenticated": "Connexion requise.",
    "authentication required": "Connexion requise.",
    "platform admin only": "Page réservée aux administrateurs de la plateforme.",
    "organisation admin of the same organisation": "Réservé aux administrateurs de l'organisation de ce compte.",
    "platform admin or CODEFI organisation admin": (
        "Réservé aux administrateurs de la plateforme et aux administrateurs de l'organisation CODEFI (DGFiP)."
    ),
    "needs the score right": (
        "Votre habilitation ne comprend pas le droit « score » (niveaux d'alerte et probabilités de défaillance)."
    ),
    "needs the score on this company": (
        "Votre habilitation ne vous permet pas de voir le score de cette entreprise."
    ),
    "no company given": "Aucune entreprise n'est désignée.",
    "the platform is not open in this company's régions": (
        "La plateforme n'est pas encore ouverte dans les régions des établissements de cette entreprise."
    ),
    "in the territory or followed": (
        "Cette entreprise n'a aucun établissement dans votre territoire et vous ne la suivez pas."
    ),
    "in the territory and alerted, or followed": (
        "Ces données ne sont visibles que pour une entreprise en alerte de votre territoire, ou que vous suivez."
    ),
    "followed (no score right)": (
        "Sans le droit « score », ces données ne sont visibles que pour une entreprise que vous suivez."
    ),
    "unknown company": "Entreprise inconnue de la plateforme (ou hors des régions où elle est ouverte).",
    "unknown establishment": "Établissement inconnu de la plateforme (ou hors des régions où elle est ouverte).",
    "unknown list": "Liste inconnue.",
    "unknown account": "Compte inconnu.",
    "unknown comment": "Commentaire inconnu.",
    "unknown case": "Dossier d'accompagnement inconnu.",
    "unknown measure": "Mesure inconnue.",
    "only the author may edit a comment": "Seul l'auteur d'un commentaire peut le modifier.",
    "CSRF token missing or invalid: reload the page and try again": (
        "Le formulaire a expiré ou n'est pas valide : rechargez la page et recommencez."
    ),
    "invalid character (NUL) in the request": "Caractère invalide dans la demande.",
    "the confidentiality notice must be accepted first (/avis)": (
        "Acceptez d'abord l'avis de confidentialité (page /avis)."
    ),
    "single sign-on is not configured": "La connexion unique (SSO) n'est pas configurée.",
}
#: The data rights, named for an agent by their code (as the administrator grants them).
RIGHTS_FR = {
    code: f"« {code} » ({opens})" if name == code else f"« {code} » ({name}, {opens})"
    for code, (name, opens) in RIGHTS.items()
}


def in_french(reason: object) -> str:
    """A refusal's reason (``REASONS_FR``) for a page; a message already in French is kept as it is."""
    text = str(reason or "")
    if text in REASONS_FR:
        return REASONS_FR[text]
    words = text.split()
    if text.startswith("needs the ") and text.endswith(" rights") and len(words) == 6:  # "needs the score and X rights"
        right = RIGHTS_FR.get(words[4], words[4])
        return f"Votre habilitation doit comprendre les droits {RIGHTS_FR['score']} et {right}."
    if text.startswith("needs the ") and text.endswith(" right") and len(words) == 4:
        return f"Votre habilitation ne comprend pas le droit {RIGHTS_FR.get(words[2], words[2])}."
    if text.startswith("unknown action"):
        return "Action inconnue."
    return text


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
