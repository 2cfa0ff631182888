"""From OpenID Connect claims (Keycloak, ProConnect) to an account's organisation, territory, rights and role.

- **Keycloak** (the real datapi): ``resource_access.<client>.roles`` carries both the zone roles (département codes
  such as ``21`` or ``2A``, régions as ``R27``, ``FR`` for national) and the data roles ``score``, ``urssaf``,
  ``dgefp``, ``bdf``; ``org-admin`` and ``admin`` give those roles.
- **ProConnect** (the State's SSO): no roles; the organisation comes from the e-mail domain (or the
  ``organisation`` claim when the identity provider sends one); territory and rights then come from the
  account the organisation admin prepared (:func:`map_claims` returns none, the caller keeps the stored ones).

An unknown organisation or a claim set without e-mail is refused (deny by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .policy import DATA_RIGHTS, ROLES, Territory

__all__ = ["ORGANISATIONS", "ClaimsError", "MappedAccount", "map_claims", "organisation_of"]

#: Organisations of the platform and the e-mail domains of their agents.
ORGANISATIONS: dict[str, tuple[str, ...]] = {
    "URSSAF": ("urssaf.fr", "acoss.fr"),
    "DREETS/DDETS": ("dreets.gouv.fr", "ddets.gouv.fr", "travail.gouv.fr"),
    "Banque de France": ("banque-france.fr",),
    "DGEFP": ("emploi.gouv.fr",),
    "DGE": ("finances.gouv.fr",),
    "DGFiP/CODEFI": ("dgfip.finances.gouv.fr",),
    "CRP": ("crp.gouv.fr",),
    "Équipe nationale": ("beta.gouv.fr", "numerique.gouv.fr"),
}


class ClaimsError(ValueError):
    """The claims do not identify an account the platform accepts."""


@dataclass(frozen=True)
class MappedAccount:
    email: str
    name: str | None
    organisation: str
    territory: Territory | None  # None: keep the account's stored territory
    rights: frozenset[str] | None  # None: keep the stored rights
    role: str


def organisation_of(email: str, claimed: str | None = None) -> str | None:
    """The organisation of an agent: the ``organisation`` claim when known, else the longest matching domain."""
    if claimed in ORGANISATIONS:
        return claimed
    domain = email.rsplit("@", 1)[-1].lower()
    best: tuple[int, str] | None = None
    for org, domains in ORGANISATIONS.items():
        for d in domains:
            if (domain == d or domain.endswith("." + d)) and (best is None or len(d) > best[0]):
                best = (len(d), org)
    return best[1] if best else None


def map_claims(claims: Mapping[str, Any], client_id: str) -> MappedAccount:
    """Map an ID token's / userinfo's claims to an account (see the module docstring)."""
    email = str(claims.get("email") or "").strip().lower()
    if "@" not in email:
        raise ClaimsError("the identity provider sent no e-mail address")
    if claims.get("email_verified") is False:
        raise ClaimsError(f"the e-mail address {email} is not verified by the identity provider")
    org = organisation_of(email, claims.get("organisation"))
    if org is None:
        raise ClaimsError(f"{email}: organisation not among the platform's partners")
    access = claims.get("resource_access") or {}
    roles = (
        [str(r) for r in (access.get(client_id) or {}).get("roles", [])] if isinstance(access, dict) else []
    )
    territory: Territory | None = None
    rights: frozenset[str] | None = None
    role = "agent"
    if roles:
        zone = [r for r in roles if r not in DATA_RIGHTS and r not in ROLES]
        territory = Territory.parse(zone) if zone else None
        rights = frozenset(r for r in roles if r in DATA_RIGHTS)
        role = "admin" if "admin" in roles else "org-admin" if "org-admin" in roles else "agent"
    name = (
        claims.get("name")
        or " ".join(str(claims[k]) for k in ("given_name", "usual_name") if claims.get(k))
        or None
    )
    return MappedAccount(email, name, org, territory, rights, role)
