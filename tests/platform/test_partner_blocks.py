"""The partners' blocks of the company page (issue 23): « Paiements » (paydex and FPI 30/90, right ``bdf``), the CCSF
plans in the URSSAF data (right ``urssaf``), « Groupe » (Ellisphere, seen like the identity) — on the page, in the
API and in the Word dossier; each appears with its right and data, says so when there is no data, and disappears
without the right; the audit trail names the confidential blocks shown.

Positive cases use agent A, in the territory (département 21) with every data right, on an alerted company;
negative cases take the data rights away, so that they hold whichever way the territory rule goes."""

from __future__ import annotations

import datetime as dt
import html
import io
from typing import Any

import pytest
from docx import Document
from seed import SEED_COMPANIES, SEED_PASSWORD, login
from sqlalchemy import select

from signaux_faibles.platform import accounts
from signaux_faibles.platform.models import AuditEvent, CcsfEvent, GroupMember, PaymentRecord

SIREN = SEED_COMPANIES["in_alerted"][0]  # alerted, in agent A's territory
SIRET = SEED_COMPANIES["in_alerted"][1][0][0]
HEAD = SEED_COMPANIES["in_quiet"][0]  # the group's head, a published company
EMPTY = SEED_COMPANIES["both_alerted"][
    0
]  # alerted, in the territory by its second establishment: no partner data
UNPUBLISHED = "987654321"  # a member of the group the platform does not know


def _month(i: int) -> dt.date:
    """The 15th of the i-th month from October 2025 (i = 0 … 13: October 2025 … November 2026)."""
    return dt.date(2025 + (9 + i) // 12, (9 + i) % 12 + 1, 15)


@pytest.fixture
def partner_app(web_app: Any) -> Any:
    """The seeded platform with 14 payment records, two CCSF events and a group for ``SIREN``."""
    with web_app.state.sessions() as db:
        for i in range(14):
            db.add(PaymentRecord(siren=SIREN, date_valeur=_month(i), paydex_jours=10.0 + i,
                                 fpi_30=None if i == 13 else 40.0 + i, fpi_90=None if i == 13 else 5.0 + i))  # fmt: skip
        db.add(CcsfEvent(siret=SIRET, siren=SIREN, numero_compte="123", date_traitement=dt.date(2025, 3, 4),
                         stade="DEBUT", action="CCSF"))  # fmt: skip
        db.add(CcsfEvent(siret=SIRET, siren=SIREN, numero_compte="123", date_traitement=dt.date(2025, 5, 6),
                         stade="APPROB", action="CCSF"))  # fmt: skip
        for member, level, share in ((HEAD, 0, 100.0), (SIREN, 1, 75.5), (UNPUBLISHED, 2, 51.0)):
            db.add(GroupMember(code_groupe="G42", siren=member, siren_tete=HEAD, raison_sociale_groupe="GROUPE TEST",
                               niveau_detention=level, part_financiere=share))  # fmt: skip
        db.commit()
    return web_app


def _page(client: Any, siren: str = SIREN) -> str:
    r = client.get(f"/entreprises/{siren}")
    assert r.status_code == 200, r.text[:500]
    return html.unescape(r.text)


def _section(page: str, anchor: str) -> str:
    """The page from the heading ``id=anchor`` to the next ``<h2``."""
    start = page.index(f'id="{anchor}"')
    end = page.find("<h2", start)
    return page[start : end if end > 0 else None]


def _docx_text(client: Any, siren: str = SIREN) -> str:
    r = client.get(f"/entreprises/{siren}/dossier.docx")
    assert r.status_code == 200
    doc = Document(io.BytesIO(r.content))
    return "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for row in t.rows for c in row.cells
    )


def _user(app: Any, email: str, rights: str) -> dict[str, int]:
    with app.state.sessions() as db:
        user = accounts.add_user(db, email, organisation="URSSAF", territory="21", rights=rights,
                                 password=SEED_PASSWORD)  # fmt: skip
        db.commit()
        return {email: user.id}


def test_blocks_appear_with_the_right_data(partner_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(partner_app, "agent_a", seeded[1])
    page = _page(client)
    pay = _section(page, "paiements")
    assert pay.count("<tr>") == 13  # the header and the last 12 values
    assert "15/11/2026" in pay and "15/10/2025" not in pay and "15/11/2025" not in pay  # the newest 12
    assert pay.index("15/11/2026") < pay.index("15/12/2025")  # newest first
    assert (
        ">23<" in pay and ">52<" in pay and ">16<" in pay
    )  # paydex of Nov. 2026, FPI 30 and 90 of Oct. 2026
    assert 'data-chart="paydex"' in pay and 'data-chart="fpi"' in pay
    ccsf = _section(page, "ccsf")
    assert "06/05/2025" in ccsf and "Plan accordé" in ccsf and "Demande déposée" in ccsf
    assert "Plan d'apurement CCSF" in ccsf and ccsf.index("06/05/2025") < ccsf.index("04/03/2025")
    group = _section(page, "groupe")
    assert "GROUPE TEST" in group and f'href="/entreprises/{HEAD}"' in group and "SOCIETE IN_QUIET" in group
    assert UNPUBLISHED in group and f'href="/entreprises/{UNPUBLISHED}"' not in group  # no page to link to
    assert "75,5 %" in group and "51,0 %" in group and "tête de groupe" in group
    # the graphs section does not draw the payments' charts a second time
    assert page.count('data-chart="paydex"') == 1


def test_api_carries_the_blocks(partner_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(partner_app, "agent_a", seeded[1])
    body = client.get(f"/api/companies/{SIREN}").json()
    assert len(body["paiements"]) == 14 and body["paiements"][-1] == {
        "date_valeur": "2026-11-15", "paydex_jours": 23.0, "fpi_30": None, "fpi_90": None}  # fmt: skip
    assert [(e["date_traitement"], e["stade"], e["stade_fr"]) for e in body["ccsf"]] == [
        ("2025-05-06", "APPROB", "plan accordé"), ("2025-03-04", "DEBUT", "demande déposée")]  # fmt: skip
    [g] = body["groupes"]
    assert (g["raison_sociale_groupe"], g["tete"]["siren"], g["part_financiere"], g["est_tete"]) == (
        "GROUPE TEST", HEAD, 75.5, False)  # fmt: skip
    assert [(m["siren"], m["tete"], m["published"]) for m in g["membres"]] == [
        (HEAD, True, True), (UNPUBLISHED, False, False)]  # fmt: skip


def test_blocks_disappear_without_the_rights(partner_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(partner_app, "no_rights", seeded[1])  # département 21, no data right
    page = _page(client)
    assert (
        'id="paiements-hidden"' in page
        and 'id="paiements-table"' not in page
        and 'data-chart="paydex"' not in page
    )
    assert 'id="ccsf"' not in page and "Plan accordé" not in page
    assert "GROUPE TEST" in _section(page, "groupe")  # the group is seen like the identity
    body = client.get(f"/api/companies/{SIREN}").json()
    assert "paiements" not in body and "ccsf" not in body and body["groupes"][0]["code_groupe"] == "G42"
    text = _docx_text(client)
    assert "GROUPE TEST" in text and "Paydex" not in text and "CCSF" not in text


def test_each_block_follows_its_own_right(partner_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """The URSSAF right without the bdf right: the CCSF plans, not the payments; and the other way round (with the
    score right, which tells an alerted company)."""
    ids = _user(partner_app, "urssaf.seul@urssaf.fr", "score,urssaf") | _user(
        partner_app, "bdf@bdf.fr", "score,bdf"
    )
    client, _ = login(partner_app, "urssaf.seul@urssaf.fr", ids)
    page = _page(client)
    assert "Plan accordé" in page and 'id="paiements-hidden"' in page
    client, _ = login(partner_app, "bdf@bdf.fr", ids)
    page = _page(client)
    assert 'id="ccsf"' not in page and 'id="paiements-table"' in page


def test_empty_blocks_say_so(partner_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(partner_app, "agent_a", seeded[1])
    page = _page(client, EMPTY)
    assert "Aucune donnée Altares pour cette entreprise" in _section(page, "paiements")
    assert 'id="ccsf-vide"' in page and 'id="groupe-vide"' in page
    body = client.get(f"/api/companies/{EMPTY}").json()
    assert (body["paiements"], body["ccsf"], body["groupes"]) == ([], [], [])
    text = _docx_text(client, EMPTY)
    assert "Aucune donnée Altares pour cette entreprise" in text and "pas de groupe connu" in text
    # the group's head sees itself as the head, and the two other members
    group = _section(_page(client, HEAD), "groupe")
    assert "tête de groupe : cette entreprise" in group and f'href="/entreprises/{SIREN}"' in group


def test_a_large_group_is_cut(partner_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    from signaux_faibles.platform.services.partners import GROUP_MEMBERS_SHOWN

    with partner_app.state.sessions() as db:
        for i in range(GROUP_MEMBERS_SHOWN + 5):
            db.add(GroupMember(code_groupe="G42", siren=f"{700000000 + i}", siren_tete=HEAD, niveau_detention=3,
                               raison_sociale_groupe="GROUPE TEST", part_financiere=10.0))  # fmt: skip
        db.commit()
    client, _ = login(partner_app, "agent_a", seeded[1])
    [g] = client.get(f"/api/companies/{SIREN}").json()["groupes"]
    assert len(g["membres"]) == GROUP_MEMBERS_SHOWN and g["membres_total"] == GROUP_MEMBERS_SHOWN + 7
    assert g["membres"][0]["siren"] == HEAD and g["membres"][1]["siren"] == UNPUBLISHED  # head, then by level
    assert "… et 7 autres entreprises du groupe (57 en tout)" in _section(_page(client), "groupe")


def test_dossier_has_the_blocks(partner_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(partner_app, "agent_a", seeded[1])
    text = _docx_text(client)
    assert "Paiements" in text and "15/11/2026" in text and "15/11/2025" not in text  # the last 12 values
    assert "Plan accordé" in text and "GROUPE TEST" in text and "SOCIETE IN_QUIET (tête de groupe)" in text


def test_confidential_blocks_are_audited(partner_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    ids = seeded[1]
    client, _ = login(partner_app, "agent_a", ids)
    _page(client)
    with partner_app.state.sessions() as db:
        ours = (AuditEvent.user_id == ids["agent_a"], AuditEvent.siren == SIREN)
        shown = db.scalars(
            select(AuditEvent.detail).where(*ours, AuditEvent.event == "confidential_shown")
        ).all()
    assert len(shown) == 1 and {"paiements", "ccsf"} <= set(shown[0]["blocks"])
