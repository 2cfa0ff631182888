"""From OpenID Connect claims (Keycloak, ProConnect) to an account's organisation, territory, rights and role.

- **Keycloak** (the real datapi): ``resource_access.<client>.roles`` carries both the zone roles (département codes
  such as ``21`` or ``2A``, régions as ``R27``, ``FR`` for national) and the data roles ``score``, ``urssaf``,
  ``dgefp``, ``bdf``; ``org-admin`` and ``admin`` give those roles.
- **ProConnect** (the State's SSO): no roles; the organisation comes from the e-mail domain; territory and
  rights then come from the account the organisation admin prepared (:func:`map_claims` returns none, the caller
  keeps the stored ones).

Deny by default: an e-mail the provider does not assert as verified (``email_verified`` true), a domain outside
the partners' (an ``organisation`` claim never overrides the domain's organisation: one that contradicts it is
refused), or malformed claims (roles
that are not a list of strings, ``resource_access`` entries that are not objects…) are refused with a
:class:`ClaimsError` — never another exception. Roles the platform does not know (``offline_access``,
``uma_protection``…) are ignored and returned in ``MappedAccount.ignored_roles`` for the audit trail.
"""

from __future__ import annotations

import re
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
    """The claims do not identify an account the platform accepts; ``french`` is the reason shown to the person."""

    def __init__(self, reason: str, french: str | None = None) -> None:
        super().__init__(reason)
        self.french = french or "les informations transmises ne permettent pas d'identifier un compte de la plateforme."


@dataclass(frozen=True)
class MappedAccount:
    email: str
    name: str | None
    organisation: str
    territory: Territory | None  # None: keep the account's stored territory
    rights: frozenset[str] | None  # None: keep the stored rights
    role: str
    ignored_roles: tuple[str, ...] = ()  # roles of the platform's client that mean nothing to it


_ZONE = re.compile(r"^(FR|R\d{2}|\d{2}|2A|2B|97\d)$", re.IGNORECASE)


def organisation_of(email: str) -> str | None:
    """The organisation of an agent: the partner whose e-mail domain is the longest match of ``email``'s."""
    domain = email.rsplit("@", 1)[-1].lower()
    best: tuple[int, str] | None = None
    for org, domains in ORGANISATIONS.items():
        for d in domains:
            if (domain == d or domain.endswith("." + d)) and (best is None or len(d) > best[0]):
                best = (len(d), org)
    return best[1] if best else None


def _roles(claims: Mapping[str, Any], client_id: str) -> list[str]:
    access = claims.get("resource_access")
    if access is None:
        return []
    if not isinstance(access, Mapping):
        raise ClaimsError("malformed claims: resource_access is not an object")
    entry = access.get(client_id)
    if entry is None:
        return []
    if not isinstance(entry, Mapping):
        raise ClaimsError(f"malformed claims: resource_access.{client_id} is not an object")
    roles = entry.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ClaimsError(f"malformed claims: resource_access.{client_id}.roles is not a list of strings")
    return [r.strip() for r in roles if r.strip()]


def map_claims(claims: Mapping[str, Any], client_id: str) -> MappedAccount:
    """Map an ID token's / userinfo's claims to an account (see the module docstring)."""
    try:
        return _map_claims(claims, client_id)
    except ClaimsError:
        raise
    except (ValueError, TypeError, AttributeError, KeyError) as e:  # whatever the provider sent: a refusal
        raise ClaimsError(f"malformed claims ({type(e).__name__}: {e})") from e


def _map_claims(claims: Mapping[str, Any], client_id: str) -> MappedAccount:
    if not isinstance(claims, Mapping):
        raise ClaimsError("malformed claims: not an object")
    raw_email = claims.get("email")
    email = raw_email.strip().lower() if isinstance(raw_email, str) else ""
    if "@" not in email:
        raise ClaimsError("the identity provider sent no e-mail address",
                          "le fournisseur d'identité n'a pas transmis d'adresse électronique.")  # fmt: skip
    if claims.get("email_verified") is not True:
        raise ClaimsError(f"the e-mail address {email} is not verified by the identity provider",
                          f"l'adresse {email} n'est pas vérifiée par le fournisseur d'identité.")  # fmt: skip
    org = organisation_of(email)
    if org is None:
        raise ClaimsError(f"{email}: organisation not among the platform's partners",
                          f"l'adresse {email} n'appartient à aucun partenaire de la plateforme.")  # fmt: skip
    claimed = claims.get("organisation")
    if claimed is not None and claimed != org:  # the domain decides; a provider contradicting it is refused
        raise ClaimsError(f"organisation mismatch: the organisation claim {claimed!r} is not the e-mail domain's {org!r}",
                          "l'organisation transmise par le fournisseur d'identité ne correspond pas à votre adresse.")  # fmt: skip
    roles = _roles(claims, client_id)
    territory: Territory | None = None
    rights: frozenset[str] | None = None
    role = "agent"
    ignored = tuple(sorted({r for r in roles if r not in DATA_RIGHTS and r not in ROLES and not _ZONE.match(r)}))
    known = [r for r in roles if r not in ignored]
    if known:
        zone = [r for r in known if _ZONE.match(r)]
        territory = Territory.parse(zone) if zone else None
        rights = frozenset(r for r in known if r in DATA_RIGHTS)
        role = "admin" if "admin" in known else "org-admin" if "org-admin" in known else "agent"
    given = " ".join(str(claims[k]) for k in ("given_name", "usual_name") if isinstance(claims.get(k), str))
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    return MappedAccount(email, name or given or None, org, territory, rights, role, ignored)
