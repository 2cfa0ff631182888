"""Issue 23 in a real browser at 1 280 × 800 (Debian's chromium, Playwright): the company page's partner blocks —
« Groupe » (its head linked), the CCSF plans in the URSSAF data, « Paiements » (the last 12 paydex and FPI values
and their charts) — with a screenshot of each block and of the whole page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import login_2fa, open_page

VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def page(browser: Any, platform_server: str) -> Iterator[Any]:
    """A fresh context at 1 280 × 800, console errors counted too."""
    yield from open_page(browser, platform_server, VIEWPORT, console_errors=True)


@pytest.fixture
def partner_data(platform_server: str, tmp_path_factory: pytest.TempPathFactory, seed: Any) -> str:
    """Payment records, CCSF plans and a group for the alerted company of agent A's territory, written into the
    session server's database (the ``platform_server`` fixture's SQLite file); its SIREN."""
    from signaux_faibles.platform.models import CcsfEvent, GroupMember, PaymentRecord
    from signaux_faibles.platform.store import db as platform_db

    (db_path,) = tmp_path_factory.getbasetemp().glob("browser_platform[0-9]*/platform.db")
    siren, etabs, _ = seed.SEED_COMPANIES["in_alerted"]
    head = seed.SEED_COMPANIES["in_quiet"][0]
    engine = platform_db.get_engine(f"sqlite:///{db_path}")
    try:
        with platform_db.sessions(engine)() as db:
            if db.get(PaymentRecord, (siren, dt.date(2026, 9, 15))) is None:
                for i in range(18):
                    y, m = 2025 + (3 + i) // 12, (3 + i) % 12 + 1
                    db.add(PaymentRecord(siren=siren, date_valeur=dt.date(y, m, 15), paydex_jours=8.0 + 2 * i,
                                         fpi_30=30.0 + 2 * i, fpi_90=4.0 + i))  # fmt: skip
                db.add(CcsfEvent(siret=etabs[0][0], siren=siren, numero_compte="123", stade="DEBUT", action="CCSF",
                                 date_traitement=dt.date(2025, 3, 4)))  # fmt: skip
                db.add(CcsfEvent(siret=etabs[0][0], siren=siren, numero_compte="123", stade="APPROB",
                                 action="CCSF", date_traitement=dt.date(2025, 5, 6)))  # fmt: skip
                for member, level, share in ((head, 0, 100.0), (siren, 1, 75.5), ("987654321", 2, 51.0)):
                    db.add(GroupMember(code_groupe="G42", siren=member, siren_tete=head, niveau_detention=level,
                                       raison_sociale_groupe="GROUPE TEST", part_financiere=share))  # fmt: skip
                db.commit()
    finally:
        engine.dispose()
    return str(siren)


def test_company_partner_blocks(
    page: Any, seed: Any, partner_data: str, shot: Callable[[Any, str], Path]
) -> None:
    login_2fa(page, seed.SEED_USERS["agent_a"][0])
    page.goto(f"/entreprises/{partner_data}")
    group = page.locator("div.sf-groupe")
    group.scroll_into_view_if_needed()
    assert "GROUPE TEST" in group.inner_text()
    assert (
        page.locator("#tete-groupe").get_attribute("href")
        == f"/entreprises/{seed.SEED_COMPANIES['in_quiet'][0]}"
    )
    ccsf = page.locator("table", has=page.locator("caption", has_text="Commission des chefs"))
    assert "Plan accordé" in ccsf.inner_text()
    table = page.locator("#paiements-table")
    table.scroll_into_view_if_needed()
    assert table.locator("tbody tr").count() == 12
    for chart in ("paydex", "fpi"):
        box = page.locator(f'svg[data-chart="{chart}"]').bounding_box()
        assert box is not None and box["width"] > 300 and box["x"] + box["width"] <= 1280, (chart, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # nothing wider than the window
    shot(page, "entreprise")
    # the blocks, from « Groupe » to « Accompagnement », at 1 280 px: a clip of the full page
    top, bottom = (page.evaluate(f"document.getElementById('{i}').getBoundingClientRect().top + window.scrollY")
                   for i in ("groupe", "accompagnement"))  # fmt: skip
    path = shot(page, "blocs-partenaires")
    page.screenshot(
        path=str(path), full_page=True, clip={"x": 0, "y": top - 8, "width": 1280, "height": bottom - top}
    )
    assert not page.sf_errors.scripts, page.sf_errors.scripts
