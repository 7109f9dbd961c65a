"""Chromium enforces the Content-Security-Policy: the pages of each role and the API docs work with
no violation reported (no inline script or style left anywhere)."""

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import login_as

pytestmark = pytest.mark.browser

PAGES = {
    "porteur@demo.aap.test": ["/", "/porteur"],
    "admin@demo.aap.test": ["/", "/tableau-de-bord"],
    "ville@demo.aap.test": ["/", "/financeur"],
}


def _violations(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def test_the_pages_and_the_api_docs_run_under_the_csp(page: Page) -> None:
    seen = _violations(page)
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)  # Swagger UI rendered the API
    for email, urls in PAGES.items():
        page.context.clear_cookies()
        login_as(page, email)
        for url in urls:
            page.goto(url)
    assert seen == []
