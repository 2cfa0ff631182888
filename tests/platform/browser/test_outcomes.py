"""The dashboard's outcome section (issue 23) in a real browser at 1 280 px (Debian's chromium, Playwright): the
overall table with its Wilson intervals, the breakdowns by région and by list month (« effectif trop faible »
under the minimum), the method; a screenshot of the section.

The section needs a history of lists old enough and a cohort of some size: this module serves its own seeded
database (``seed_platform`` plus three lists of 2023–2024 and their proceedings) in a uvicorn thread, apart from
the session's server, whose data the other browser tests count on.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from seed import add_hotel_in_dijon, login, seed_platform
from sqlalchemy import insert

from .conftest import SCREENSHOTS, _free_port, _healthy, open_page, require_chromium

COHORTS = (dt.date(2023, 6, 1), dt.date(2023, 12, 1), dt.date(2024, 6, 1))


def _history(app: Any) -> int:
    """Three old lists of 60 firms each in Côte-d'Or (21) and Paris (75), their opening judgments (about one in
    four within 18 months, a few before the alert), a third followed; a regional agent (R27, R11) who sees them."""
    from signaux_faibles.contract import ALERT_HIGH, ALERT_MODERATE
    from signaux_faibles.platform import accounts
    from signaux_faibles.platform.models import Company, Establishment, Follow, List, ProcolEvent, Score
    from signaux_faibles.platform.web.dashboard import add_months

    rng = np.random.default_rng(23)
    with app.state.sessions() as db:
        agent = accounts.add_user(db, "agent.regional@urssaf.fr", organisation="URSSAF", territory="R27,R11",
                                  rights="score,urssaf", password="Correct-Horse-9-Battery")  # fmt: skip
        n = 0
        for month in COHORTS:
            li = List(batch=month.strftime("%y%m"), algo="test", label=f"{month:%m/%Y}", periode=month,
                      published_at=dt.datetime(2024, 7, 1, tzinfo=dt.UTC))  # fmt: skip
            db.add(li)
            db.flush()
            scores = []
            for i in range(60):
                n += 1
                siren = f"8{n:08d}"
                if i % 3:
                    add_hotel_in_dijon(db, siren, f"HOTEL {n}")
                else:
                    db.add(Company(siren=siren, raison_sociale=f"ATELIER {n}", departement="75", region="11",
                                   libelle_region="Île-de-France", siret_siege=siren + "00011", snapshot_batch="2609"))  # fmt: skip
                    db.flush()
                    db.add(Establishment(siret=siren + "00011", siren=siren, departement="75", region="11", siege=True,
                                         est_actif=True, snapshot_batch="2609"))  # fmt: skip
                scores.append({"list_id": li.id, "siren": siren, "algo": "test", "rank": i + 1, "probability": 0.3,
                               "alert": ALERT_HIGH if i % 4 == 0 else ALERT_MODERATE, "alert_pre_adjustment": ALERT_HIGH,
                               "adjustments": [], "first_alert": True, "first_high_alert": i % 4 == 0})  # fmt: skip
                followed = rng.random() < 0.35
                if followed:
                    db.add(Follow(user_id=agent.id, siren=siren, category="Veille", active=True,
                                  since=dt.datetime.combine(month + dt.timedelta(days=20), dt.time(9), dt.UTC)))  # fmt: skip
                u = rng.random()
                if u < 0.05:  # already judged at the alert: left out
                    day = add_months(month, -int(rng.integers(2, 30)))
                elif u < (0.2 if followed else 0.33):  # a judgment within the window
                    day = add_months(month, int(rng.integers(1, 19))) + dt.timedelta(
                        days=int(rng.integers(0, 27))
                    )
                else:
                    continue
                db.add(
                    ProcolEvent(
                        siren=siren, date_effet=day, action_procol="liquidation", stade_procol="ouverture"
                    )
                )
            db.execute(insert(Score), scores)
        db.commit()
        return agent.id


@pytest.fixture(scope="module")
def outcome_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``(base URL, session cookie of the regional agent)`` of a uvicorn thread on the seeded database."""
    import uvicorn

    from signaux_faibles.config import Settings
    from signaux_faibles.platform.web import create_app

    require_chromium()
    root = tmp_path_factory.mktemp("browser_outcomes")
    url = f"sqlite:///{root / 'platform.db'}"
    ids = seed_platform(url)
    app = create_app(Settings(data_dir=root / "data", database_url=url, secret_key="browser-outcomes-secret"))
    ids["regional"] = _history(app)
    client, _ = login(app, "regional", ids)
    cookie = client.cookies["sf_session"]
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _healthy(base):
        assert time.monotonic() < deadline, "the outcome server did not answer /sante in 30 s"
        time.sleep(0.1)
    try:
        yield base, cookie
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        app.state.engine.dispose()


@pytest.fixture
def page(browser: Any, outcome_server: tuple[str, str]) -> Iterator[Any]:
    base, cookie = outcome_server
    for p in open_page(browser, base, {"width": 1280, "height": 900}, console_errors=True):
        p.context.add_cookies([{"name": "sf_session", "value": cookie, "url": base}])
        yield p


def test_outcome_section_at_1280(
    page: Any, shot: Callable[[Any, str], Path], request: pytest.FixtureRequest
) -> None:
    page.goto("/tableau-de-bord")
    section = page.locator("#devenir-section")
    assert section.is_visible()
    overall = page.locator("#devenir-table tbody tr")
    assert overall.count() == 3
    text = section.inner_text()
    assert "intervalle de confiance à 95 %" in text and "déjà en procédure collective" in text, text[:600]
    regions = page.locator("#devenir-regions tbody tr").all_inner_texts()
    assert [r.split("\t")[0] for r in regions] == ["11 – Île-de-France", "27 – Bourgogne-Franche-Comté"], (
        regions
    )
    lists = page.locator("#devenir-listes tbody tr").all_inner_texts()
    assert [r.split("\t")[0] for r in lists] == ["juin 2023", "décembre 2023", "juin 2024"], lists
    assert "effectif trop faible" in " ".join(lists)  # the followed firms of one list month: under 20
    assert "Méthode" in text and "pas un effet causal" in text
    # the tables fit the page at 1 280 px: no horizontal scrolling of the document
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert not page.sf_errors.scripts and not page.sf_errors.responses, page.sf_errors
    shot(page, "tableau-de-bord")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SCREENSHOTS / f"{request.node.name}-devenir.png"))
