"""Mapping OpenID Connect claims (Keycloak roles, ProConnect identities) to accounts."""

from __future__ import annotations

import pytest

from signaux_faibles.platform.claims import ClaimsError, map_claims, organisation_of
from signaux_faibles.platform.policy import Territory


def test_keycloak_roles_give_territory_rights_and_role() -> None:
    claims = {
        "email": "Agent@Urssaf.fr",
        "email_verified": True,
        "name": "Jeanne Agent",
        "resource_access": {"signauxfaibles": {"roles": ["21", "R27", "score", "urssaf", "org-admin"]}},
    }
    a = map_claims(claims, "signauxfaibles")
    assert a.email == "agent@urssaf.fr" and a.organisation == "URSSAF" and a.name == "Jeanne Agent"
    assert a.territory == Territory.parse("21,R27")
    assert a.rights == frozenset({"score", "urssaf"})
    assert a.role == "org-admin"
    # roles of another client are ignored
    other = map_claims({**claims, "resource_access": {"autre": {"roles": ["FR", "bdf"]}}}, "signauxfaibles")
    assert other.territory is None and other.rights is None and other.role == "agent"


def test_proconnect_identity_maps_by_domain() -> None:
    a = map_claims({"email": "x@bfc.dreets.gouv.fr", "email_verified": True, "given_name": "Paul", "usual_name": "Martin"}, "sf")
    assert a.organisation == "DREETS/DDETS" and a.name == "Paul Martin"
    assert a.territory is None and a.rights is None
    assert organisation_of("y@dgfip.finances.gouv.fr") == "DGFiP/CODEFI"  # the longest domain wins
    assert organisation_of("z@finances.gouv.fr") == "DGE"
    assert organisation_of("w@example.com") is None


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"email": "no-at-sign"},
        {"email": "a@gmail.com"},
        {"email": "a@urssaf.fr", "email_verified": False},
        {"email": "a@urssaf.fr"},  # email_verified must be asserted
        {"email": "a@urssaf.fr", "email_verified": "true"},
        {"email": "a@urssaf.fr", "email_verified": True, "resource_access": {"sf": {"roles": "score urssaf"}}},
        {"email": "a@urssaf.fr", "email_verified": True, "resource_access": {"sf": ["score", "21"]}},
        {"email": "a@urssaf.fr", "email_verified": True, "resource_access": ["sf"]},
        {"email": "a@urssaf.fr", "email_verified": True, "resource_access": {"sf": {"roles": [21, "score"]}}},
        {"email": ["a@urssaf.fr"], "email_verified": True},
        # an organisation claim never overrides the domain
        {"email": "w@example.com", "email_verified": True, "organisation": "Banque de France"},
    ],
)
def test_refused(claims: dict[str, object]) -> None:
    """Refused with a ClaimsError (a French reason), never another exception (issue 18, defect 6)."""
    with pytest.raises(ClaimsError) as e:
        map_claims(claims, "sf")
    assert e.value.french


def test_unknown_roles_are_ignored_and_reported() -> None:
    claims = {"email": "a@urssaf.fr", "email_verified": True,
              "resource_access": {"sf": {"roles": ["21", "score", "uma_protection", "offline_access"]}}}  # fmt: skip
    a = map_claims(claims, "sf")
    assert a.territory == Territory.parse("21") and a.rights == frozenset({"score"})
    assert a.ignored_roles == ("offline_access", "uma_protection")
    only_unknown = map_claims({**claims, "resource_access": {"sf": {"roles": ["offline_access"]}}}, "sf")
    assert only_unknown.territory is None and only_unknown.rights is None and only_unknown.ignored_roles


def test_organisation_claim_does_not_override_the_domain() -> None:
    with pytest.raises(ClaimsError, match="organisation mismatch"):
        map_claims({"email": "a@urssaf.fr", "email_verified": True, "organisation": "Équipe nationale"}, "sf")
    a = map_claims({"email": "a@urssaf.fr", "email_verified": True, "organisation": "URSSAF"}, "sf")
    assert a.organisation == "URSSAF"


def test_claims_error_is_a_value_error() -> None:
    assert issubclass(ClaimsError, ValueError)
