"""Issue 22, item 6: French error pages for the browser (403 with its reason in French, 404, 422, 500), JSON for the
API; the header of an error page names the logged-in user."""

from __future__ import annotations

import html
from typing import Any

from fastapi.testclient import TestClient
from seed import SEED_COMPANIES, login

from signaux_faibles.platform.web.guard import REASONS_FR, in_french

HTML = {"Accept": "text/html,application/xhtml+xml"}


def test_unknown_page_is_a_french_404(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    anonymous = TestClient(web_app)
    r = anonymous.get("/cette-page-n-existe-pas", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in r.text and "Not Found" not in r.text
    assert "Se connecter" in r.text
    assert r.headers["content-security-policy"]
    client, _ = login(web_app, "agent_a", seeded[1])
    r = client.get("/cette-page-n-existe-pas", headers=HTML)
    assert r.status_code == 404 and "Page introuvable" in r.text
    assert "Se connecter" not in r.text and "Se déconnecter" in r.text and "Mon compte" in r.text


def test_api_and_json_requests_get_json(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(web_app, "agent_a", seeded[1])
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    r = client.get("/cette-page-n-existe-pas", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    r = client.get("/api/companies/abc")
    assert r.status_code in (404, 422) and r.headers["content-type"].startswith("application/json")


def test_bad_path_value_is_a_french_422(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(web_app, "agent_a", seeded[1])
    r = client.get("/entreprises/abc", headers=HTML)
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "Adresse invalide" in r.text and "le SIREN (9 chiffres)" in r.text
    assert "Se déconnecter" in r.text
    r = client.get("/listes/abc", headers=HTML)
    assert r.status_code == 422 and "le numéro de la liste" in r.text


def test_403_speaks_french(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(web_app, "agent_a", seeded[1])
    siren = SEED_COMPANIES["out_alerted"][0]  # département 75, agent A's territory is 21
    r = client.get(f"/entreprises/{siren}/commentaires", headers=HTML)  # the agents' work: territory or follow
    assert r.status_code == 403 and "Accès refusé" in r.text
    assert REASONS_FR["in the territory or followed"] in html.unescape(r.text)
    assert "in the territory" not in r.text
    assert "Se déconnecter" in r.text
    no_rights, _ = login(web_app, "no_rights", seeded[1])
    r = no_rights.get("/listes/1/export.csv", headers=HTML)
    assert r.status_code == 403 and "droit « score »" in html.unescape(r.text) and "needs the" not in r.text
    r = no_rights.get("/api/lists/1/scores")  # the API keeps the recorded reason, in JSON
    assert r.status_code == 403 and r.json() == {"detail": "needs the score right"}


def test_reasons_in_french() -> None:
    assert in_french("needs the urssaf right").startswith("Votre habilitation ne comprend pas le droit « urssaf »")
    assert "« dgefp »" in in_french("needs the score and dgefp rights")
    assert in_french("Catégorie de suivi inconnue.") == "Catégorie de suivi inconnue."


def test_crash_is_a_french_500(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    @web_app.get("/boom-test", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("boom")

    client = TestClient(web_app, raise_server_exceptions=False)
    r = client.get("/boom-test", headers=HTML)
    assert r.status_code == 500 and "Erreur interne" in r.text and "boom" not in r.text
    assert r.headers["content-security-policy"]
    r = client.get("/boom-test", headers={"Accept": "application/json"})
    assert r.status_code == 500 and r.json() == {"detail": "internal server error"}
