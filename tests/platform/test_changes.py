"""What changed since the previous list (issue 20): the API, the page and the dashboard read the same rows."""

from __future__ import annotations

from typing import Any

from seed import SEED_COMPANIES
from test_web_matrix import _login

from signaux_faibles.platform.models import Company, Establishment, ListChange

S = {kind: siren for kind, (siren, _, _) in SEED_COMPANIES.items()}


def _changes(app: Any) -> None:
    with app.state.sessions() as db:
        db.add(Company(siren="888888888", raison_sociale="FERMEE", departement="21", region="27",
                       snapshot_batch="2609", est_actif=False))  # fmt: skip
        db.flush()
        db.add(Establishment(siret="88888888800011", siren="888888888", departement="21", region="27",
                             snapshot_batch="2609"))  # fmt: skip
        rows = [
            (S["in_alerted"], None, "Alerte seuil F1", "entrée"),
            (S["in_quiet"], "Alerte seuil F2", None, "sortie"),  # on the list without an alert: risk fell
            ("888888888", "Alerte seuil F2", None, "sortie"),  # not on the list, ceased: closed
            (S["both_alerted"], "Alerte seuil F2", "Alerte seuil F1", "hausse"),
            (S["out_alerted"], "Alerte seuil F1", "Alerte seuil F2", "baisse"),  # out of agent A's territory
        ]
        for siren, before, after, change in rows:
            db.add(ListChange(list_id=1, siren=siren, alert_previous=before, alert=after, change=change,
                              previous_batch="2608"))  # fmt: skip
        db.commit()


def test_changes_api_reasons_filters_and_territory(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    _changes(web_app)
    client, _ = _login(web_app, "agent_a", seeded[1])
    body = client.get("/api/lists/1/changes").json()
    got = {i["siren"]: (i["change"], i["exit_reason"]) for i in body["items"]}
    assert got == {
        S["in_alerted"]: ("entrée", None),
        S["in_quiet"]: ("sortie", "risque"),
        "888888888": ("sortie", "fermee"),
        S["both_alerted"]: ("hausse", None),
    }
    assert body["counts"] == {"entrée": 1, "sortie": 2, "hausse": 1, "baisse": 0} and body["total"] == 4
    exits = client.get("/api/lists/1/changes", params={"change": "sortie"}).json()
    assert {i["siren"] for i in exits["items"]} == {S["in_quiet"], "888888888"} and exits["total"] == 2
    assert client.get("/api/lists/1/changes", params={"change": "autre"}).status_code == 422
    in_75 = client.get("/api/lists/1/changes", params={"departement": "75"}).json()["items"]
    assert [i["siren"] for i in in_75] == [S["both_alerted"]]  # its head office is in 75
    page = client.get("/listes/1/evolutions", params={"changement": "sortie"}).text
    assert "FERMEE" in page and "entreprise fermée" in page and "risque en baisse" in page
    assert "SOCIETE IN_ALERTED" not in page
    dash = client.get("/tableau-de-bord").text
    assert 'id="evolutions-liste"' in dash and "2 sorties" in dash and "1 entrée" in dash
    other, _ = _login(web_app, "agent_b", seeded[1])
    assert {i["siren"] for i in other.get("/api/lists/1/changes").json()["items"]} == {
        S["out_alerted"], S["both_alerted"]
    }
    nobody, _ = _login(web_app, "no_rights", seeded[1])
    assert nobody.get("/api/lists/1/changes").status_code == 403
    assert nobody.get("/listes/1/evolutions").status_code == 403


def test_firms_in_proceedings_apart_from_the_alerts(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """Issue 19: a firm in collective proceedings is never on the alerts; the list shows it under its own filter
    and badge, the company page says the proceeding is open."""
    import datetime as dt

    from signaux_faibles.platform.models import ProcolEvent, Score

    siren = S["in_quiet"]
    with web_app.state.sessions() as db:
        row = db.get(Score, (1, siren))
        assert row is not None
        row.procedure_en_cours, row.etat_procol, row.date_procol = True, "liquidation", dt.date(2026, 9, 15)
        row.probability = 0.99
        db.add(ProcolEvent(siren=siren, date_effet=dt.date(2026, 9, 15), action_procol="liquidation",
                           stade_procol="ouverture", libelle_procol="Liquidation judiciaire"))  # fmt: skip
        db.commit()
    client, _ = _login(web_app, "agent_a", seeded[1])
    alerts = client.get("/listes/1").text
    assert "SOCIETE IN_QUIET" not in alerts
    apart = client.get("/listes/1", params={"en_procedure": "1"}).text
    assert "SOCIETE IN_QUIET" in apart and "En procédure collective" in apart and "SOCIETE IN_ALERTED" not in apart
    page = client.get(f"/entreprises/{siren}").text
    assert 'id="procedure-en-cours"' in page and "Liquidation judiciaire" in page and "15/09/2026" in page
    assert client.get(f"/api/companies/{siren}").json()["procedure"]["action"] == "liquidation judiciaire"


def test_term_structure_on_the_company_page_and_the_api(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """Issue 19, part 5: the probability at 3, 6, 12 and 18 months, on the page and in the API, with the score
    right only; none for a firm in proceedings."""
    from signaux_faibles.platform.models import Score
    from signaux_faibles.platform.web.formats import fr_percent

    siren = S["in_alerted"]
    with web_app.state.sessions() as db:
        row = db.get(Score, (1, siren))
        assert row is not None
        row.probability, row.probability_3m, row.probability_6m, row.probability_12m = 0.42, 0.05, 0.125, 0.3
        db.commit()
    client, _ = _login(web_app, "agent_a", seeded[1])
    latest = client.get(f"/api/companies/{siren}").json()["scores"][0]
    assert latest["term_structure"] == [
        {"months": 3, "probability": 0.05}, {"months": 6, "probability": 0.125},
        {"months": 12, "probability": 0.3}, {"months": 18, "probability": 0.42},
    ]  # fmt: skip
    page = client.get(f"/entreprises/{siren}").text
    assert 'id="term-structure"' in page
    table = page.split('id="term-structure"')[1].split("</table>")[0]
    for shown in (0.05, 0.125, 0.3, 0.42):
        assert f"<td>{fr_percent(shown)}</td>" in table
    nobody, _ = _login(web_app, "no_rights", seeded[1])
    body = nobody.get(f"/api/companies/{siren}")
    assert body.status_code != 200 or "term_structure" not in body.text
    with web_app.state.sessions() as db:
        row = db.get(Score, (1, siren))
        assert row is not None
        row.procedure_en_cours = True
        db.commit()
    assert client.get(f"/api/companies/{siren}").json()["scores"][0]["term_structure"] is None
    assert 'id="term-structure"' not in client.get(f"/entreprises/{siren}").text
