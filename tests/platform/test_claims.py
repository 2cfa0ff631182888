"""Mapping OpenID Connect claims (Keycloak roles, ProConnect identities) to accounts."""

from __future__ import annotations

import pytest

from signaux_faibles.platform.claims import ClaimsError, map_claims, organisation_of
from signaux_faibles.platform.policy import Territory


def test_keycloak_roles_give_territory_rights_and_role() -> None:
    claims = {
        "email": "Agent@Urssaf.fr",
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
    a = map_claims({"email": "x@bfc.dreets.gouv.fr", "given_name": "Paul", "usual_name": "Martin"}, "sf")
    assert a.organisation == "DREETS/DDETS" and a.name == "Paul Martin"
    assert a.territory is None and a.rights is None
    assert organisation_of("y@dgfip.finances.gouv.fr") == "DGFiP/CODEFI"  # the longest domain wins
    assert organisation_of("z@finances.gouv.fr") == "DGE"
    assert organisation_of("w@example.com", "Banque de France") == "Banque de France"


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"email": "no-at-sign"},
        {"email": "a@gmail.com"},
        {"email": "a@urssaf.fr", "email_verified": False},
        {"email": "a@urssaf.fr", "resource_access": {"sf": {"roles": ["99x"]}}},
    ],
)
def test_refused(claims: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        map_claims(claims, "sf")


def test_claims_error_is_a_value_error() -> None:
    assert issubclass(ClaimsError, ValueError)
