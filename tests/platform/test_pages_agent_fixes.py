"""Issue 22, item 9: small things that looked broken on the company page, the 2FA enrolment and the audit page."""

from __future__ import annotations

import html
from typing import Any

from seed import SEED_COMPANIES, login

from signaux_faibles.platform.web.charts import _decimals, _ticks, company_charts, waterfall


def test_company_page_explains_a_secondary_establishment(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(web_app, "agent_a", seeded[1])  # territory: département 21
    page = html.unescape(client.get(f"/entreprises/{SEED_COMPANIES['both_alerted'][0]}").text)
    assert 'id="etablissement-secondaire"' in page and "établissement secondaire dans votre territoire" in page
    page = html.unescape(client.get(f"/entreprises/{SEED_COMPANIES['in_alerted'][0]}").text)
    assert 'id="etablissement-secondaire"' not in page
    # the heading says it once: the table's caption is for screen readers only
    assert "fr-table--no-caption\"><table><caption>Établissements de l'entreprise" in page
    assert "fr-btns-group--icon-left" in page  # the Word dossier's button keeps its label


def test_suggestion_buttons_go_once_decided(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, csrf = login(web_app, "agent_a", seeded[1])
    siren = SEED_COMPANIES["in_alerted"][0]
    page = client.get(f"/entreprises/{siren}").text
    if 'id="suggestions"' not in page:  # the seed suggests nothing: nothing to check
        return
    assert page.count('value="confirmed"') >= 1
    import re

    measure = re.search(r'name="measure" value="([^"]+)"', page.split('id="suggestions"')[1])
    assert measure
    r = client.post(f"/entreprises/{siren}/suggestions", data={"csrf_token": csrf or "", "measure": measure.group(1),
                    "decision": "confirmed", "signal": "test"}, follow_redirects=True)  # fmt: skip
    assert r.status_code == 200
    block = r.text.split('id="suggestions"')[1].split("</table>")[0]
    row = next(tr for tr in block.split("<tr>") if f'value="{measure.group(1)}"' in tr or "Confirmée" in tr)
    assert "Confirmée" in row and 'value="confirmed"' not in row


def test_code_page_shows_a_qr_code(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    from fastapi.testclient import TestClient
    from seed import SEED_PASSWORD, SEED_USERS

    client = TestClient(web_app)
    page = client.get("/connexion").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/connexion", data={"csrf_token": token, "email": SEED_USERS["agent_b"][0],
                                        "password": SEED_PASSWORD}, follow_redirects=True)  # fmt: skip
    assert r.url.path == "/connexion/code", r.url
    assert 'id="totp-qr"' in r.text and "<svg" in r.text and 'id="totp-secret"' in r.text
    assert "http://" not in r.text.split('id="totp-qr"')[1].split("</figure>")[0].replace("http://www.w3.org", "")


def test_audit_page_is_paged_and_in_french(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    from signaux_faibles.platform import audit
    from signaux_faibles.platform.web.formats import fr_audit_detail

    with web_app.state.sessions() as db:
        db.add_all([audit.event("denied", email="x@urssaf.fr", detail={"reason": "needs the score right",
                                                                          "action": "export_list"}) for _ in range(130)])  # fmt: skip
        db.commit()
    client, _ = login(web_app, "admin", seeded[1])
    page = html.unescape(client.get("/admin/audit").text)
    assert 'id="audit-pagination"' in page and "page 1 sur 2" in page
    assert "Votre habilitation ne comprend pas le droit" in page and "needs the score right" not in page
    assert "exporter une liste" in page
    page2 = client.get("/admin/audit", params={"page": 2}).text
    assert 'aria-current="page">2<' in page2
    assert fr_audit_detail({"count": 3}) == "tentatives : 3"


def test_chart_axes() -> None:
    ticks = _ticks(0, 12.5)
    assert ticks == [0, 5, 10, 15] and _decimals(ticks[1] - ticks[0]) == 0  # no « 2, 8, 12 » for 2,5 / 7,5 / 12,5
    assert _decimals(2.5) == 1 and _decimals(0.25) == 2
    svg = str(waterfall(0.4, {"dette": 0.65, "emploi": -0.06}, 0.99, "t"))  # a running sum past 100 %
    assert "125" not in svg and "100\u00a0%" in svg


def test_no_partial_activity_says_so() -> None:
    view = {"dgefp": [{"periode": "2026-01-01", "apart_heures_autorisees": 0.0, "apart_heures_consommees": 0.0},
                      {"periode": "2026-02-01", "apart_heures_autorisees": None, "apart_heures_consommees": 0.0}]}  # fmt: skip
    out = company_charts(view)
    assert "Aucune activité partielle" in out["dgefp"] and "<svg" not in out["dgefp"]
    view["dgefp"][0]["apart_heures_autorisees"] = 20.0
    assert "<svg" in company_charts(view)["dgefp"]
