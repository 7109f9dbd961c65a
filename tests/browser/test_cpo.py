"""The CPO in Chromium: the instructeur proposes one from the programmed dossier, both financers sign it
by clicking, the admin's list draws the gauge; axe-core on the CPO pages."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_check, login_as
from tests.web.staff_helpers import ADMIN, AGENTS, INSTRUCTEUR

pytestmark = pytest.mark.browser


def _switch(page: Page, email: str) -> None:
    page.context.clear_cookies()
    login_as(page, email)


def test_a_programmed_dossier_becomes_a_cpo_signed_by_two_financers_by_clicking(page: Page) -> None:
    login_as(page, INSTRUCTEUR)
    page.goto("/instruction?etat=programme")
    ready = page.request.get("/api/v1/dossiers?state=programme").json()["items"][0]
    page.goto(f"/instruction/dossiers/{ready['id']}")
    page.get_by_role("link", name=re.compile("Proposer une convention pluriannuelle")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Proposer une convention pluriannuelle d'objectifs"
    )
    axe_check(page)
    codes = [c["financeur"] for c in ready["cofinancements"]]
    for code in codes[2:]:
        page.locator(f"#signe-{code}").uncheck()
    page.get_by_role("button", name="Proposer la CPO").click()
    expect(page.locator("#etat-cpo")).to_have_text("En projet (signatures attendues)")
    url = page.url
    for code in codes[:2]:
        _switch(page, AGENTS[code])
        page.goto(url)
        page.get_by_role("button", name="Signer la CPO").click()
        expect(page.get_by_role("status")).to_contain_text("CPO signée")
    expect(page.locator("#etat-cpo")).to_have_text("En cours")
    axe_check(page)


def test_the_admin_cpo_list_draws_the_gauge_against_half(page: Page) -> None:
    login_as(page, ADMIN)
    page.goto("/cpo")
    expect(page.locator("#jauge-cpo line.target")).to_have_count(1)
    expect(page.locator("#liste-cpo tbody tr")).to_have_count(1)
    axe_check(page)
    page.locator("#liste-cpo tbody tr a").first.click()
    expect(page.locator("#annees-cpo")).to_be_visible()
    axe_check(page)
