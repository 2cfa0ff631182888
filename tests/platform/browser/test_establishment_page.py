"""The establishment page in Chromium at 1 280 px (issue 23): an agent goes from the company page to an
establishment, reads its effectif, URSSAF and activité partielle charts (with their tables), its délais and the map
of its département; without the data rights the confidential blocks are replaced by a French sentence; recorded
coordinates outside the département are said so. Screenshots under ``test-artifacts/screenshots/``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import login_2fa, open_page

VIEWPORT = {"width": 1280, "height": 900}
HEAD_OFFICE = "11111111100011"  # SOCIETE IN_ALERTED, Dijon (21): agent A's territory, alerted
#: SOCIETE BOTH_ALERTED's establishment in the 21, its recorded coordinates outside the outline
SECONDARY = "55555555500029"


def _months(n: int = 24) -> list[dt.date]:
    return [dt.date(2024 + (9 + m) // 12, (9 + m) % 12 + 1, 1) for m in range(n)]  # 10/2024 … 09/2026


@pytest.fixture(scope="module")
def establishment_data(platform_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Series, délais, addresses and coordinates written into the served database (the session's seeded SQLite
    file), once."""
    from signaux_faibles.platform.models import Delai, Establishment, EstablishmentMonth
    from signaux_faibles.platform.store.db import get_engine, sessions

    (db_path,) = tmp_path_factory.getbasetemp().glob("browser_platform[0-9]*/platform.db")
    engine = get_engine(f"sqlite:///{db_path}")
    try:
        with sessions(engine)() as db:
            head = db.get(Establishment, HEAD_OFFICE)
            head.adresse, head.libelle_departement = "12 RUE DE LA LIBERTE\n21000 DIJON", "Côte-d'Or"
            head.libelle_region, head.ape = "Bourgogne-Franche-Comté", "2562B"
            head.date_creation = dt.date(1998, 4, 1)
            head.latitude, head.longitude = 47.3216, 5.0386
            other = db.get(Establishment, SECONDARY)
            other.adresse, other.libelle_departement = "4 RUE DU FAUBOURG\n21200 BEAUNE", "Côte-d'Or"
            other.latitude, other.longitude = 44.10, 1.35  # as the twin's pseudo coordinates: far from Beaune
            if db.get(EstablishmentMonth, (HEAD_OFFICE, _months()[0])) is None:
                for i, m in enumerate(_months()):
                    debt = max(0, i - 8) * 2600.0
                    db.add(EstablishmentMonth(siret=HEAD_OFFICE, siren=head.siren, periode=m, effectif=52 - i // 2,
                                              cotisation=18400.0 - 120 * i, part_ouvriere=debt / 3,
                                              part_patronale=2 * debt / 3, etp_autorise=6.0 if i >= 13 else None,
                                              etp_consomme=3.5 if i >= 14 else None))  # fmt: skip
                db.add(Delai(siret=HEAD_OFFICE, siren=head.siren, numero_compte="217000001234567890",
                             date_creation=dt.date(2026, 4, 14), date_echeance=dt.date(2026, 12, 14),
                             duree_delai=244, montant_echeancier=31200.0, stade="APPROB", action="DELAI"))  # fmt: skip
                db.add(Delai(siret=HEAD_OFFICE, siren=head.siren, numero_compte="217000001234567890",
                             numero_contentieux="CT-2025-0042", date_creation=dt.date(2025, 2, 3),
                             date_echeance=dt.date(2025, 5, 3), duree_delai=89, montant_echeancier=8450.0,
                             stade="FIN", action="DELAI"))  # fmt: skip
            db.commit()
    finally:
        engine.dispose()
    yield


@pytest.fixture
def page(browser: Any, platform_server: str, establishment_data: None) -> Iterator[Any]:
    """A fresh context at 1 280 × 900, console errors counted too."""
    yield from open_page(browser, platform_server, VIEWPORT, console_errors=True)


def _no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"the page is {width} px wide"


def test_agent_reads_an_establishment(
    page: Any, platform_server: str, seed: Any, shot: Callable[[Any, str], Path]
) -> None:
    outside: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith((platform_server, "data:")) else outside.append(r.url)
    )
    login_2fa(page, seed.SEED_USERS["agent_a"][0])
    page.goto(f"/entreprises/{seed.SEED_COMPANIES['in_alerted'][0]}")
    page.locator(f'a[href="/etablissements/{HEAD_OFFICE}"]').click()
    page.wait_for_url(f"**/etablissements/{HEAD_OFFICE}")
    assert page.get_by_role("heading", level=1).inner_text() == f"Établissement {HEAD_OFFICE}"
    for chart in ("effectif", "urssaf", "dgefp"):
        svg = page.locator(f'svg[data-chart="etablissement-{chart}"]')
        assert svg.is_visible(), chart
        box = svg.bounding_box()
        assert box is not None and box["width"] > 300, (chart, box)
    carte = page.locator('svg[data-map="departement"]')
    assert carte.is_visible() and carte.get_attribute("data-departement") == "21"
    assert carte.locator('circle[data-position="inside"]').count() == 1
    assert "Côte-d'Or" in page.locator("#carte figcaption").inner_text()
    delais = page.locator("#delais-tableau")
    assert delais.locator("tbody tr").count() == 2
    first = delais.locator("tbody tr").first.inner_text()
    assert "14/04/2026" in first and "244 jours" in first and "accordé" in first, first
    assert "31 200 €" in first.replace("\u202f", " ").replace("\u00a0", " "), first
    assert "terminé" in delais.locator("tbody tr").nth(1).inner_text()
    _no_horizontal_scroll(page)
    shot(page, "etablissement")
    details = page.locator("#urssaf-tableau")
    details.locator("summary").click()
    assert details.locator("table").is_visible()
    assert "septembre 2026" in details.locator("tbody tr").last.inner_text()
    details.scroll_into_view_if_needed()
    shot(page, "tableau-urssaf")
    assert not page.sf_errors.scripts, page.sf_errors.scripts
    assert not page.sf_errors.responses, page.sf_errors.responses
    assert not outside, outside  # no tile, no font, no script from elsewhere


def test_confidential_blocks_hidden_without_rights(
    page: Any, seed: Any, shot: Callable[[Any, str], Path]
) -> None:
    login_2fa(page, seed.SEED_USERS["no_rights"][0])  # département 21, no data right
    page.goto(f"/etablissements/{HEAD_OFFICE}")
    assert page.locator('svg[data-chart="etablissement-effectif"]').is_visible()
    for block in ("urssaf", "delais", "dgefp"):
        assert page.locator(f"#{block}-hidden").is_visible(), block
    assert page.locator('svg[data-chart="etablissement-urssaf"]').count() == 0
    assert "217000001234567890" not in page.content()
    _no_horizontal_scroll(page)
    shot(page, "sans-droits")


def test_coordinates_outside_the_departement(page: Any, seed: Any, shot: Callable[[Any, str], Path]) -> None:
    login_2fa(page, seed.SEED_USERS["agent_a"][0])
    page.goto(f"/etablissements/{SECONDARY}")
    carte = page.locator('svg[data-map="departement"]')
    assert carte.locator('circle[data-position="outside"]').count() == 1
    note = page.locator("#carte-hors-contour")
    assert note.is_visible() and "hors du département" in note.inner_text()
    others = page.locator("#autres-etablissements-tableau")
    assert others.locator('a[href="/etablissements/55555555500011"]').is_visible()
    carte.scroll_into_view_if_needed()
    shot(page, "hors-contour")
