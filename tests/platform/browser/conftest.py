"""Fixtures of the browser tests: a real ``signaux-faibles serve`` on a seeded SQLite database, driven by Debian's
chromium through Playwright (sync API).

- ``platform_server`` (session): seeds a SQLite platform database with ``seed_platform`` (``tests/platform/
  seed.py``), starts ``signaux-faibles serve`` on a free port (its own process group), waits for ``/sante``,
  yields the base URL, then stops the process group and checks the port is free again.
- ``browser`` (session): ``/usr/bin/chromium`` launched by Playwright (never ``playwright install``). When it is
  missing the tests fail in CI (``CI=true``) and are skipped elsewhere.
- ``page``: a fresh browser context (1280×900, French) on the server, its page errors collected.
- ``login``: ``login(page, email)`` logs in through the whole 2FA flow (password, TOTP — enrolled at first login,
  the secret read from the page — then the confidentiality notice) and ends on ``/listes``.
- ``shot``: ``shot(page, name)`` saves a full-page screenshot under ``test-artifacts/screenshots/`` (gitignored).

The folder is a package (``__init__.py``): this conftest is then ``browser.conftest``, apart from
``tests/platform/conftest.py``. The seed is the plain module ``tests/platform/seed.py`` (``from seed import …``); the
helpers here are reached as fixtures.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import seed as seed_module
from seed import SEED_PASSWORD, seed_history, seed_platform

from needs import unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000


def require_chromium() -> Path:
    """Debian's chromium, or fail (CI) / skip (elsewhere) when it is missing."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    unavailable(str(CHROMIUM), "apt-get install chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/sante", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def platform_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``signaux-faibles serve`` on a seeded SQLite database: its base URL."""
    require_chromium()  # no server to start when there is no browser to drive it
    root = tmp_path_factory.mktemp("browser_platform")
    db_path = root / "platform.db"
    seed_platform(f"sqlite:///{db_path}")
    seed_history(f"sqlite:///{db_path}")
    port = _free_port()
    assert not _port_in_use(port), f"port {port} is already in use"
    env = os.environ.copy()
    env.update({
        "SF_DATA_DIR": str(root / "data"),
        "SF_DATABASE_URL": f"sqlite:///{db_path}",
        "SF_SECRET_KEY": "browser-test-secret-key",
        "SF_CONFIG": str(root / "absent.toml"),  # no signaux-faibles.toml of the working directory
    })  # fmt: skip
    env.pop("SF_PRODUCTION", None)
    exe = Path(sys.executable).parent / "signaux-faibles"
    log_path = root / "server.log"
    log = log_path.open("wb")
    proc = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=root,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(base):
            if proc.poll() is not None:
                pytest.fail(f"the server exited ({proc.returncode}):\n{log_path.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the server did not answer /sante in 60 s:\n{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # proc.pid leads its own process group (start_new_session)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        log.close()
    assert proc.returncode is not None
    for _ in range(50):  # the listening socket is gone with the process
        if not _port_in_use(port):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"port {port} still answers after the server stopped")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (sync API)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class PageErrors:
    """What went wrong in the page: uncaught script errors and failed answers (HTTP status ≥ 400)."""

    scripts: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)


def open_page(
    browser: Any, base_url: str, viewport: dict[str, int], console_errors: bool = False
) -> Iterator[Any]:
    """A page in a fresh context (its own cookies) on ``base_url``; ``page.sf_errors`` collects uncaught script
    errors (and the console's errors when ``console_errors``) and failed answers. A generator: fixtures yield from it."""
    context = browser.new_context(base_url=base_url, locale="fr-FR", viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    p = context.new_page()
    errors = PageErrors()
    p.on("pageerror", lambda e: errors.scripts.append(str(e)))
    if console_errors:
        p.on("console", lambda m: errors.scripts.append(m.text) if m.type == "error" else None)
    p.on("response", lambda r: errors.responses.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    p.sf_errors = errors
    try:
        yield p
    finally:
        context.close()


@pytest.fixture
def page(browser: Any, platform_server: str) -> Iterator[Any]:
    """A page in a fresh context (its own cookies) on the server; ``page.sf_errors`` collects the errors."""
    yield from open_page(browser, platform_server, {"width": 1280, "height": 900})


@pytest.fixture(scope="session")
def seed() -> Any:
    """The seed's definitions (``SEED_USERS``, ``SEED_COMPANIES``, ``SEED_PASSWORD``)."""
    return seed_module


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``shot(page, name)``: a full-page screenshot ``test-artifacts/screenshots/<test>-<nn>-<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def take(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{request.node.name}-{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


#: The TOTP secrets enrolled during the session, and the last time step used, by e-mail.
_TOTP: dict[str, tuple[str, int]] = {}


def login_2fa(
    page: Any, email: str, password: str | None = None, shot: Callable[[Any, str], Path] | None = None
) -> None:
    """The whole login: password, TOTP code (enrolling the secret shown at first login), notice; ends on /listes."""
    import pyotp

    page.goto("/connexion")
    page.fill("#email", email)
    page.fill("#password", password or SEED_PASSWORD)
    if shot:
        shot(page, "connexion")
    page.get_by_role("button", name="Se connecter", exact=True).click()
    page.wait_for_url("**/connexion/code")
    secret_el = page.locator("#totp-secret")
    if secret_el.count():
        secret = secret_el.inner_text().strip()
        last = -1
    else:
        assert email in _TOTP, f"{email}: no secret shown and none enrolled in this session"
        secret, last = _TOTP[email]
    totp = pyotp.TOTP(secret)
    at = dt.datetime.now(dt.UTC)
    step = totp.timecode(at)
    if step <= last:  # a code is never accepted twice: take the next step (the server accepts one step ahead)
        step = last + 1
    while step > totp.timecode(dt.datetime.now(dt.UTC)) + 1:  # a third login in one step: wait for the next one
        time.sleep(1)
    page.fill("#code", totp.generate_otp(step))
    if shot:
        shot(page, "code")
    page.get_by_role("button", name="Valider", exact=True).click()
    page.wait_for_url(lambda url: not url.endswith("/connexion/code"))
    _TOTP[email] = (secret, step)
    if page.url.endswith("/avis"):
        page.locator('label[for="accept"]').click()  # DSFR draws the box on the label, over the input
        assert page.is_checked("#accept")
        if shot:
            shot(page, "avis")
        page.get_by_role("button", name="Accéder à la plateforme").click()
    page.wait_for_url("**/listes")


@pytest.fixture
def login(shot: Callable[[Any, str], Path]) -> Callable[..., None]:
    """``login(page, email)``: the whole 2FA login (screenshots at each step), ending on ``/listes``."""

    def do(page: Any, email: str, password: str | None = None) -> None:
        login_2fa(page, email, password, shot)

    return do
