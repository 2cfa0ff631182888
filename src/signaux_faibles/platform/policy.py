"""The one access policy of the platform: who may do what on which company. Deny by default.

Rules (``real_system.md`` §5, datapi ``permissions.md``):

- every action needs an authenticated, active actor;
- the platform only shows companies with an establishment in a région where it is open (regional roll-out,
  ``open_regions``); the others do not exist for anyone;
- a company is **visible** to an actor when one of its establishments *in an open région* is in one of the
  actor's départements or régions (or the actor is national), or when the actor follows it; an establishment in a
  closed région counts for nobody (``open_establishments`` in Python, ``_open_establishment`` in SQL: the same
  rule, and a property test compares the two). Lists and the territory search only show visible companies
  (``visible_companies``, ``territory_filter``);
- identity (SIRENE), establishments, effectif, procol and the group are shown to every authenticated partner
  agent, on any company of an open région, in the territory or not (datapi: "SIRENE, DIANE, effectifs and procol
  are visible to everyone"; golden case ``vaf``); any agent may **follow** any such company (golden cases ``vaF``,
  ``vAF``). An access outside the territory is allowed and **recorded** (``Decision.out_of_territory``);
- the published accounts (DIANE, ``VIEW_ACCOUNTS``), with no data right, in the territory or once followed. One
  deliberate difference with datapi, whose ``vaf`` answer carries DIANE: out of the territory, an agent who does
  not follow the company reads its identity only (the platform's acceptance check for territories asks it: DIANE's
  debt ratios must not reach an agent who has no reason to work on the company);
- score, URSSAF, DGEFP and Banque de France data need the matching right (``score``, ``urssaf``, ``dgefp``,
  ``bdf``) **and** either the company is in the territory and has been on a list with an alert, or the actor
  follows it. Whether a company has been alerted is itself derived from the score: it may decide the opening of
  a block only for an actor who holds the ``score`` right. Without it, the URSSAF, DGEFP and Banque de France
  blocks open on followed companies only, so that their presence never tells an alerted company from another;
- reading and writing the company's comments and accompaniment case (``VIEW_WORK``, ``COMMENT``, ``CASE``) need
  the company to be in the territory or followed: the agents' work is shared with those who work on the company;
- the CODEFI alert flag follows the rule of the score; importing the CODEFI list is for the platform admin and the
  admins of DGFiP/CODEFI; exporting a list needs the ``score`` right; an organisation admin manages the agents of
  their own organisation; a platform admin everything administrative (not the confidential data: those follow the
  rules above).

``allowed(actor, action, resource)`` is the only function that decides; the routes, the API, the exports and the
search call it (or ``visible_companies`` / ``territory_filter`` for SQL lists).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "DATA_RIGHTS",
    "ROLES",
    "Action",
    "Actor",
    "CompanyFacts",
    "CompanyRef",
    "Decision",
    "EstablishmentRef",
    "ListRef",
    "OrganisationRef",
    "Territory",
    "allowed",
    "open_establishments",
    "territory_filter",
    "visible",
    "visible_companies",
]

DATA_RIGHTS = ("score", "urssaf", "dgefp", "bdf")
ROLES = ("agent", "org-admin", "admin")
_DEPT = re.compile(r"^(\d{2}|2A|2B|97\d)$")
_REGION = re.compile(r"^R(\d{2})$")


class Action(StrEnum):
    VIEW_COMPANY = "view_company"  # identity, establishments, effectif, procol
    VIEW_SCORE = "view_score"
    VIEW_URSSAF = "view_urssaf"
    VIEW_DGEFP = "view_dgefp"
    VIEW_BDF = "view_bdf"
    SEARCH = "search"
    VIEW_LIST = "view_list"  # the published lists (without their scores)
    VIEW_LIST_SCORES = "view_list_scores"  # a list's alerted companies, their scores and alert counts
    EXPORT_LIST = "export_list"
    ACCOUNT = "account"  # one's own account, sessions and followed companies
    FOLLOW = "follow"
    COMMENT = "comment"
    CASE = "case"  # open or update an accompaniment case, decide on suggested measures
    VIEW_WORK = "view_work"  # read the company's comments and accompaniment case
    VIEW_ACCOUNTS = "view_accounts"  # the published accounts (DIANE)
    VIEW_CODEFI = "view_codefi"  # the DGFiP/CODEFI alert flag of a company
    IMPORT_CODEFI = "import_codefi"
    MANAGE_USERS = "manage_users"
    ADMIN = "admin"


#: Data actions and the right each needs.
RIGHT_OF = {
    Action.VIEW_SCORE: "score",
    Action.VIEW_URSSAF: "urssaf",
    Action.VIEW_DGEFP: "dgefp",
    Action.VIEW_BDF: "bdf",
    Action.VIEW_CODEFI: "score",
}
#: The organisation whose admins import the CODEFI alert list.
CODEFI_ORGANISATION = "DGFiP/CODEFI"


@dataclass(frozen=True)
class Territory:
    """National, or a set of régions (INSEE codes) and départements."""

    national: bool = False
    regions: frozenset[str] = frozenset()
    departements: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, codes: str | Iterable[str]) -> Territory:
        """``"FR"`` (national), ``"R27"`` (a région), ``"21"``, ``"2A"``, ``"971"`` (départements), comma-separated."""
        items = [
            c.strip().upper() for c in (codes.split(",") if isinstance(codes, str) else codes) if c.strip()
        ]
        if not items:
            raise ValueError("a territory needs at least one code: FR, R<région> or a département")
        regions, depts, national = set(), set(), False
        for c in items:
            if c == "FR":
                national = True
            elif m := _REGION.match(c):
                regions.add(m.group(1))
            elif _DEPT.match(c):
                depts.add(c)
            else:
                raise ValueError(
                    f"unknown territory code {c!r}: expected FR, R<2-digit région> or a département"
                )
        return cls(national, frozenset(regions), frozenset(depts))

    def covers(self, departement: str | None, region: str | None) -> bool:
        if self.national:
            return True
        return (departement is not None and departement in self.departements) or (
            region is not None and region in self.regions
        )

    def codes(self) -> list[str]:
        return (
            (["FR"] if self.national else [])
            + [f"R{r}" for r in sorted(self.regions)]
            + sorted(self.departements)
        )


@dataclass(frozen=True)
class Actor:
    """Who asks: an authenticated user (with organisation, territory, data rights, role) or nobody."""

    user_id: int | None = None
    organisation: str | None = None
    territory: Territory = field(default_factory=Territory)
    rights: frozenset[str] = frozenset()
    role: str = "agent"
    active: bool = True

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None and self.active

    @classmethod
    def anonymous(cls) -> Actor:
        return cls()


@dataclass(frozen=True)
class CompanyFacts:
    """What the policy needs to know about a company for one actor (see ``company_facts`` in ``accounts``)."""

    siren: str
    establishments: tuple[
        tuple[str | None, str | None], ...
    ] = ()  # (département, région) of each establishment in an open région (``open_establishments``)
    alerted: bool = False  # has been on a list with "Alerte seuil F1" or "F2"
    followed: bool = False  # the actor follows it
    open: bool = True  # has an establishment in a région where the platform is open


@dataclass(frozen=True)
class CompanyRef:
    """A company named by its SIREN (resolved to ``CompanyFacts`` by the web guard, ``web.guard.ensure_allowed``)."""

    siren: str


@dataclass(frozen=True)
class EstablishmentRef:
    """An establishment named by its SIRET: its company's rules apply."""

    siret: str


@dataclass(frozen=True)
class OrganisationRef:
    """An organisation (for ``MANAGE_USERS``: the managed user's organisation)."""

    name: str | None


@dataclass(frozen=True)
class ListRef:
    """A published list. On a list every row is alerted and visible (in the territory, or followed): the data
    rights alone decide its URSSAF, DGEFP and Banque de France columns, once the score right opened it."""

    list_id: int


#: What ``allowed`` decides on: nothing, a company's facts, an organisation or a list.
Resource = CompanyFacts | OrganisationRef | ListRef | None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    out_of_territory: bool = False  # allowed, but outside the actor's territory: to be recorded

    def __bool__(self) -> bool:
        return self.allowed


def _in_territory(actor: Actor, company: CompanyFacts) -> bool:
    return any(actor.territory.covers(d, r) for d, r in company.establishments)


def visible(actor: Actor, company: CompanyFacts) -> bool:
    """Whether lists and the territory search show ``company`` to ``actor``: in the territory or followed, in an
    open région. The Python side of ``visible_companies`` (a property test compares the two)."""
    return actor.authenticated and company.open and (_in_territory(actor, company) or company.followed)


def allowed(actor: Actor, action: Action | str, resource: Resource = None) -> Decision:
    """Decide whether ``actor`` may do ``action`` on ``resource`` (a company, a list, or the managed user's
    organisation)."""
    try:
        act = Action(action)
    except ValueError:
        return Decision(False, f"unknown action {action!r}")
    if not actor.authenticated:
        return Decision(False, "not authenticated")
    if act is Action.ADMIN:
        return Decision(actor.role == "admin", "platform admin only")
    if act is Action.MANAGE_USERS:
        if actor.role == "admin":
            return Decision(True, "platform admin")
        same = (
            isinstance(resource, OrganisationRef)
            and resource.name is not None
            and resource.name == actor.organisation
        )
        return Decision(actor.role == "org-admin" and same, "organisation admin of the same organisation")
    if act is Action.IMPORT_CODEFI:
        ok = actor.role == "admin" or (
            actor.role == "org-admin" and actor.organisation == CODEFI_ORGANISATION
        )
        return Decision(ok, "platform admin or CODEFI organisation admin")
    if act in (Action.SEARCH, Action.VIEW_LIST, Action.ACCOUNT):
        return Decision(True, "authenticated")
    if act in (Action.VIEW_LIST_SCORES, Action.EXPORT_LIST):
        return Decision("score" in actor.rights, "needs the score right")
    if isinstance(resource, ListRef) and act in (Action.VIEW_URSSAF, Action.VIEW_DGEFP, Action.VIEW_BDF):
        needed = RIGHT_OF[act]
        return Decision(
            needed in actor.rights and "score" in actor.rights, f"needs the score and {needed} rights"
        )
    if not isinstance(resource, CompanyFacts):
        return Decision(False, "no company given")
    if not resource.open:
        return Decision(False, "the platform is not open in this company's régions")
    inside = _in_territory(actor, resource)
    if act in (Action.VIEW_COMPANY, Action.FOLLOW):
        # identity, effectif, procol and group are every partner agent's (datapi's golden ``vaf`` case), and
        # following out of zone is how an agent opens the data blocks there (the ``vaF``/``vAF`` cases)
        return Decision(True, "identity: every partner agent", out_of_territory=not inside)
    if act in (Action.VIEW_ACCOUNTS, Action.VIEW_WORK, Action.COMMENT, Action.CASE):
        ok = inside or resource.followed
        return Decision(ok, "in the territory or followed", out_of_territory=ok and not inside)
    right = RIGHT_OF.get(act)
    if right is None:  # pragma: no cover - every Action is handled above
        return Decision(False, "no rule")
    if right not in actor.rights:
        return Decision(False, f"needs the {right} right")
    # the alert is score-derived: it opens a block only for an actor allowed to know it (see the module's rules)
    alert_known = "score" in actor.rights
    ok = (inside and resource.alerted and alert_known) or resource.followed
    reason = "in the territory and alerted, or followed" if alert_known else "followed (no score right)"
    return Decision(ok, reason, out_of_territory=ok and not inside)


def open_establishments(
    establishments: Iterable[tuple[str | None, str | None]], open_codes: Iterable[str]
) -> tuple[tuple[str | None, str | None], ...]:
    """The (département, région) pairs of the establishments in an open région (``FR``: all of them).

    The Python side of the one rule; ``_open_establishment`` is its SQL side, used by ``visible_companies``.
    """
    codes = set(open_codes)
    return tuple((d, r) for d, r in establishments if "FR" in codes or (r is not None and r in codes))


def _open_establishment(region: Any) -> Any:
    """SQL: the establishment's région is open (or the platform is open nationally)."""
    from sqlalchemy import or_, select

    from .models import OpenRegion

    national = select(OpenRegion.code).where(OpenRegion.code == "FR").exists()
    return or_(national, region.in_(select(OpenRegion.code)))


def territory_filter(actor: Actor, departement: Any, region: Any) -> Any:
    """A SQLAlchemy condition on establishment columns: the rows in ``actor``'s territory (nothing when anonymous)."""
    from sqlalchemy import false, or_, true

    if not actor.authenticated:
        return false()
    t = actor.territory
    if t.national:
        return true()
    conds = []
    if t.departements:
        conds.append(departement.in_(sorted(t.departements)))
    if t.regions:
        conds.append(region.in_(sorted(t.regions)))
    return or_(*conds) if conds else false()


def visible_companies(actor: Actor, siren: Any) -> Any:
    """A SQLAlchemy condition on a SIREN column: the companies ``actor`` may see (deny by default).

    Visible: an establishment in the actor's territory and in an open région, or followed by the actor (and
    still in an open région). Written as correlated ``EXISTS`` so that the database looks up the establishments
    of each candidate company by index instead of scanning them all.
    """
    from sqlalchemy import and_, exists, false, or_

    from .models import Establishment, Follow

    if not actor.authenticated:
        return false()
    e = Establishment
    is_open = _open_establishment(e.region)
    inside = exists().where(e.siren == siren, is_open, territory_filter(actor, e.departement, e.region))
    followed = and_(
        exists().where(Follow.siren == siren, Follow.user_id == actor.user_id, Follow.active.is_(True)),
        exists().where(e.siren == siren, is_open),
    )
    return or_(inside, followed)


# ----------------------------------------------------------------------------------------------- explanations

#: The data right each explanation theme derives from. "santé financière" mixes Banque de France ratios (the
#: ``bdf`` right) with published accounts (DIANE, open to all): the theme as a whole needs ``bdf``.
THEME_RIGHTS = {"dette URSSAF": "urssaf", "activité partielle": "dgefp", "santé financière": "bdf"}
#: The entry that takes the contributions of the themes an actor may not see, so the waterfall still adds up.
WITHHELD_THEME = "données réservées"
#: Words of an expert adjustment's signal (``lists/adjustments.py``) that say which partner's data it reads.
ADJUSTMENT_RIGHTS = {"urssaf_2021": "urssaf", "URSSAF": "urssaf", "activité partielle": "dgefp"}


def _adjustment_right(signal: str) -> str | None:
    return next((right for word, right in ADJUSTMENT_RIGHTS.items() if word in signal), None)


def restrict_explanation(score: dict[str, Any], rights: frozenset[str]) -> dict[str, Any]:
    """A list row's explanation as ``rights`` allow (call it only for an actor allowed ``VIEW_SCORE``).

    The rule for explanations: a theme derived from a partner's data (``THEME_RIGHTS``) needs that partner's
    right too. Without it the theme is not named: its contribution joins ``WITHHELD_THEME`` (the waterfall still
    adds up to the probability, without telling which data moved it), and the what-if lever on that theme is
    left out. The variable-level explanation (``micro_expl``) names variables of every partner: it needs every
    data right. The signals of an expert adjustment read from a partner's data need that right.
    """
    out = dict(score)
    hidden = {theme for theme, right in THEME_RIGHTS.items() if right not in rights}
    macro = score.get("macro_expl")
    if isinstance(macro, dict) and hidden:
        kept = {k: v for k, v in macro.items() if k not in hidden}
        withheld = sum(float(v or 0.0) for k, v in macro.items() if k in hidden)
        if withheld:
            kept[WITHHELD_THEME] = withheld
        out["macro_expl"] = kept
    what_if = score.get("what_if")
    if isinstance(what_if, dict) and hidden:
        out["what_if"] = {k: v for k, v in what_if.items() if k not in hidden}
    if score.get("micro_expl") is not None and not set(THEME_RIGHTS.values()) <= rights:
        out["micro_expl"] = None
    adjustments = score.get("adjustments")
    if isinstance(adjustments, list):
        out["adjustments"] = [
            a if _adjustment_right(str(a)) in (None, *rights) else f"signal sur {WITHHELD_THEME}"
            for a in adjustments
        ]
    return out
