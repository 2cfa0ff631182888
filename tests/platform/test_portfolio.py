"""The followed portfolio (issue 23): « Mes entreprises » and the organisation's portfolio, their rows (level,
change since the previous list, proceeding, case, last comment), the rights on them, their exports (XLSX, DOCX)
and their audit; and who follows a company (names only to the same organisation or the case's participants)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from seed import SEED_COMPANIES, login, seed_history
from sqlalchemy import select
from sqlalchemy.orm import Session

from signaux_faibles.platform import accounts
from signaux_faibles.platform.models import AuditEvent, Comment, ProcolEvent, User
from signaux_faibles.platform.policy import Action, Actor, allowed
from signaux_faibles.platform.services.portfolio import portfolio_rows
from signaux_faibles.platform.services.work import add_participant, followers_of, open_case
from signaux_faibles.platform.store import db as platform_db

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

IN_ALERTED = SEED_COMPANIES["in_alerted"][0]  # 111111111, dépt 21, F1 (F2 on the previous list: « hausse »)
IN_QUIET = SEED_COMPANIES["in_quiet"][0]  # 222222222, dépt 21, no alert (F2 before: « sortie »)
OUT_FOLLOWED = SEED_COMPANIES["out_followed"][0]  # 444444444, dépt 75, followed by agent A
CLOSED = SEED_COMPANIES["closed_region"][0]  # 666666666, région 93 (closed)


@dataclass
class FakeCtx:
    """What ``portfolio_rows`` needs of a request."""

    db: Session
    actor: Actor
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def audit(self, event: str, **kw: Any) -> None:
        self.events.append((event, kw))


def _db(url: str) -> Session:
    return platform_db.sessions(platform_db.get_engine(url))()


def _prepare(url: str, ids: dict[str, int]) -> None:
    """The history of lists, follows by agent A and B and the no-rights agent, a case, comments, a proceeding."""
    seed_history(url)
    with _db(url) as db:
        a, b, nr = (db.get(User, ids[k]) for k in ("agent_a", "agent_b", "no_rights"))
        assert a is not None and b is not None and nr is not None
        t0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)
        accounts.follow(db, a, IN_ALERTED, "Accompagnement en cours")
        accounts.follow(db, a, IN_QUIET, "Veille")
        accounts.follow(db, a, CLOSED, "Veille")  # a closed région: listed for nobody
        accounts.follow(db, b, IN_ALERTED, "Signalement d'un partenaire")
        accounts.follow(db, b, SEED_COMPANIES["out_alerted"][0], "Veille")
        accounts.follow(db, nr, IN_ALERTED, "Veille")
        case = open_case(db, a, IN_ALERTED, ["trésorerie"])
        add_participant(db, case, "sans.droit@dreets.gouv.fr")
        db.add(Comment(siren=IN_ALERTED, user_id=a.id, body="Premier échange.", created_at=t0))
        db.add(Comment(siren=IN_ALERTED, user_id=nr.id, body="Rendez-vous pris " + "x" * 400,
                       created_at=t0 + dt.timedelta(days=2)))  # fmt: skip
        db.add(ProcolEvent(siren=IN_QUIET, date_effet=dt.date(2026, 9, 15), action_procol="redressement",
                           stade_procol="ouverture", libelle_procol=None))  # fmt: skip
        db.commit()


def _facts(url: str, actor: Actor, siren: str) -> Any:
    with _db(url) as db:
        return accounts.company_facts(db, actor, siren)


def _ctx(db: Session, user_id: int) -> FakeCtx:
    user = db.get(User, user_id)
    assert user is not None
    return FakeCtx(db, accounts.actor_of(db, user))


def test_my_rows_hold_level_change_procedure_case_and_last_comment(
    seeded: tuple[str, dict[str, int]],
) -> None:
    url, ids = seeded
    _prepare(url, ids)
    with _db(url) as db:
        ctx = _ctx(db, ids["agent_a"])
        rows = {r["siren"]: r for r in portfolio_rows(ctx, "mine")}
    assert set(rows) == {IN_ALERTED, IN_QUIET, OUT_FOLLOWED}  # not the company of a closed région
    r = rows[IN_ALERTED]
    assert r["raison_sociale"] == "SOCIETE IN_ALERTED" and r["departement"] == "21" and r["in_territory"]
    assert (r["category"], r["followers"]) == ("Accompagnement en cours", 1)
    assert (r["level"], r["level_label"], r["level_list"]) == (
        "Alerte seuil F1",
        "Risque élevé",
        "Septembre 2026",
    )
    assert (r["change"], r["change_label"]) == ("hausse", "Hausse de niveau")
    assert (r["case_state"], r["case_label"]) == ("in_progress", "En cours")
    last = r["last_comment"]
    assert last["organisation"] == "DREETS/DDETS" and last["text"].startswith("Rendez-vous pris")
    assert len(last["text"]) <= 280 and last["text"].endswith("…")
    q = rows[IN_QUIET]
    assert (q["level_label"], q["change"]) == ("Pas d'alerte", "sortie")
    assert q["procedure"]["action"] == "redressement" and q["procedure"]["date"] == dt.date(2026, 9, 15)
    assert q["case_state"] is None and q["last_comment"] is None
    o = rows[OUT_FOLLOWED]
    assert not o["in_territory"] and o["level_label"] == "Pas d'alerte" and o["change"] is None
    assert ctx.events == [("list_viewed", {"detail": {"view": "portefeuille", "scope": "mes entreprises", "rows": 3,
                                                      "hors_territoire": [OUT_FOLLOWED]}})]  # fmt: skip


def test_the_level_is_withheld_without_the_score_right(seeded: tuple[str, dict[str, int]]) -> None:
    url, ids = seeded
    _prepare(url, ids)
    with _db(url) as db:
        rows = portfolio_rows(_ctx(db, ids["no_rights"]), "mine")
    assert [r["siren"] for r in rows] == [IN_ALERTED]
    r = rows[0]
    assert r["level_withheld"] and r["level"] is None and r["level_label"] is None and r["change"] is None
    assert r["case_label"] == "En cours" and r["last_comment"] is not None  # the work, not the score


def test_the_organisation_portfolio_gathers_its_agents_follows(seeded: tuple[str, dict[str, int]]) -> None:
    url, ids = seeded
    _prepare(url, ids)
    with _db(url) as db:
        ctx = _ctx(db, ids["agent_b"])  # URSSAF, Paris
        rows = {r["siren"]: r for r in portfolio_rows(ctx, "organisation")}
        nr_rows = portfolio_rows(_ctx(db, ids["no_rights"]), "organisation")
    # agent A's and agent B's follows (URSSAF), not the DREETS agent's; one row per company, those the policy lets
    # agent B open (identity: every agent, on a company of an open région)
    urssaf = {IN_ALERTED, IN_QUIET, OUT_FOLLOWED, SEED_COMPANIES["out_alerted"][0]}
    assert set(rows) == {
        s for s in urssaf if allowed(ctx.actor, Action.VIEW_COMPANY, _facts(url, ctx.actor, s))
    }
    assert {IN_ALERTED, SEED_COMPANIES["out_alerted"][0]} <= set(rows)  # followed by B, in B's territory
    r = rows[IN_ALERTED]
    assert r["followers"] == 2
    assert {f["email"] for f in r["followed_by"]} == {"agent.a@urssaf.fr", "agent.b@urssaf.fr"}
    assert r["categories"] == ["Accompagnement en cours", "Signalement d'un partenaire"]
    assert r["category"] == "Accompagnement en cours"  # the earliest follow
    # agent B (Paris) follows 111111111 (Dijon): the score opens on a followed company
    assert r["level_label"] == "Risque élevé"
    # 222222222 (Dijon), followed by a colleague only, outside B's territory: no score
    assert IN_QUIET not in rows or rows[IN_QUIET]["level_withheld"]
    # nor its case and comments: the agents' work opens in the territory or on a followed company
    assert IN_QUIET not in rows or (rows[IN_QUIET]["work_withheld"] and rows[IN_QUIET]["case_label"] is None)
    assert not r["work_withheld"] and r["case_label"] == "En cours" and r["last_comment"] is not None
    assert ctx.events[0][0] == "list_viewed" and ctx.events[0][1]["detail"]["scope"] == "organisation"
    assert [r["siren"] for r in nr_rows] == [IN_ALERTED]  # the DREETS organisation follows one company


def test_an_export_is_recorded_as_such(seeded: tuple[str, dict[str, int]]) -> None:
    url, ids = seeded
    _prepare(url, ids)
    with _db(url) as db:
        ctx = _ctx(db, ids["agent_a"])
        portfolio_rows(ctx, "mine", export="xlsx")
    assert ctx.events[0][0] == "export"
    assert ctx.events[0][1]["detail"] == {"format": "xlsx", "kind": "portefeuille", "scope": "mes entreprises",
                                          "rows": 3, "hors_territoire": [OUT_FOLLOWED]}  # fmt: skip


def test_an_unknown_scope_is_refused(seeded: tuple[str, dict[str, int]]) -> None:
    url, ids = seeded
    with _db(url) as db, pytest.raises(ValueError, match="scope"):
        portfolio_rows(_ctx(db, ids["agent_a"]), "everyone")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------- followers


def test_followers_are_named_to_the_same_organisation_and_the_case_participants(
    seeded: tuple[str, dict[str, int]],
) -> None:
    url, ids = seeded
    _prepare(
        url, ids
    )  # 111111111: followed by agents A and B (URSSAF) and the DREETS agent, A's case has him
    with _db(url) as db:
        as_b = followers_of(db, IN_ALERTED, _ctx(db, ids["agent_b"]).actor)
        as_nr = followers_of(db, IN_ALERTED, _ctx(db, ids["no_rights"]).actor)
        as_admin = followers_of(db, IN_ALERTED, _ctx(db, ids["admin"]).actor)
    by_org = {f["organisation"]: f for f in as_b}
    assert {f["organisation"] for f in as_b} == {"URSSAF", "DREETS/DDETS"} and len(as_b) == 3
    assert all(f["known"] and f["email"] for f in as_b if f["organisation"] == "URSSAF")
    dreets = by_org["DREETS/DDETS"]
    assert not dreets["known"] and dreets["name"] is None and dreets["email"] is None
    assert dreets["category"] == "Veille" and dreets["since"] is not None
    assert all(f["known"] for f in as_nr)  # a participant of the company's case sees everyone
    assert not any(f["known"] for f in as_admin)  # the national team: another organisation


def test_the_company_page_names_followers_only_when_allowed(
    seeded: tuple[str, dict[str, int]], web_app: Any
) -> None:
    url, ids = seeded
    _prepare(url, ids)
    with _db(url) as db:
        dreets = db.get(User, ids["no_rights"])
        assert dreets is not None
        accounts.follow(db, dreets, OUT_FOLLOWED, "Veille")  # a DREETS agent, no case on 444444444
        db.commit()
    client, _ = login(web_app, "agent_a", ids)
    page = client.get(f"/entreprises/{OUT_FOLLOWED}")
    assert page.status_code == 200
    followers = page.text.split('<ul id="followers">')[1].split("</ul>")[0]
    assert "agent.a@urssaf.fr" in followers and 'href="mailto:agent.a@urssaf.fr"' in followers
    assert "Un agent de DREETS" in followers and "sans.droit@dreets.gouv.fr" not in followers
    assert "— Veille, depuis le " in followers
    page = client.get(f"/entreprises/{IN_ALERTED}")  # A takes part in its case: A sees every name
    followers = page.text.split('<ul id="followers">')[1].split("</ul>")[0]
    assert "sans.droit@dreets.gouv.fr" in followers and "Un agent de" not in followers


# ---------------------------------------------------------------------------------------------- pages, exports


def _events(url: str, event: str) -> list[AuditEvent]:
    with _db(url) as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.event == event).order_by(AuditEvent.id)))


def test_my_companies_page_shows_the_columns_and_the_export_links(
    seeded: tuple[str, dict[str, int]], web_app: Any
) -> None:
    url, ids = seeded
    _prepare(url, ids)
    client, _ = login(web_app, "agent_a", ids)
    page = client.get("/mes-entreprises")
    assert page.status_code == 200
    table = page.text.split('id="portefeuille"')[1]
    for header in (
        "Niveau (dernière liste)",
        "Évolution",
        "Procédure collective",
        "Accompagnement",
        "Dernier commentaire",
    ):
        assert header in table
    row = table.split(f'id="ligne-{IN_ALERTED}"')[1].split("</tr>")[0]
    assert (
        "Risque élevé" in row
        and "Hausse de niveau" in row
        and "En cours" in row
        and "Rendez-vous pris" in row
    )
    quiet = table.split(f'id="ligne-{IN_QUIET}"')[1].split("</tr>")[0]
    assert "Sortie de la liste" in quiet and "Redressement judiciaire (ouverture), le 15/09/2026" in quiet
    assert CLOSED not in table
    assert (
        'href="/mes-entreprises/export.xlsx"' in page.text
        and 'href="/mes-entreprises/export.docx"' in page.text
    )
    detail = _events(url, "list_viewed")[-1].detail
    assert detail is not None and detail["view"] == "portefeuille" and detail["scope"] == "mes entreprises"


def test_the_organisation_page_lists_the_colleagues_follows(
    seeded: tuple[str, dict[str, int]], web_app: Any
) -> None:
    url, ids = seeded
    _prepare(url, ids)
    client, _ = login(web_app, "agent_a", ids)
    page = client.get("/portefeuille")
    assert page.status_code == 200 and "Portefeuille de mon organisation" in page.text
    row = page.text.split(f'id="ligne-{IN_ALERTED}"')[1].split("</tr>")[0]
    assert "2 agents" in row and "agent.b@urssaf.fr" in row
    assert 'href="/portefeuille/export.xlsx"' in page.text
    assert _events(url, "list_viewed")[-1].detail["scope"] == "organisation"  # type: ignore[index]
    anonymous, _ = login(web_app, "anonymous", ids)
    assert anonymous.get("/portefeuille", follow_redirects=False).status_code in (302, 303, 401)


def _xlsx_rows(content: bytes) -> tuple[list[Any], list[list[Any]], dict[str, Any]]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    rows = [list(r) for r in wb["Portefeuille"].iter_rows(values_only=True)]
    info = {k: v for k, v in wb["Informations"].iter_rows(values_only=True)}
    return rows[0], rows[1:], info


def test_the_xlsx_exports_hold_the_expected_rows(seeded: tuple[str, dict[str, int]], web_app: Any) -> None:
    url, ids = seeded
    _prepare(url, ids)
    client, _ = login(web_app, "agent_a", ids)
    got = client.get("/mes-entreprises/export.xlsx")
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="mes-entreprises-' in got.headers["content-disposition"]
    header, rows, info = _xlsx_rows(got.content)
    assert header[:5] == ["SIREN", "Raison sociale", "Département", "Catégorie de suivi", "Suivie depuis le"]
    by = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert set(by) == {IN_ALERTED, IN_QUIET, OUT_FOLLOWED}
    a = by[IN_ALERTED]
    assert a["Niveau d'alerte (dernière liste)"] == "Risque élevé" and a["Liste"] == "Septembre 2026"
    assert (
        a["Évolution depuis la liste précédente"] == "Hausse de niveau" and a["Accompagnement"] == "En cours"
    )
    assert a["Dernier commentaire : organisation"] == "DREETS/DDETS"
    assert isinstance(
        a["Dernier commentaire : date"], dt.datetime
    )  # a date cell (openpyxl reads it as datetime)
    assert isinstance(a["Suivie depuis le"], dt.datetime)
    assert by[IN_QUIET]["Procédure collective"] == "Redressement judiciaire (ouverture), le 15/09/2026"
    assert info["Entreprises"] == 3 and info["Exporté par"] == "agent.a@urssaf.fr"
    export = _events(url, "export")[-1]
    assert export.detail is not None and export.detail["kind"] == "portefeuille"
    assert (export.detail["format"], export.detail["scope"], export.detail["rows"]) == (
        "xlsx",
        "mes entreprises",
        3,
    )
    # the organisation's, seen by the DREETS agent without the score right: the level is withheld
    client, _ = login(web_app, "no_rights", ids)
    header, rows, _ = _xlsx_rows(client.get("/portefeuille/export.xlsx").content)
    assert "Agents qui la suivent" in header and [r[0] for r in rows] == [IN_ALERTED]
    row = dict(zip(header, rows[0], strict=True))
    assert row["Niveau d'alerte (dernière liste)"] == "Non communiqué" and row["Liste"] is None
    assert row["Évolution depuis la liste précédente"] is None and row["Agents qui la suivent"] == 1


def test_the_docx_export_is_one_document_with_a_section_per_company(
    seeded: tuple[str, dict[str, int]], web_app: Any
) -> None:
    from docx import Document

    url, ids = seeded
    _prepare(url, ids)
    client, _ = login(web_app, "agent_b", ids)
    got = client.get("/portefeuille/export.docx")
    assert (
        got.status_code == 200
        and 'filename="portefeuille-organisation-' in got.headers["content-disposition"]
    )
    doc = Document(io.BytesIO(got.content))
    headings = [
        p.text for p in doc.paragraphs if p.style is not None and p.style.name.startswith("Heading 1")
    ]
    title = [p.text for p in doc.paragraphs if p.style is not None and p.style.name == "Title"]
    assert title == ["Portefeuille de mon organisation — URSSAF"]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "(heure de Paris)" in text and "Généré le" in text
    assert any(IN_ALERTED[:3] in h and "SOCIETE IN_ALERTED" in h for h in headings)
    assert len(headings) == client.get("/portefeuille").text.count('id="ligne-')  # one section per row
    facts = {c[0].text: c[1].text for t in doc.tables for c in (r.cells for r in t.rows)}
    assert "Niveau d'alerte" in facts and "Dernier commentaire" in text and "Rendez-vous pris" in text
    assert _events(url, "export")[-1].detail["format"] == "docx"  # type: ignore[index]
