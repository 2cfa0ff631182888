"""The list's filters the real system has (issue 22, item 8): « sans délai URSSAF » (``hasntDelai``, with the
URSSAF right), état administratif, NAF below the section; an invalid value gets a visible message."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from seed import SEED_COMPANIES, login

from signaux_faibles.platform.models import Company, CompanyMonth
from signaux_faibles.platform.services.covid_sectors import covid_sector
from signaux_faibles.platform.services.list_rows import naf_prefix

IN, BOTH = SEED_COMPANIES["in_alerted"][0], SEED_COMPANIES["both_alerted"][0]


def _prepare(app: Any) -> None:
    with app.state.sessions() as db:
        a, b = db.get(Company, IN), db.get(Company, BOTH)
        assert a is not None and b is not None
        a.activite_principale, a.est_actif = "56.10A", False
        b.activite_principale, b.est_actif = "47.11F", True
        month = db.get(CompanyMonth, (IN, dt.date(2026, 9, 1)))
        assert month is not None
        month.delai_montant_echeancier, month.delai_nb_jours_restants = 5000.0, 90
        db.commit()


def _listed(client: Any, **params: str) -> tuple[set[str], str]:
    r = client.get("/listes/1", params=params)
    assert r.status_code == 200
    text = html.unescape(r.text)
    return {s for s in (IN, BOTH) if f"/entreprises/{s}" in text}, text


def _warning(text: str) -> str:
    m = re.search(r'fr-alert--warning[^>]*>\s*<p>(.*?)</p>', text, re.S)
    return m.group(1) if m else ""


@pytest.mark.parametrize(
    ("raw", "prefix"),
    [("56", "56"), ("561", "56.1"), ("56.1", "56.1"), ("5610", "56.10"), ("56.10a", "56.10A"), ("47.11F", "47.11F"),
     ("5", None), ("56A", None), ("abc", None), ("56.100", None)],
)  # fmt: skip
def test_naf_prefix(raw: str, prefix: str | None) -> None:
    assert naf_prefix(raw) == prefix


def test_new_filters(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    _prepare(web_app)
    client, _ = login(web_app, "agent_a", seeded[1])
    assert _listed(client)[0] == {IN, BOTH}
    assert _listed(client, naf="56")[0] == {IN}
    assert _listed(client, naf="56.10A")[0] == {IN}
    assert _listed(client, naf="471")[0] == {BOTH}
    assert _listed(client, naf="56,47.11")[0] == {IN, BOTH}
    assert _listed(client, naf="62")[0] == set()
    assert _listed(client, etat="ferme")[0] == {IN}
    assert _listed(client, etat="actif")[0] == {BOTH}
    got, page = _listed(client, sans_delai="1")
    assert got == {BOTH} and 'id="sans_delai" name="sans_delai" value="1" checked' in page
    # the export follows the same filters
    csv_text = client.get("/listes/1/export.csv", params={"sans_delai": "1", "naf": "47"}).text
    assert BOTH in csv_text and IN not in csv_text


def test_invalid_values_are_said(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    _prepare(web_app)
    client, _ = login(web_app, "agent_a", seeded[1])
    for params, words in (
        ({"naf": "abc"}, "Code NAF invalide (ex. 56, 56.1, 56.10 ou 56.10A) : abc"),
        ({"etat": "ouvert"}, "Choisissez « actif » ou « ferme »"),
        ({"secteur": "Z"}, "Section NAF inconnue : Z"),
        ({"alerte": "F3"}, "Niveau d'alerte inconnu (F1 ou F2) : F3"),
        ({"procol": "faillite"}, "État de procédure inconnu : faillite"),
        ({"departement": "ABCD"}, "Département inconnu : ABCD"),
    ):
        got, page = _listed(client, **params)
        assert got == {IN, BOTH}, params  # the bad value is left out…
        assert words in _warning(page), (params, _warning(page))  # …and said
    # « sans délai URSSAF » needs the URSSAF right: without it, not applied, and said
    org_admin, _ = login(web_app, "org_admin", seeded[1])  # score right only
    got, page = _listed(org_admin, sans_delai="1")
    assert got == {IN, BOTH} and "Ce filtre demande le droit URSSAF" in _warning(page)
    assert 'id="sans_delai"' not in page  # nor offered
    assert IN in org_admin.get("/listes/1/export.csv", params={"sans_delai": "1"}).text


def test_covid_sectors_are_left_out_on_request(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """« Hors secteurs COVID-19 » (the real system's ``excludeSecteursCovid``): 56.10A, restauration traditionnelle,
    is in S1; 47.11F, hypermarchés, is in no list."""
    assert covid_sector("56.10A") == "S1 : très probable" and covid_sector("47.11F") is None
    assert covid_sector("47.78C") == "S1 : possible"  # in S1 (possible) and in S2: the first list names it
    assert covid_sector("96.02A") == "S2 : très probable" and covid_sector(None) is None
    _prepare(web_app)
    client, _ = login(web_app, "agent_a", seeded[1])
    got, page = _listed(client, hors_covid="1")
    assert got == {BOTH} and 'id="hors_covid" name="hors_covid" value="1" checked' in page
    csv_text = client.get("/listes/1/export.csv", params={"hors_covid": "1"}).text
    assert BOTH in csv_text and IN not in csv_text
