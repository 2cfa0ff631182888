"""Issue 22 in a real browser at 1 280 × 800 (Debian's chromium, Playwright): the API docs page renders its
operations from the platform's own files (no CDN, the platform's CSP); an unknown page and a refused one are French
pages with the user's header; the company page's DIANE amounts carry their unit (k€ / M€)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import TIMEOUT_MS, login_2fa, open_page

VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def page(browser: Any, platform_server: str) -> Iterator[Any]:
    """A fresh context at 1 280 × 800 (the conftest's page is 1 280 × 900), console errors counted too."""
    yield from open_page(browser, platform_server, VIEWPORT, console_errors=True)


def test_api_docs_render_their_operations(page: Any, platform_server: str, shot: Callable[[Any, str], Path]) -> None:
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((platform_server, "data:")) else outside.append(r.url))
    page.goto("/api/docs")
    page.wait_for_selector(".opblock", timeout=TIMEOUT_MS)
    operations = page.locator(".opblock")
    assert operations.count() >= 5, operations.count()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/companies/" in p for p in paths), paths
    assert not page.sf_errors.scripts, page.sf_errors.scripts  # no script blocked by the CSP
    assert not page.sf_errors.responses, page.sf_errors.responses
    assert not outside, outside
    served = page.request.get("/api/docs").text()
    assert not re.findall(r'(?:src|href)\s*=\s*["\'](https?://[^"\']+)', served), served
    shot(page, "api-docs")


def test_unknown_page_is_a_french_404(page: Any, seed: Any, shot: Callable[[Any, str], Path]) -> None:
    response = page.goto("/cette-page-n-existe-pas")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page introuvable"
    assert "Not Found" not in page.content()
    assert page.get_by_role("link", name="Se connecter").is_visible()
    shot(page, "404-anonyme")
    login_2fa(page, seed.SEED_USERS["agent_b"][0])
    page.goto("/cette-page-n-existe-pas")
    assert page.get_by_role("heading", level=1).inner_text() == "Page introuvable"
    assert page.get_by_role("button", name="Se déconnecter").is_visible()
    assert page.get_by_role("link", name="Se connecter").count() == 0
    shot(page, "404-connecte")


def test_refusal_speaks_french(page: Any, seed: Any, shot: Callable[[Any, str], Path]) -> None:
    login_2fa(page, seed.SEED_USERS["no_rights"][0])
    response = page.goto("/listes/1/export.csv")
    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Accès refusé"
    detail = page.locator("#error-detail").inner_text()
    assert "droit « score »" in detail, detail
    assert "needs" not in page.content()
    # the agents' work on a company outside the territory (its page itself opens with the identity)
    response = page.goto(f"/entreprises/{seed.SEED_COMPANIES['out_alerted'][0]}/commentaires")
    assert response.status == 403
    assert "aucun établissement dans votre territoire" in page.locator("#error-detail").inner_text()
    shot(page, "403")
    response = page.goto("/entreprises/abc")
    assert response.status == 422
    assert page.get_by_role("heading", level=1).inner_text() == "Adresse invalide"
    assert "SIREN (9 chiffres)" in page.locator("main").inner_text()
    shot(page, "422")


def test_company_diane_amounts_carry_their_unit(page: Any, seed: Any, shot: Callable[[Any, str], Path]) -> None:
    login_2fa(page, seed.SEED_USERS["agent_a"][0])
    page.goto(f"/entreprises/{seed.SEED_COMPANIES['in_alerted'][0]}")
    table = page.locator("table", has=page.locator("caption", has_text="DIANE"))
    table.scroll_into_view_if_needed()
    text = table.inner_text()
    assert "1235.0" not in text and "18450" not in text, text
    assert re.search(r"18,5\s*M€", text), text  # 18 460 k€
    assert re.search(r"1\s*235\s*k€", text), text  # EBE 1 235 k€
    assert re.search(r"−\s*240\s*k€|-\s*240\s*k€", text), text
    shot(page, "entreprise-diane")


def test_enrolment_qr_and_account_in_french(
    page: Any, seed: Any, login: Callable[..., None], shot: Callable[[Any, str], Path]
) -> None:
    """The 2FA enrolment shows a QR code (screenshot « code » of the login); the account page says role,
    territory and rights in words."""
    seen: list[tuple[bool, bool]] = []  # (a secret to enrol, a QR code) on each code page

    def look(p: Any) -> None:
        if "/connexion/code" in p.url:
            seen.append((p.locator("#totp-secret").count() == 1, p.locator("#totp-qr svg").count() == 1))

    page.on("load", look)
    login(page, seed.SEED_USERS["org_admin"][0])
    page.goto("/compte")
    text = page.locator("main").inner_text()
    assert "administrateur de l'organisation" in text and "département 21" in text, text
    shot(page, "compte")
    page.goto("/admin/utilisateurs")
    shot(page, "agents")
    assert seen and all(secret == qr for secret, qr in seen), seen  # enrolled earlier in the session: neither


def test_audit_and_dashboard_in_french(page: Any, seed: Any, shot: Callable[[Any, str], Path]) -> None:
    """The audit page tells each event's detail in French (no JSON, no English reason); the dashboard's shares
    and figures in French formats."""
    login_2fa(page, seed.SEED_USERS["admin"][0])
    page.goto("/entreprises/abc")  # a few events to read: a 422 is not recorded, a refusal is
    page.goto("/admin/audit")
    main = page.locator("main").inner_text()
    assert "événement" in main and '{"' not in main and "needs the" not in main, main[:400]
    shot(page, "journal-audit")
    page.goto("/tableau-de-bord")
    assert page.get_by_role("heading", level=1).inner_text() == "Tableau de bord"
    shot(page, "tableau-de-bord")
