"""The list page's filters, sort, paging, htmx fragment and exports, and the dashboard, under the access policy.

On the seeded platform (``seed.seed_platform``) plus 45 companies added to its list: ``i`` in 1..45, in
département 75 (région 11) unless ``i % 3 == 0`` (92, région 11: outside agent B's territory). Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from seed import login
from sqlalchemy import select

from signaux_faibles.platform.models import (
    AuditEvent,
    Case,
    CodefiAlert,
    CodefiImport,
    Company,
    CompanyMonth,
    DianeStatement,
    Establishment,
    Follow,
    List,
    ProcolEvent,
    Score,
)

F1, F2 = "Alerte seuil F1", "Alerte seuil F2"
NOW = dt.datetime.now(dt.UTC)
EXTRA = range(1, 46)


def _login(app: Any, kind: str, ids: dict[str, int]) -> TestClient:
    """A client with a logged-in session for ``kind`` (notice accepted)."""
    return login(app, kind, ids)[0]


def _siren(i: int) -> str:
    return f"7{i:08d}"


def _extra(i: int) -> dict[str, Any]:
    """The definition of extra company ``i`` (what the expectations are computed from)."""
    return {
        "siren": _siren(i),
        "name": f"ENTREPRISE {46 - i:02d}",  # names sort the other way round from ranks
        "dept": "92" if i % 3 == 0 else "75",
        "naf": "C" if i % 2 else "F",
        "creation": dt.date(2000 + i % 20, 1, 1),
        "eff": i,  # at the list's month (a later month says 999)
        "eff_ent": 2 * i,  # only known the month before the list's
        "ca": 1000 * i,  # latest exercise (an older one says 1)
        "alert": F1 if i % 4 == 0 else F2,
        "first": i % 5 == 0,
        "procol": "liquidation" if i == 7 else ("plan_redressement" if i == 8 else None),
        "siege": i % 10 != 0,  # the list's SIRET is the head office's
        "rank": 100 + i,
    }


def _populate(app: Any, ids: dict[str, int]) -> None:
    with app.state.sessions() as db:
        for i in EXTRA:
            e = _extra(i)
            s = e["siren"]
            siege = s + "00011"
            db.add(Company(siren=s, raison_sociale=e["name"], departement=e["dept"], region="11", naf_section=e["naf"],
                           siret_siege=siege, creation=e["creation"], snapshot_batch="2609",
                           libelle_departement="Paris" if e["dept"] == "75" else "Hauts-de-Seine",
                           libelle_activite_principale=f"Activité {e['naf']}"))  # fmt: skip
            db.flush()
            db.add(Establishment(siret=siege, siren=s, departement=e["dept"], region="11", siege=True,
                                 snapshot_batch="2609"))  # fmt: skip
            db.add(Establishment(siret=s + "00029", siren=s, departement=e["dept"], region="11", siege=False,
                                 snapshot_batch="2609"))  # fmt: skip
            db.add(
                CompanyMonth(siren=s, periode=dt.date(2026, 8, 1), effectif=500, effectif_ent=e["eff_ent"])
            )
            db.add(CompanyMonth(siren=s, periode=dt.date(2026, 9, 1), effectif=e["eff"], effectif_ent=None))
            db.add(CompanyMonth(siren=s, periode=dt.date(2026, 10, 1), effectif=999, effectif_ent=999))
            db.add(DianeStatement(siren=s, exercice=2024, ca=1.0))
            db.add(DianeStatement(siren=s, exercice=2025, ca=float(e["ca"])))
            db.add(Score(list_id=1, siren=s, siret=siege if e["siege"] else s + "00029", algo="test", rank=e["rank"],
                         probability=0.5 - i / 1000, alert=e["alert"], alert_pre_adjustment=e["alert"], adjustments=[],
                         first_alert=e["first"], first_high_alert=False, etat_proc_collective=e["procol"],
                         dette_urssaf=100.0 * i, hausse_urssaf=False, ap_12m=True))  # fmt: skip
        # a quiet extra company (never listed)
        db.add(Company(siren="799999999", raison_sociale="ENTREPRISE CALME", departement="75", region="11",
                       snapshot_batch="2609"))  # fmt: skip
        db.flush()
        db.add(Establishment(siret="79999999900011", siren="799999999", departement="75", region="11",
                             snapshot_batch="2609"))  # fmt: skip
        db.add(Score(list_id=1, siren="799999999", algo="test", rank=99, probability=0.01, alert="Pas d'alerte",
                     alert_pre_adjustment="Pas d'alerte", adjustments=[], first_alert=False,
                     first_high_alert=False))  # fmt: skip
        # agent B follows out_alerted and extra 2 (and followed extra 4 once, ended)
        for s, active in (("333333333", True), (_siren(2), True), (_siren(4), False)):
            db.add(Follow(user_id=ids["agent_b"], siren=s, category="Veille", active=active, since=NOW))
        # the CODEFI list: an old import, and the current one
        old = CodefiImport(file_name="old.csv", imported_at=NOW, rows=1, rejected=0)
        db.add(old)
        db.flush()
        db.add(CodefiAlert(import_id=old.id, siren=_siren(5)))
        cur = CodefiImport(file_name="new.csv", imported_at=NOW, rows=2, rejected=0)
        db.add(cur)
        db.flush()
        db.add(CodefiAlert(import_id=cur.id, siren="555555555"))
        db.add(CodefiAlert(import_id=cur.id, siren=_siren(4)))
        db.commit()


def _rows_b() -> list[dict[str, Any]]:
    """What agent B (territory 75) may see on the list, from the definitions."""
    seed = [
        {"siren": "333333333", "name": "SOCIETE OUT_ALERTED", "dept": "75", "naf": None, "creation": None, "eff": 10,
         "eff_ent": None, "ca": None, "alert": F2, "first": True, "procol": None, "siege": True, "rank": 3},
        {"siren": "555555555", "name": "SOCIETE BOTH_ALERTED", "dept": "75", "naf": None, "creation": None, "eff": 10,
         "eff_ent": None, "ca": None, "alert": F1, "first": True, "procol": None, "siege": True, "rank": 5},
    ]  # fmt: skip
    extra = [_extra(i) for i in EXTRA if _extra(i)["dept"] == "75"]
    for r in seed + extra:
        r["followed"] = r["siren"] in {"333333333", _siren(2)}
        r["codefi"] = r["siren"] in {"555555555", _siren(4)}
    return seed + extra


#: The CSV export's French headers, and the keys the tests read them by.
CSV_KEYS = {"Rang": "rank", "SIREN": "siren", "Raison sociale": "raison_sociale",
            "Probabilité de défaillance": "probability", "Dette URSSAF (€)": "dette_urssaf",
            "Hausse de la dette URSSAF": "hausse_urssaf", "Activité partielle (12 mois)": "ap_12m"}  # fmt: skip


def _csv(client: TestClient, qs: str = "") -> list[dict[str, str]]:
    """The CSV export's rows, by the keys of ``CSV_KEYS`` (other columns by their French header); the
    probability as a fraction again (``45,1 %`` → ``0.451``)."""
    r = client.get(f"/listes/1/export.csv?{qs}")
    assert r.status_code == 200, (qs, r.status_code)
    assert r.text.startswith("\ufeff")  # UTF-8 with BOM
    rows = [{CSV_KEYS.get(k, k): v for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(r.text.lstrip("\ufeff")), delimiter=";")]  # fmt: skip
    for row in rows:
        row["probability"] = str(float(row["probability"].rstrip(" %").replace(",", ".")) / 100)
    return rows


def _page_sirens(html: str) -> list[str]:
    return re.findall(r'href="/entreprises/(\d{9})"', html)


@pytest.fixture
def app_b(web_app: Any, seeded: tuple[str, dict[str, int]]) -> tuple[Any, dict[str, int], TestClient]:
    _populate(web_app, seeded[1])
    return web_app, seeded[1], _login(web_app, "agent_b", seeded[1])


FILTER_CASES: list[tuple[str, Any]] = [
    ("", lambda r: True),
    ("departement=75", lambda r: r["dept"] == "75"),
    ("departement=92", lambda r: False),  # outside the territory: never shown
    ("departement=92&departement=75", lambda r: True),
    ("departement=21,75", lambda r: True),
    ("secteur=C", lambda r: r["naf"] == "C"),
    ("secteur=C&secteur=F", lambda r: r["naf"] in ("C", "F")),
    ("secteur=Z", lambda r: True),  # unknown section: ignored
    ("effectif_min=10", lambda r: r["eff"] >= 10),
    ("effectif_max=10", lambda r: r["eff"] <= 10),
    ("effectif_min=5&effectif_max=20", lambda r: 5 <= r["eff"] <= 20),
    ("effectif_ent_min=40", lambda r: r["eff_ent"] is not None and r["eff_ent"] >= 40),
    ("effectif_ent_max=20", lambda r: r["eff_ent"] is not None and r["eff_ent"] <= 20),
    ("ca_min=20000", lambda r: r["ca"] is not None and r["ca"] >= 20000),
    ("ca_max=20000&ca_min=", lambda r: r["ca"] is not None and r["ca"] <= 20000),
    ("procol=in_bonis", lambda r: r["procol"] is None),
    ("procol=liquidation&procol=plan_redressement", lambda r: r["procol"] in ("liquidation", "plan_redressement")),
    ("alerte=F1", lambda r: r["alert"] == F1),
    ("alerte=F2", lambda r: r["alert"] == F2),
    ("alerte=F1&alerte=F2", lambda r: True),
    ("premiere_alerte=1", lambda r: r["first"]),
    ("exclure_suivies=on", lambda r: not r["followed"]),
    ("siege_uniquement=1", lambda r: r["siege"]),
    ("creation_avant=2010-01-01", lambda r: r["creation"] is not None and r["creation"] < dt.date(2010, 1, 1)),
    ("codefi=1", lambda r: r["codefi"]),
    ("q=entreprise 1", lambda r: "ENTREPRISE" in r["name"] and "1" in r["name"]),  # every word, anywhere
    ("q=both", lambda r: r["name"] == "SOCIETE BOTH_ALERTED"),
    ("q=%25", lambda r: False),  # a LIKE wildcard is a character
    ("q=7000000", lambda r: r["siren"].startswith("7000000")),
    ("q=111111111", lambda r: False),  # agent A's company: never shown to agent B
    ("alerte=F2&secteur=C&effectif_max=30&siege_uniquement=1",
     lambda r: r["alert"] == F2 and r["naf"] == "C" and r["eff"] <= 30 and r["siege"]),
    ("effectif_min=abc&creation_avant=hier", lambda r: True),  # bad values: ignored (and reported)
]  # fmt: skip


def test_each_filter(app_b: tuple[Any, dict[str, int], TestClient]) -> None:
    app, ids, client = app_b
    rows = _rows_b()
    for qs, keep in FILTER_CASES:
        want = [r for r in rows if keep(r)]
        got = _csv(client, qs)
        assert sorted(r["siren"] for r in got) == sorted(r["siren"] for r in want), qs
        assert [int(r["rank"]) for r in got] == sorted(int(r["rank"]) for r in got), qs  # default sort: rank
        page = client.get(f"/listes/1?{qs}")
        assert page.status_code == 200, qs
        nb_f1 = sum(r["alert"] == F1 for r in want)
        assert f'id="nb-f1">{nb_f1} en risque élevé' in page.text, qs
        assert f'id="nb-f2">{len(want) - nb_f1} en risque modéré' in page.text, qs
        assert f"<strong>{len(want)}</strong> entreprise" in page.text, qs
        assert _page_sirens(page.text) == [r["siren"] for r in sorted(want, key=lambda r: r["rank"])][:20], qs
        assert "/entreprises/111111111" not in page.text
    bad = client.get("/listes/1?effectif_min=abc&creation_avant=hier").text
    assert "Saisissez un nombre entier." in bad and "Saisissez une date" in bad
    inverted = client.get("/listes/1?effectif_min=30&effectif_max=10").text
    assert "Le maximum doit être supérieur ou égal au minimum." in inverted
    # the URSSAF and DGEFP columns follow their rights; the flags are in the export
    assert {"dette_urssaf", "hausse_urssaf", "ap_12m"} <= set(_csv(client)[0])
    org_admin = _login(app, "org_admin", ids)  # score right only
    assert not {"dette_urssaf", "hausse_urssaf", "ap_12m"} & set(_csv(org_admin)[0])


def test_sort_and_paging(app_b: tuple[Any, dict[str, int], TestClient]) -> None:
    _, _, client = app_b
    rows = _rows_b()
    assert len(rows) == 32  # 2 seed + 30 extra in 75: two pages of 20
    cases = {
        "": sorted(rows, key=lambda r: r["rank"]),
        "tri=rang&ordre=desc": sorted(rows, key=lambda r: -r["rank"]),
        "tri=raison_sociale": sorted(rows, key=lambda r: r["name"]),
        "tri=raison_sociale&ordre=desc": sorted(rows, key=lambda r: r["name"], reverse=True),
        "tri=effectif": sorted(rows, key=lambda r: (-r["eff"], r["rank"])),
        "tri=effectif&ordre=asc": sorted(rows, key=lambda r: (r["eff"], r["rank"])),
        "tri=probabilite": sorted(rows, key=lambda r: r["rank"]),  # probability decreases with rank
        "tri=departement": sorted(rows, key=lambda r: (r["dept"], r["rank"])),
        "tri=inconnu&ordre=n'importe": sorted(rows, key=lambda r: r["rank"]),
    }
    expected_prob = {r["siren"]: r for r in rows}
    for qs, want in cases.items():
        got = [r["siren"] for r in _csv(client, qs)]
        if (
            qs == "tri=probabilite"
        ):  # the two seed companies tie with extra ones on probability: compare values
            got_p = [float(r["probability"]) for r in _csv(client, qs)]
            assert got_p == sorted(got_p, reverse=True)
            assert set(got) == set(expected_prob)
            continue
        assert got == [r["siren"] for r in want], qs
        p1 = client.get(f"/listes/1?{qs}").text
        p2 = client.get(f"/listes/1?{qs}&page=2").text
        assert _page_sirens(p1) == got[:20] and _page_sirens(p2) == got[20:], qs
    # past the last page: the last page
    assert _page_sirens(client.get("/listes/1?page=99").text) == [r["siren"] for r in cases[""]][20:]
    # the links keep the filters and the sort
    html = client.get("/listes/1?alerte=F2&tri=raison_sociale").text
    assert 'href="/listes/1?alerte=F2&amp;tri=raison_sociale&amp;ordre=asc&amp;page=2"' in html
    assert 'href="/listes/1?alerte=F2&amp;tri=raison_sociale&amp;ordre=desc"' in html  # toggle the order
    assert 'aria-sort="ascending"' in html
    assert 'href="/listes/1/export.xlsx?alerte=F2&amp;tri=raison_sociale&amp;ordre=asc"' in html


def test_page_form_and_htmx_fragment(app_b: tuple[Any, dict[str, int], TestClient]) -> None:
    _, _, client = app_b
    page = client.get("/listes/1?departement=75&premiere_alerte=1")
    assert page.status_code == 200 and page.text.lstrip().startswith("<!doctype html>")
    html = page.text
    assert '<form method="get" action="/listes/1" id="filtres"' in html and 'hx-get="/listes/1"' in html
    assert ">Filtrer</button>" in html and 'href="/listes/1">Réinitialiser les filtres</a>' in html
    for name in ("q", "departement", "secteur", "effectif_min", "effectif_max", "effectif_ent_min",
                 "effectif_ent_max", "ca_min", "ca_max", "creation_avant", "premiere_alerte", "exclure_suivies",
                 "siege_uniquement", "codefi", "alerte-F1", "alerte-F2", "procol-in_bonis"):  # fmt: skip
        assert f'for="{name}"' in html and f'id="{name}"' in html, name  # every field has its label
    assert '<option value="75" selected>75 – Paris</option>' in html
    assert 'value="92"' not in html  # only the départements of the visible rows
    assert 'id="premiere_alerte" name="premiere_alerte" value="1" checked' in html
    frag = client.get("/listes/1?departement=75&premiere_alerte=1", headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "Vary" in frag.headers and "HX-Request" in frag.headers["Vary"]
    body = frag.text
    assert body.lstrip().startswith('<div id="resultats"') and "<html" not in body and "<form" not in body
    want = [r for r in _rows_b() if r["first"]]
    assert f"<strong>{len(want)}</strong> entreprise" in body
    assert sorted(_page_sirens(body)) == sorted(r["siren"] for r in want)
    assert body.count('class="fr-badge fr-badge--sm fr-badge--error">Risque élevé') == sum(r["alert"] == F1 for r in want)
    # the history restore of htmx gets the whole page
    restore = client.get("/listes/1", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<form" in restore.text


def test_xlsx_export_and_audit(app_b: tuple[Any, dict[str, int], TestClient]) -> None:
    from openpyxl import load_workbook

    app, ids, client = app_b
    qs = "alerte=F2&secteur=C&creation_avant=2015-06-01&tri=effectif"
    r = client.get(f"/listes/1/export.xlsx?{qs}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert 'filename="signaux-faibles-2609.xlsx"' in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["Liste", "Filtres"]
    sheet = list(wb["Liste"].iter_rows(values_only=True))
    header = sheet[0]
    assert header[:4] == ("Rang", "SIREN", "SIRET", "Raison sociale")
    assert (
        "Niveau d'alerte" in header
        and "Dette URSSAF (€)" in header
        and "Activité partielle (12 mois)" in header
    )
    want = sorted(
        (x for x in _rows_b() if x["alert"] == F2 and x["naf"] == "C" and x["creation"] and x["creation"] < dt.date(2015, 6, 1)),
        key=lambda x: (-x["eff"], x["rank"]),
    )  # fmt: skip
    assert [row[1] for row in sheet[1:]] == [x["siren"] for x in want]
    col = {h: k for k, h in enumerate(header)}
    first = dict(zip(header, sheet[1], strict=True))
    w0 = want[0]
    assert first["Niveau d'alerte"] == "Risque modéré" and first["Effectif de l'établissement"] == w0["eff"]
    assert first["Effectif de l'entreprise"] == w0["eff_ent"] and first["Chiffre d'affaires (k€)"] == w0["ca"]
    assert first["Section NAF"] == "C" and first["Suivie par moi"] == ("Oui" if w0["followed"] else "Non")
    assert all(isinstance(row[col["Probabilité de défaillance"]], float) for row in sheet[1:])
    meta = dict(wb["Filtres"].iter_rows(min_row=2, values_only=True))
    assert meta["Liste"] == "Septembre 2026" and meta["Entreprises"] == len(want)
    assert meta["Niveau d'alerte"] == "Risque modéré"
    assert meta["Secteurs d'activité (section NAF)"].startswith("C – Industrie")
    assert meta["Entreprises créées avant le"] == "01/06/2015"
    assert meta["Tri"] == "Effectif (décroissant)" and meta["Exportée par"] == "agent.b@urssaf.fr"
    assert dt.datetime.strptime(meta["Exportée le"], "%d/%m/%Y %H:%M")
    with app.state.sessions() as db:
        ev = db.scalars(
            select(AuditEvent).where(AuditEvent.user_id == ids["agent_b"], AuditEvent.event == "export")
        ).all()
        assert len(ev) == 1 and ev[0].list_id == 1
        assert ev[0].detail == {"format": "xlsx", "rows": len(want),
                                "filters": {"secteur": ["C"], "alerte": ["F2"], "creation_avant": "2015-06-01"}}  # fmt: skip
    # no filter: "Aucun filtre"; score right only: no URSSAF/DGEFP columns
    org_admin = _login(app, "org_admin", ids)
    wb = load_workbook(io.BytesIO(org_admin.get("/listes/1/export.xlsx").content))
    header = next(wb["Liste"].iter_rows(values_only=True))
    assert "Dette URSSAF (€)" not in header and "Activité partielle (12 mois)" not in header
    assert dict(wb["Filtres"].iter_rows(min_row=2, values_only=True))["Filtres"] == "Aucun filtre"
    assert {row[1] for row in list(wb["Liste"].iter_rows(values_only=True))[1:]} == {"111111111", "555555555"}
    # the page view is audited with its filters
    client.get("/listes/1?departement=75&alerte=F1&page=1")
    with app.state.sessions() as db:
        ev = db.scalars(
            select(AuditEvent)
            .where(AuditEvent.user_id == ids["agent_b"], AuditEvent.event == "list_viewed")
            .order_by(AuditEvent.id)
        ).all()
        assert ev[-1].list_id == 1 and ev[-1].detail["filters"] == {"departement": ["75"], "alerte": ["F1"]}
        assert ev[-1].detail["total"] == sum(r["alert"] == F1 for r in _rows_b())


def test_formula_text_is_not_a_formula(app_b: tuple[Any, dict[str, int], TestClient]) -> None:
    from openpyxl import load_workbook

    app, _, client = app_b
    with app.state.sessions() as db:
        db.get(Company, _siren(1)).raison_sociale = '=HYPERLINK("http://x","y")'
        db.commit()
    wb = load_workbook(io.BytesIO(client.get(f"/listes/1/export.xlsx?q={_siren(1)}").content))
    cell = wb["Liste"]["D2"]
    assert cell.value == '=HYPERLINK("http://x","y")' and cell.data_type == "s"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_formula_text_is_neutralised(app_b: tuple[Any, dict[str, int], TestClient], start: str) -> None:
    """A name starting like a formula reaches the CSV behind a single quote (issue 18, defect 7)."""
    app, _, client = app_b
    with app.state.sessions() as db:
        db.get(Company, _siren(1)).raison_sociale = start + 'HYPERLINK("http://x","y")'
        db.commit()
    rows = _csv(client, f"q={_siren(1)}")
    assert [r["raison_sociale"] for r in rows] == ["'" + start + 'HYPERLINK("http://x","y")']


def _xlsx_text(content: bytes) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    return str([list(ws.iter_rows(values_only=True)) for ws in wb])


@pytest.mark.parametrize(
    "path", ["/listes/1", "/listes/1/export.xlsx", "/listes/1/export.csv", "/listes/1?alerte=F1"]
)
def test_access(web_app: Any, seeded: tuple[str, dict[str, int]], path: str) -> None:
    ids = seeded[1]
    r = _login(web_app, "anonymous", ids).get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/connexion")
    for kind in ("no_rights", "admin"):  # no score right
        assert _login(web_app, kind, ids).get(path).status_code == 403, kind
    with web_app.state.sessions() as db:
        denied = db.scalars(select(AuditEvent).where(AuditEvent.event == "denied")).all()
        assert {e.user_id for e in denied} >= {ids["no_rights"], ids["admin"]}
    assert _login(web_app, "agent_a", ids).get(path.replace("/1", "/999")).status_code == 404
    # agent B never sees the dept-21-only company; agent A never the dept-75-only one
    for kind, never, always in (("agent_b", "111111111", "555555555"), ("agent_a", "333333333", "111111111")):
        r = _login(web_app, kind, ids).get(path)
        assert r.status_code == 200
        body = _xlsx_text(r.content) if "xlsx" in path else r.text
        assert never not in body and always in body, (kind, path)
    for kind in ("anonymous", "no_rights", "agent_a"):
        r = _login(web_app, kind, ids).get("/listes", follow_redirects=False)
        assert r.status_code == (303 if kind == "anonymous" else 200)


# ------------------------------------------------------------------------------------------------ dashboard


def _dashboard_data(app: Any, ids: dict[str, int]) -> None:
    """An old list (March 2024) for the outcomes, cases, follows and collective proceedings."""
    with app.state.sessions() as db:
        old = List(
            batch="2403", algo="test", label="Mars 2024", periode=dt.date(2024, 3, 1), published_at=NOW
        )
        db.add(old)
        db.flush()
        for siren, alert in (
            ("111111111", F1),
            ("555555555", F2),
            ("333333333", F1),
            ("222222222", "Pas d'alerte"),
        ):
            db.add(Score(list_id=old.id, siren=siren, algo="test", rank=1, probability=0.4, alert=alert,
                         alert_pre_adjustment=alert, adjustments=[], first_alert=True, first_high_alert=False))  # fmt: skip
        # 111: followed (by another agent) before its proceeding, within 18 months of March 2024
        db.add(ProcolEvent(siren="111111111", date_effet=dt.date(2025, 1, 15), action_procol="liquidation",
                           stade_procol="ouverture"))  # fmt: skip
        db.add(Follow(user_id=ids["no_rights"], siren="111111111", category="Veille", active=False,
                      since=dt.datetime(2024, 6, 1, tzinfo=dt.UTC), until=dt.datetime(2025, 3, 1, tzinfo=dt.UTC)))  # fmt: skip
        # 555: a proceeding after the window; a follow that started after the window: not followed, no procol
        db.add(ProcolEvent(siren="555555555", date_effet=dt.date(2025, 12, 1), action_procol="redressement",
                           stade_procol="ouverture"))  # fmt: skip
        db.add(Follow(user_id=ids["no_rights"], siren="555555555", category="Veille", active=True,
                      since=dt.datetime(2025, 10, 1, tzinfo=dt.UTC)))  # fmt: skip
        # 222: never alerted, a proceeding: not in the cohort
        db.add(ProcolEvent(siren="222222222", date_effet=dt.date(2024, 6, 1), action_procol="liquidation",
                           stade_procol="ouverture"))  # fmt: skip
        # cases: two visible to agent A (territory 21), one outside
        for siren, state in (
            ("111111111", "in_progress"),
            ("555555555", "completed"),
            ("333333333", "in_progress"),
        ):
            db.add(Case(siren=siren, state=state, referent_id=ids["agent_a"], opened_by=ids["agent_a"], opened_at=NOW,
                        updated_at=NOW, difficulties=[]))  # fmt: skip
        db.commit()


def _num(html: str, id_: str) -> int:
    m = re.search(rf'id="{id_}">(\d+)<', html)
    assert m, id_
    return int(m.group(1))


def test_dashboard(web_app: Any, seeded: tuple[str, dict[str, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    from signaux_faibles.platform.web import dashboard

    ids = seeded[1]
    _dashboard_data(web_app, ids)
    assert (
        _login(web_app, "anonymous", ids).get("/tableau-de-bord", follow_redirects=False).status_code == 303
    )
    a = _login(web_app, "agent_a", ids)
    html = a.get("/tableau-de-bord").text
    # latest list (Sept. 2026), agent A: 111 (21) and 555 (siège in 75, an establishment in 21), both F1 and new
    assert "Liste Septembre 2026" in html
    assert (
        _num(html, "total-alertes") == 2
        and _num(html, "total-f1") == 2
        and _num(html, "nouvelles-alertes") == 2
    )
    assert _num(html, "alertes-suivies") == 1  # 555, followed by the agent without rights
    table = html.split('id="alertes-departement"')[1].split("</table>")[0]
    assert re.findall(r'<th scope="row">(\w+)</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>', table) == [
        ("21", "1", "0", "1"),
        ("75", "1", "0", "1"),
    ]
    assert _num(html, "mes-suivis") == 1  # 444 (out of territory, followed)
    assert _num(html, "tous-suivis") == 2  # 444 (agent A) and 555 (the agent without rights); 111's ended
    assert 'data-state="in_progress">1<' in html and 'data-state="completed">1<' in html
    # outcomes: 111 (followed, procol) and 555 (not followed, none); too few to compute a share
    out = html.split('id="devenir-table"')[1].split("</table>")[0]
    assert (
        "<td>1</td><td>1</td>" in out.split("Non suivies")[0]
        and "<td>1</td><td>0</td>" in out.split("Non suivies")[1]
    )
    assert "non calculée (moins de 20 entreprises)" in out and "trop faibles pour conclure" in html
    assert "Premier indicateur de l'effet de l'accompagnement" in html
    monkeypatch.setattr(dashboard, "MIN_GROUP", 1)
    html = a.get("/tableau-de-bord").text
    out = html.split('id="devenir-table"')[1].split("</table>")[0]
    assert (
        "<strong>100 %</strong>" in out and "<strong>0 %</strong>" in out and "intervalle de confiance" in out
    )
    # agent B (75): 333 and 555 on the latest list; the cohort is 333 and 555 (no follow before the end, no procol)
    b = _login(web_app, "agent_b", ids)
    html = b.get("/tableau-de-bord").text
    assert _num(html, "total-alertes") == 2 and _num(html, "total-f1") == 1 and "111111111" not in html
    out = html.split('id="devenir-table"')[1].split("</table>")[0]
    assert out.count("<td>0</td><td>0</td>") == 1 and "<td>2</td><td>0</td>" in out
    assert 'data-state="in_progress">1<' in html and 'data-state="completed">1<' in html  # 333, 555
    # without the score right: follows and cases only, no score-derived count, no list_viewed
    n = _login(web_app, "no_rights", ids)
    html = n.get("/tableau-de-bord").text
    assert 'id="sans-score"' in html and "total-alertes" not in html and "devenir-table" not in html
    assert _num(html, "mes-suivis") == 1  # 555 (an establishment in 21)
    with web_app.state.sessions() as db:
        viewed = {
            e.user_id
            for e in db.scalars(select(AuditEvent).where(AuditEvent.event == "list_viewed")).all()
            if (e.detail or {}).get("view") == "dashboard"
        }
    assert viewed == {ids["agent_a"], ids["agent_b"]}


def test_dashboard_outcomes_numbers(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    from signaux_faibles.platform.web.dashboard import add_months, wilson

    assert add_months(dt.date(2024, 3, 1), 18) == dt.date(2025, 9, 1)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2026, 11, 26), -18) == dt.date(2025, 5, 26)
    lo, hi = wilson(5, 20) or (0, 0)
    assert 0.11 < lo < 0.12 and 0.46 < hi < 0.47
    assert wilson(0, 0) is None
    # no list old enough: the page says so
    html = _login(web_app, "agent_a", seeded[1]).get("/tableau-de-bord").text
    assert 'id="devenir-vide"' in html
