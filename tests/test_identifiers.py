from __future__ import annotations

import numpy as np

from signaux_faibles.geo import departement_from_commune, departements_of
from signaux_faibles.identifiers import is_pseudo_siret, luhn_complete, luhn_valid


def test_luhn() -> None:
    assert luhn_valid("732829320")  # a real-looking SIREN
    assert not luhn_valid("732829321")
    assert not luhn_valid("73282932A")
    keyed = luhn_complete(np.array([7328293, 12345678, 0]), 9)
    assert all(luhn_valid(f"{k:09d}") for k in keyed)
    sirets = luhn_complete(np.array([7328293200001, 1234567800012]), 14)
    assert all(luhn_valid(f"{k:014d}") for k in sirets)


def test_pseudo_siret() -> None:
    assert is_pseudo_siret("12345678990012")
    assert not is_pseudo_siret("12345678900012")


def test_geo() -> None:
    assert departements_of("27")[:2] == ["21", "25"]
    assert "2A" in departements_of("R94")
    assert departement_from_commune("2A004") == "2A"
    assert departement_from_commune("97411") == "974"
    assert departement_from_commune("21231") == "21"
