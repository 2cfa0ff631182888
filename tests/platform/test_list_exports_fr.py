"""The list's CSV export speaks French, as the XLSX (issue 22, item 4): the same columns, French headers, decimal
comma, percentages, rounded amounts, Oui/Non, ``;``-separated, UTF-8 with BOM; the turnover in k€ in both."""

from __future__ import annotations

import csv
import io
from html import unescape
from typing import Any

from seed import SEED_COMPANIES, login

from signaux_faibles.platform.models import DianeStatement, Score


def _prepare(app: Any) -> None:
    with app.state.sessions() as db:
        siren = SEED_COMPANIES["in_alerted"][0]
        db.add(DianeStatement(siren=siren, exercice=2025, ca=844.4))  # k€, as DIANE delivers it
        score = db.query(Score).filter_by(list_id=1, siren=siren).one()
        score.probability, score.dette_urssaf = 0.45123, 149444.39999999997
        db.commit()


def test_csv_is_french_and_as_the_xlsx(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    from openpyxl import load_workbook

    _prepare(web_app)
    client, _ = login(web_app, "agent_a", seeded[1])
    r = client.get("/listes/1/export.csv")
    assert r.status_code == 200 and r.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff")), delimiter=";"))
    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    for english in ("rank", "siren", "probability", "alert", "first_alert", "dette_urssaf", "True", "False"):
        assert english not in header and english not in r.text.split("\r\n", 1)[1].split(";")
    wb = load_workbook(io.BytesIO(client.get("/listes/1/export.xlsx").content))
    xlsx = list(wb["Liste"].iter_rows(values_only=True))
    assert tuple(header) == xlsx[0]  # the same columns, in the same order
    assert "Chiffre d'affaires (k€)" in header and "Probabilité de défaillance" in header
    assert first["SIREN"] == SEED_COMPANIES["in_alerted"][0]
    assert first["Probabilité de défaillance"] == "45,1 %"
    assert first["Niveau d'alerte"] == "Risque élevé" and first["Première alerte"] == "Oui"
    assert first["Dette URSSAF (€)"] == "149444" and first["Hausse de la dette URSSAF"] == "Oui"
    assert first["Chiffre d'affaires (k€)"] == "844"
    assert first["Activité partielle (12 mois)"] == "Non"
    xfirst = dict(zip(xlsx[0], xlsx[1], strict=True))
    assert xfirst["Chiffre d'affaires (k€)"] == 844.4 and xfirst["Première alerte"] == "Oui"
    # the score right alone: no URSSAF nor DGEFP column, in either
    org_admin, _ = login(web_app, "org_admin", seeded[1])
    head = org_admin.get("/listes/1/export.csv").text.lstrip("\ufeff").split("\r\n", 1)[0].split(";")
    assert "Dette URSSAF (€)" not in head and "Activité partielle (12 mois)" not in head
    wb = load_workbook(io.BytesIO(org_admin.get("/listes/1/export.xlsx").content))
    assert tuple(head) == next(wb["Liste"].iter_rows(values_only=True))


def test_list_shows_turnover_in_keuros(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """DIANE gives the turnover in k€: the list shows « 844 k€ » (not « 844 € »), « 18,5 M€ » from 10 M€, and the CA
    filters say they compare thousands of euros (issue 22, item 3)."""
    _prepare(web_app)
    with web_app.state.sessions() as db:
        db.add(DianeStatement(siren=SEED_COMPANIES["both_alerted"][0], exercice=2025, ca=18460.0))
        db.commit()
    client, _ = login(web_app, "agent_a", seeded[1])
    html = unescape(client.get("/listes/1").text).replace("\u202f", " ").replace("\xa0", " ")
    assert "844 k€" in html and "18,5 M€" in html and "844 €" not in html
    assert "Chiffre d'affaires min. (k€)" in html and "En milliers d'euros" in html
    assert "149 444 €" in html  # the URSSAF debt, to the euro
    only = client.get("/listes/1", params={"ca_min": "1000"}).text  # 1 000 k€: 18,5 M€ stays, 844 k€ goes
    assert f"/entreprises/{SEED_COMPANIES['both_alerted'][0]}" in only
    assert f"/entreprises/{SEED_COMPANIES['in_alerted'][0]}" not in only
