"""The followed portfolio as an agent uses it, in Chromium at 1 280 px (issue 23): « Mes entreprises » with its
columns, the XLSX export clicked and the downloaded file opened, the organisation's portfolio and its DOCX export.
Screenshots under ``test-artifacts/screenshots/``."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def follow_up(platform_server: str, tmp_path_factory: pytest.TempPathFactory, seed: Any) -> Iterator[None]:
    """In the served database: agents A and B (URSSAF) follow 111111111, agent B comments on it."""
    from sqlalchemy import select

    from signaux_faibles.platform import accounts
    from signaux_faibles.platform.models import Comment, User
    from signaux_faibles.platform.store.db import get_engine, sessions

    (db_path,) = tmp_path_factory.getbasetemp().glob("browser_platform[0-9]*/platform.db")
    engine = get_engine(f"sqlite:///{db_path}")
    siren = seed.SEED_COMPANIES["in_alerted"][0]
    try:
        with sessions(engine)() as db:
            a, b = (
                db.scalar(select(User).where(User.email == seed.SEED_USERS[k][0]))
                for k in ("agent_a", "agent_b")
            )
            assert a is not None and b is not None
            accounts.follow(db, a, siren, "Veille")
            accounts.follow(db, b, siren, "Signalement d'un partenaire")
            db.add(Comment(siren=siren, user_id=b.id, body="Dirigeant rencontré : trésorerie tendue jusqu'en mars.",
                           created_at=dt.datetime.now(dt.UTC)))  # fmt: skip
            db.commit()
    finally:
        engine.dispose()
    yield


def test_my_companies_and_the_xlsx_export(
    page: Any, login: Callable[..., None], shot: Callable[[Any, str], Path], seed: Any, follow_up: None
) -> None:
    from openpyxl import load_workbook

    page.set_viewport_size(VIEWPORT)
    login(page, seed.SEED_USERS["agent_a"][0])
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mes entreprises").click()
    page.wait_for_url("**/mes-entreprises")
    headers = [" ".join(t.split()) for t in page.locator("#portefeuille thead th").all_inner_texts()]
    assert headers[:4] == ["Entreprise", "Dépt", "Suivi", "Niveau (dernière liste)"]
    assert {"Évolution", "Procédure collective", "Accompagnement", "Dernier commentaire"} <= set(headers)
    siren = seed.SEED_COMPANIES["in_alerted"][0]
    row = page.locator(f"#ligne-{siren}")
    text = row.inner_text()
    assert "risque élevé" in text.lower() and "Hausse de niveau" in text and "trésorerie tendue" in text
    table = page.locator("#portefeuille table").bounding_box()
    assert table is not None and table["x"] + table["width"] <= VIEWPORT["width"]  # no horizontal scrolling
    shot(page, "mes-entreprises")

    with page.expect_download() as dl:
        page.get_by_role("link", name="Exporter en tableur (XLSX)").click()
    assert dl.value.suggested_filename.startswith("mes-entreprises-")
    assert dl.value.suggested_filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    rows = list(wb["Portefeuille"].iter_rows(values_only=True))
    header = list(rows[0])
    by = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert siren in by and seed.SEED_COMPANIES["out_followed"][0] in by
    assert by[siren]["Niveau d'alerte (dernière liste)"] == "Risque élevé"
    assert by[siren]["Dernier commentaire : organisation"] == "URSSAF"
    assert not page.sf_errors.scripts, page.sf_errors.scripts
    assert not page.sf_errors.responses, page.sf_errors.responses


def test_the_organisation_portfolio_and_its_docx(
    page: Any, login: Callable[..., None], shot: Callable[[Any, str], Path], seed: Any, follow_up: None
) -> None:
    from docx import Document

    page.set_viewport_size(VIEWPORT)
    login(page, seed.SEED_USERS["agent_b"][0])
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Portefeuille").click()
    page.wait_for_url("**/portefeuille")
    assert page.get_by_role("heading", name="Portefeuille de mon organisation").is_visible()
    siren = seed.SEED_COMPANIES["in_alerted"][0]
    assert "agent.a@urssaf.fr" in page.locator(f"#ligne-{siren}").inner_text()
    shot(page, "portefeuille-organisation")
    with page.expect_download() as dl:
        page.get_by_role("link", name="Exporter en document Word (DOCX)").click()
    assert dl.value.suggested_filename.startswith("portefeuille-organisation-")
    doc = Document(io.BytesIO(Path(dl.value.path()).read_bytes()))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Portefeuille de mon organisation — URSSAF" in text and "SOCIETE IN_ALERTED" in text
    assert not page.sf_errors.responses, page.sf_errors.responses
