"""Issue 18 ("close the leaks"), defect 11: a password made of the account's own name or e-mail, even in a trivial
variant (reversed, l33t, case, separators, digits around), is refused; common ones too."""

from __future__ import annotations

import pytest

from signaux_faibles.platform.security import password_problems

OWN = "ne pas contenir votre nom ni votre adresse électronique"


@pytest.mark.parametrize(
    "password, email, name",
    [("tnopuD-naeJ-2026!", "jean.dupont@urssaf.fr", None), ("Tnopudj#2026-Xy", "jdupont@urssaf.fr", None),
     ("uaessuoR-Q9!elimac", "c.r@dreets.gouv.fr", "Camille Rousseau"), ("Dup0nt-J3an-2026!", "jean.dupont@urssaf.fr", None)],
)  # fmt: skip
def test_own_name_or_email_reversed_is_refused(password: str, email: str, name: str | None) -> None:
    assert OWN in password_problems(password, email, name)


def test_a_strong_password_is_not_taken_for_a_variant_of_the_name() -> None:
    assert password_problems("Trombone-Velo-42!", "jean.dupont@urssaf.fr", "Jean Dupont") == []
