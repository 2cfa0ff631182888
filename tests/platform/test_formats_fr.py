"""Issue 22, item 5: French formats (Babel) and French words for the platform's codes."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from seed import SEED_COMPANIES, login

from signaux_faibles.platform.web import formats as f

NB = "\u00a0"
NNB = "\u202f"


def _plain(s: str) -> str:
    return s.replace(NB, " ").replace(NNB, " ")


def test_numbers_money_and_months() -> None:
    assert _plain(f.fr_percent(0.451)) == "45,1 %"
    assert _plain(f.fr_percent(1.0, 0)) == "100 %"
    assert _plain(f.fr_euros(4897.3)) == "4 897 €"
    assert _plain(f.fr_keuros(1235.0)) == "1 235 k€"
    assert _plain(f.fr_keuros(18460.0)) == "18,5 M€"
    assert _plain(f.fr_keuros(-240)).endswith("240 k€")
    assert f.fr_keuros(None) == "" and f.fr_euros("x") == ""
    assert f.fr_date("2008-12-14") == "14/12/2008"
    assert f.fr_month("2026-09") == "septembre 2026" and f.fr_month(dt.date(2026, 1, 1)) == "janvier 2026"


def test_times_are_shown_in_paris() -> None:
    winter = dt.datetime(2026, 1, 15, 12, 30)  # naive: UTC, as stored
    summer = dt.datetime(2026, 7, 15, 12, 30, tzinfo=dt.UTC)
    assert f.fr_datetime(winter) == "15/01/2026 13:30"
    assert f.fr_datetime(summer) == "15/07/2026 14:30"
    assert f.fr_date(dt.datetime(2026, 7, 14, 23, 30)) == "15/07/2026"  # 23:30 UTC is the next day in Paris


def test_codes_in_french() -> None:
    assert f.fr_territory("R27") == "région Bourgogne-Franche-Comté"
    assert f.fr_territory(["FR"]) == "France entière"
    assert f.fr_territory("21") == "département 21"
    assert f.fr_role("org-admin") == "administrateur de l'organisation"
    assert f.fr_rights("") == "aucun" and "URSSAF" in f.fr_rights({"urssaf"})
    assert f.fr_procol_action("liquidation") == "liquidation judiciaire"
    assert f.fr_procol_stage("plan_continuation") == "plan de continuation"
    detail = f.fr_audit_detail({"reason": "needs the score right", "action": "export_list"})
    assert detail.startswith("motif : Votre habilitation") and "action : exporter une liste" in detail


def test_account_page_speaks_french(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(web_app, "org_admin", seeded[1])
    page = html.unescape(client.get("/compte").text)
    assert "Rôle : administrateur de l'organisation" in page
    assert "Territoire : département 21" in page
    assert "Droits : score (alertes et probabilités)" in page


def test_company_page_diane_amounts_have_their_unit(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    from signaux_faibles.platform.models import DianeStatement

    siren = SEED_COMPANIES["in_alerted"][0]
    with web_app.state.sessions() as db:
        db.add(DianeStatement(siren=siren, exercice=2024, arrete_bilan=dt.date(2024, 12, 31), ca=1235.0,
                              resultat_expl=-240.0, excedent_brut_d_exploitation=18460.0))  # fmt: skip
        db.commit()
    client, _ = login(web_app, "agent_a", seeded[1])
    page = _plain(html.unescape(client.get(f"/entreprises/{siren}").text))
    assert ">1235.0<" not in page
    assert "1 235 k€" in page and "18,5 M€" in page and "240 k€" in page
    assert "clos le 31/12/2024" in page


def test_establishment_page_in_french(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(web_app, "agent_a", seeded[1])
    siret = SEED_COMPANIES["in_alerted"][1][0][0]
    page = html.unescape(client.get(f"/etablissements/{siret}").text)
    assert "Siège : oui" in page and "Département : 21" in page
