"""The list, the search and the CSV export as an agent uses them, in Chromium at 1 280 × 800 (issue 22): the risk
columns are on screen without horizontal scrolling, the search ignores case and accents, the CSV speaks French.
Screenshots under ``test-artifacts/screenshots/``."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

VIEWPORT = {"width": 1280, "height": 800}
#: Accented companies of agent A's territory (département 21), for the search; not on any list.
ACCENTED = {"777777781": "HÔTEL SIMON", "777777782": "SOCIÉTÉ LEFÈVRE ET FILS", "777777783": "GRAND HOTEL DU LAC"}


@pytest.fixture(scope="module")
def accented(platform_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The accented companies, written into the served database (the session's seeded SQLite file)."""
    from seed import add_hotel_in_dijon

    from signaux_faibles.platform.models import Company
    from signaux_faibles.platform.store.db import get_engine, sessions

    (db_path,) = tmp_path_factory.getbasetemp().glob("browser_platform[0-9]*/platform.db")
    engine = get_engine(f"sqlite:///{db_path}")
    try:
        with sessions(engine)() as db:
            for siren, name in ACCENTED.items():
                if db.get(Company, siren) is None:
                    add_hotel_in_dijon(db, siren, name, adresse="2 PLACE DARCY\n21000 DIJON")
            db.commit()
    finally:
        engine.dispose()
    yield


def _right_edge(page: Any, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["x"] + box["width"])


def test_list_risk_columns_fit_in_1280(
    page: Any, login: Callable[..., None], shot: Callable[[Any, str], Path], seed: Any
) -> None:
    page.set_viewport_size(VIEWPORT)
    login(page, seed.SEED_USERS["agent_b"][0])  # every data right: the URSSAF and DGEFP columns are there
    page.goto("/listes/1")
    headers = page.locator("#table-liste thead th")
    names = [" ".join(t.split()) for t in headers.all_inner_texts()]
    for wanted in ("Niveau", "Probabilité", "1re alerte", "Dette URSSAF", "Effectif", "Activité partielle"):
        assert any(n.startswith(wanted) for n in names), (wanted, names)
    for selector in ("#th-niveau", "#table-liste thead th:has-text('Probabilité')", "#th-premiere", "#th-urssaf",
                     "#table-liste thead th:has-text('Effectif')", "#th-ap"):  # fmt: skip
        assert _right_edge(page, selector) <= VIEWPORT["width"], selector
    # the longest labels the real data has: a long name, a long NAF label, large amounts
    page.evaluate("""() => { for (const tr of document.querySelectorAll('#table-liste tbody tr')) {
        tr.querySelector('.sf-col-name a').textContent = 'SOCIÉTÉ COOPÉRATIVE AGRICOLE DES PRODUCTEURS RÉUNIS DE BOURGOGNE';
        const act = tr.querySelector('.sf-col-activity .sf-clip');
        act.textContent = act.title = "Fabrication d'autres articles en caoutchouc et en matières plastiques n.c.a.";
        tr.querySelectorAll('.sf-col-num .sf-amount').forEach(a => { a.textContent = '1 234 567 €'; });
    } }""")
    for selector in ("#th-niveau", "#th-urssaf", "#th-ap"):
        assert _right_edge(page, selector) <= VIEWPORT["width"], selector
    table = page.locator("#table-liste").bounding_box()
    assert table is not None and table["x"] + table["width"] <= VIEWPORT["width"]
    scroll = page.evaluate("document.querySelector('#table-liste').closest('.fr-table__content').scrollWidth")
    client = page.evaluate("document.querySelector('#table-liste').closest('.fr-table__content').clientWidth")
    assert scroll <= client, (scroll, client)  # no horizontal scrolling inside the table either
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]
    assert "En milliers d'euros" in page.locator("#filtres").inner_text()  # the CA filters' unit
    page.locator("#table-liste").scroll_into_view_if_needed()
    shot(page, "liste-1280")
    page.screenshot(path=str(shot(page, "liste-1280-pleine-page").with_name("test_list_risk_columns_fit_in_1280-ecran.png")))
    assert not page.sf_errors.scripts


def test_search_ignores_case_and_accents(
    page: Any, login: Callable[..., None], shot: Callable[[Any, str], Path], seed: Any, accented: None
) -> None:
    page.set_viewport_size(VIEWPORT)
    login(page, seed.SEED_USERS["agent_a"][0])
    for q, found in (("hôtel", ["HÔTEL SIMON", "GRAND HOTEL DU LAC"]), ("societe lefevre", ["SOCIÉTÉ LEFÈVRE ET FILS"]),
                     ("SOCIÉTÉ LEFÈVRE", ["SOCIÉTÉ LEFÈVRE ET FILS"])):  # fmt: skip
        page.goto("/recherche")
        page.fill("#q", q)
        page.get_by_role("button", name="Rechercher").click()
        page.wait_for_url("**/recherche?q=*")
        links = page.locator("main table a[href^='/entreprises/']").all_inner_texts()
        assert links == found, (q, links)  # best match first
        assert "trouvée" in page.locator("#search-count").inner_text()
        assert "DIJON" in page.locator("main table").inner_text()
        shot(page, "recherche-" + q.replace(" ", "-"))
    page.goto("/recherche?q=soci%C3%A9t%C3%A9")  # « société »: the seeded SOCIETE … too, with their alert level
    shot(page, "recherche-societe-niveaux")
    links = page.locator("main table a[href^='/entreprises/']").all_inner_texts()
    assert "SOCIETE IN_ALERTED" in links and "SOCIÉTÉ LEFÈVRE ET FILS" in links, links
    badges = [b.lower() for b in page.locator("main table .fr-badge").all_inner_texts()]
    assert "risque élevé" in badges, badges
    # « recherche nationale »: the companies outside the territory too, their identity only
    page.locator('label[for="nationale"]').click()
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url("**nationale=1*")
    rows = page.locator("main table tbody tr").all_inner_texts()
    outside = [r for r in rows if "SOCIETE OUT_ALERTED" in r]
    assert outside and "hors de votre territoire" in outside[0].lower(), rows
    shot(page, "recherche-nationale")
    # its page opens with the identity only, and says so (datapi's golden case ``vAf``)
    page.locator(f"a[href='/entreprises/{seed.SEED_COMPANIES['out_alerted'][0]}']").click()
    assert "Suivez-la pour accéder" in page.locator("#hors-territoire").inner_text()
    assert page.locator("#score-hidden").count() == 1
    assert not page.sf_errors.scripts


def test_csv_export_header_is_french(page: Any, login: Callable[..., None], seed: Any) -> None:
    login(page, seed.SEED_USERS["org_admin"][0])  # another account: each login takes a new TOTP step
    r = page.request.get("/listes/1/export.csv")
    assert r.status == 200
    text = r.body().decode("utf-8")
    assert text.startswith("\ufeff")
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert header[:4] == ["Rang", "SIREN", "SIRET", "Raison sociale"]
    assert "Probabilité de défaillance" in header and "Niveau d'alerte" in header
    assert not {"rank", "probability", "alert", "first_alert"} & {h.lower() for h in header}
