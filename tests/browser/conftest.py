"""Browser tests: a live server with the demo loaded, driven by Playwright in Debian's Chromium.

Playwright never downloads a browser here: it launches /usr/bin/chromium (installed by `.ci/run`).
The suite runs on SQLite only, to keep it quick. Helpers for every browser test:

- ``live_server`` (fixture): the base URL of a uvicorn server in a thread, serving the demo;
- ``page`` (fixture): a fresh browser context and page, base URL set;
- ``login_as(page, email)``: logs in through the login page, like a person;
- ``axe_check(page)``: runs axe-core (bundled by axe-playwright-python, no CDN) and fails on any
  ``serious`` or ``critical`` violation, listing each with its elements.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine

from aap.app import create_app
from aap.db import make_engine
from aap.migrate import upgrade
from aap.settings import Settings
from tests.guichet.test_registry import FakeRegistry

CHROMIUM = os.environ.get("AAP_CHROMIUM", "/usr/bin/chromium")
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
DEMO_PASSWORD = "demo"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """SQLite only for the browser suite (overrides the per-backend fixture of tests/conftest.py)."""
    path = tmp_path_factory.mktemp("browser-db") / "aap.sqlite3"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    yield eng
    eng.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread may not install them
        pass


@pytest.fixture
def live_server(db_engine: Engine, settings: Settings, demo: date) -> Iterator[str]:
    """The app on 127.0.0.1:<free port>, over the demo (restored fresh for each test)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # No call leaves the machine: the registry lookup asks a local fake of the company registry, so a
    # 503 « registre indisponible » in these tests would be a real failure.
    registry = FakeRegistry()
    live_settings = settings.model_copy(update={"base_url": base, "registry_base_url": registry.url})
    app = create_app(live_settings, db_engine)
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("le serveur de test n'a pas démarré")
        time.sleep(0.02)
    yield base
    server.should_exit = True
    thread.join(timeout=10)
    registry.close()


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        missing = f"Chromium introuvable ({CHROMIUM}) : installez le paquet Debian « chromium »"
        if os.environ.get("CI") == "true":  # .ci/run installs it: in CI a missing browser is a failure
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=live_server,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


def login_as(page, email: str, password: str = DEMO_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Logs in through the login page, as a person would; waits for the landing page."""
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    assert "/connexion" not in page.url, f"la connexion de {email} a échoué"


_axe = None


def axe_check(page, impacts: tuple[str, ...] = ("serious", "critical")) -> None:  # type: ignore[no-untyped-def]
    """axe-core on the current page: no violation of the given impacts (WCAG 2.1 A/AA rules)."""
    global _axe
    from axe_playwright_python.sync_playwright import Axe

    _axe = _axe or Axe()
    results = _axe.run(
        page,
        options={
            "runOnly": {
                "type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
            }
        },
    )
    bad = [v for v in results.response["violations"] if v.get("impact") in impacts]
    report = "\n".join(
        f"- [{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} élément(s)) "
        + "; ".join(str(n.get("target")) for n in v["nodes"][:5])
        for v in bad
    )
    assert not bad, f"axe-core sur {page.url} :\n{report}"


def link_sent_to(engine: Engine, email: str, path: str) -> str:
    """The link to `path` (e.g. « /verification ») in the last message recorded for `email`, as a path
    of the live server: the live server has no SMTP server, its messages wait in the outbox."""
    import re

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from aap.models import Notification

    with Session(engine) as s:
        body = s.scalar(
            select(Notification.body_text)
            .where(Notification.recipient == email)
            .order_by(Notification.id.desc())
            .limit(1)
        )
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}/[A-Za-z0-9_\-]+)", body or "")
    assert match, f"aucun lien {path} dans le dernier message à {email} : {body!r}"
    return match.group(1)
