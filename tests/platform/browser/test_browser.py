"""The platform in a real browser (Debian's chromium, Playwright): the 2FA login, a list, a company page and its
charts, following a company, logout; keyboard access (skip link) and the DSFR stylesheet.

Charts: the company page's charts are inline ``<svg data-chart="…">`` under its ``#graphiques`` heading (or
section). Every ``svg[data-chart]`` present must be visible with a non-zero size; once ``#graphiques`` is on the
page, every chart of ``EXPECTED_CHARTS`` must be there too. Set ``CHARTS_REQUIRED = True`` when the charts are
merged, so that a company page without them fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The charts the company page must show (``<svg data-chart="NAME">`` in ``#graphiques``).
EXPECTED_CHARTS = ("urssaf", "effectif", "dgefp", "waterfall")
#: True once the charts are merged: the company page must then have ``#graphiques`` and every expected chart.
CHARTS_REQUIRED = True


def _check_charts(page: Any) -> int:
    """Every ``svg[data-chart]`` is visible with a non-zero size; the expected ones when ``#graphiques`` is there."""
    section = page.locator("#graphiques")
    if CHARTS_REQUIRED:
        assert section.count() == 1, "the company page has no #graphiques section"
    charts = page.locator("svg[data-chart]")
    if section.count():
        names = charts.evaluate_all("els => els.map(e => e.dataset.chart)")
        missing = [n for n in EXPECTED_CHARTS if n not in names]
        assert not missing, f"charts missing from the company page: {missing} (found {names})"
    for i in range(charts.count()):
        chart = charts.nth(i)
        name = chart.get_attribute("data-chart")
        chart.scroll_into_view_if_needed()
        assert chart.is_visible(), f"chart {name!r} is not visible"
        box = chart.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, f"chart {name!r} has no size: {box}"
    return int(charts.count())


def test_agent_journey(
    page: Any, login: Callable[..., None], shot: Callable[[Any, str], Path], seed: Any
) -> None:
    """Agent A: 2FA login, filter list 1, open company 111111111 (charts drawn), comment, follow, open a case and
    record a measure, export the dossier and the filtered list, « Mes entreprises », logout."""
    email = seed.SEED_USERS["agent_a"][0]
    siren = seed.SEED_COMPANIES["in_alerted"][0]
    name = "SOCIETE IN_ALERTED"

    login(page, email)
    assert "Listes" in page.get_by_role("heading", level=1).inner_text()
    shot(page, "listes")

    page.get_by_role("link", name="Septembre 2026").click()
    page.wait_for_url("**/listes/1*")
    assert "Septembre 2026" in page.get_by_role("heading", level=1).inner_text()
    assert "Septembre 2026" in page.title()
    assert page.locator("tbody tr").count() == 2  # 111111111 and 555555555 in département 21
    # filter: a part of the name
    page.fill("#q", "IN_ALERTED")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_function("() => document.querySelectorAll('tbody tr').length === 1")
    assert page.get_by_role("link", name=name).is_visible()
    shot(page, "liste-1-filtree")
    with page.expect_download() as dl:
        page.get_by_role("link", name="Exporter (Excel)").click()
    assert dl.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("link", name=name).click()
    page.wait_for_url(f"**/entreprises/{siren}")
    assert page.title() == f"{name} — Signaux Faibles"
    assert page.get_by_role("heading", level=1).inner_text() == name
    assert page.get_by_text(f"SIREN {siren}").is_visible()
    page.wait_for_load_state("load")
    assert _check_charts(page) >= len(EXPECTED_CHARTS)
    # the term structure (issue 19): 3, 6, 12 and 18 months, the last one the list's probability
    term = page.locator("#term-structure")
    assert term.is_visible()
    assert [c.strip() for c in term.locator("td").all_inner_texts()][-1] == "50,0 %"
    assert term.bounding_box()["x"] + term.bounding_box()["width"] <= 1280
    shot(page, "entreprise")

    # comment (htmx: the thread is replaced in place)
    page.fill("#comment-body", "Contact pris avec le dirigeant.")
    page.get_by_role("button", name="Publier").click()
    page.locator("#comments p", has_text="Contact pris avec le dirigeant.").wait_for()
    shot(page, "commentaire")

    page.select_option("#category", "Accompagnement en cours")
    page.get_by_role("button", name="Suivre cette entreprise").click()
    page.wait_for_url(f"**/entreprises/{siren}*")
    assert page.get_by_role("button", name="Ne plus suivre").is_visible()
    shot(page, "entreprise-suivie")

    # open a case and record a measure
    page.fill("#difficulties", "trésorerie, dette sociale")
    page.get_by_role("button", name="Ouvrir un accompagnement").click()
    page.wait_for_url(f"**/entreprises/{siren}*")
    page.select_option("#measure", "ccsf")
    page.select_option("#status", "in_progress")
    page.fill("#outcome", "plan sur 12 mois")
    page.get_by_role("button", name="Enregistrer la mesure").click()
    page.wait_for_url(f"**/entreprises/{siren}*")
    measures = page.get_by_role("table", name="Mesures proposées")
    assert "Plan d'apurement CCSF" in measures.inner_text() and "plan sur 12 mois" in measures.inner_text()
    assert "trésorerie" in page.locator("#accompagnement ~ p").all_inner_texts()[2]
    shot(page, "accompagnement")

    with page.expect_download() as dl:
        page.get_by_role("link", name="Dossier (Word)").click()
    assert dl.value.suggested_filename == f"dossier-{siren}.docx"

    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mes entreprises").click()
    page.wait_for_url("**/mes-entreprises")
    row = page.locator("tbody tr", has=page.get_by_role("link", name=name))
    assert row.count() == 1
    assert "Accompagnement en cours" in row.inner_text()
    shot(page, "mes-entreprises")

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion")
    shot(page, "deconnexion")
    page.goto("/listes")
    assert re.search(r"/connexion(\?|$)", page.url), page.url  # the session is over
    assert not page.sf_errors.scripts, page.sf_errors.scripts
    assert not page.sf_errors.responses, page.sf_errors.responses


def test_keyboard_skip_link_and_dsfr(page: Any, shot: Callable[[Any, str], Path]) -> None:
    """The first Tab reaches « Aller au contenu », which moves the focus to the content; DSFR's CSS is applied."""
    page.goto("/connexion")
    page.wait_for_load_state("load")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.textContent.trim(), document.activeElement.getAttribute('href')]"
    )
    assert focused == ["Aller au contenu", "#contenu"]
    assert page.locator(".fr-skiplinks").is_visible()  # shown when focused
    shot(page, "lien-evitement")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'contenu'")
    assert page.url.endswith("#contenu")

    font = page.locator("header.fr-header").evaluate("e => getComputedStyle(e).fontFamily")
    assert "Marianne" in font, font
    assert page.evaluate(
        "() => [...document.styleSheets].some(s => (s.href || '').endsWith('/static/dsfr/dsfr.min.css') && s.cssRules.length > 100)"
    )
    page.evaluate("() => document.fonts.ready")
    assert page.evaluate("() => document.fonts.check('1em Marianne')")
    assert not page.sf_errors.scripts, page.sf_errors.scripts
    assert not page.sf_errors.responses, page.sf_errors.responses


def test_api_docs_render_from_the_platform(page: Any, shot: Callable[[Any, str], Path], platform_server: str) -> None:
    """The API docs page shows its operations under the platform's CSP, with no asset from outside (issue 18)."""
    outside: list[str] = []
    violations: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(platform_server) else None)
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/api/docs")
    page.wait_for_selector(".opblock", state="attached")
    assert page.locator(".opblock").count() >= 5
    assert "/api/companies/{siren}" in page.locator("#swagger-ui").inner_text()
    shot(page, "documentation-api")
    assert outside == [] and violations == [], (outside, violations)
    assert not page.sf_errors.scripts, page.sf_errors.scripts
    assert not page.sf_errors.responses, page.sf_errors.responses


def test_changes_view_and_score_history_chart(
    page: Any, login: Callable[..., None], shot: Callable[[Any, str], Path], seed: Any
) -> None:
    """Agent A opens the list's « Évolutions » and a company's score-history chart (issue 20)."""
    login(page, seed.SEED_USERS["agent_a"][0])
    page.goto("/listes/1")
    page.get_by_role("link", name="Évolutions depuis la liste précédente").click()
    page.wait_for_url("**/listes/1/evolutions")
    table = page.locator("#evolutions")
    assert "Hausse" in table.inner_text() and "SOCIETE IN_ALERTED" in table.inner_text()
    assert "Sortie" in table.inner_text() and "risque en baisse" in table.inner_text()
    assert "OUT_ALERTED" not in table.inner_text()  # outside agent A's territory
    shot(page, "evolutions")
    page.get_by_role("link", name="Sorties (1)").click()
    page.wait_for_url("**changement=sortie*")
    assert page.locator("#evolutions tbody tr").count() == 1
    page.goto(f"/entreprises/{seed.SEED_COMPANIES['in_alerted'][0]}")
    chart = page.locator("#score-history svg[data-chart='historique']")
    chart.wait_for()
    assert chart.locator("path[data-series]").count() >= 1
    assert "Août 2026" in page.get_by_role("table", name="Historique des scores").inner_text()
    page.locator("#score-history").scroll_into_view_if_needed()
    shot(page, "historique-score")
    assert not page.sf_errors.scripts, page.sf_errors.scripts
    assert not page.sf_errors.responses, page.sf_errors.responses
