"""The public directory of funded actions in Chromium, without logging in: filtered by quartier,
read as a table, accessible (axe-core), printable without its filters."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_check

pytestmark = pytest.mark.browser


def test_a_visitor_finds_the_funded_actions_of_a_quartier_and_can_print_them(page: Page) -> None:
    page.goto("/actions?territory=dlva")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Actions financées par le contrat de ville")
    table = page.get_by_role("table", name="Actions financées")
    expect(table.get_by_role("columnheader", name="Total accordé")).to_be_visible()
    expect(table.get_by_role("rowheader", name="Permanences d'accès aux droits", exact=False)).to_be_visible()
    axe_check(page)

    page.get_by_label("Quartier").select_option(label="Quartier Est")
    page.get_by_role("button", name="Afficher").click()
    expect(page).to_have_url(re.compile(r"quartier=QN00402M"))
    rows = page.get_by_role("table", name="Actions financées").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(page.get_by_text("Permanences d'accès aux droits")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("3 actions")
    axe_check(page)

    page.emulate_media(media="print")
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.get_by_role("table", name="Actions financées")).to_be_visible()

    page.emulate_media(media="screen")
    page.get_by_role("link", name="Par quartier").click()
    expect(page.get_by_role("heading", level=2, name="Quartier Est")).to_be_visible()
    axe_check(page)

    page.get_by_role("navigation", name="Transparence").get_by_role("link", name="Appels à projets").click()
    expect(page.get_by_role("link", name="flux Atom des appels à projets")).to_be_visible()
    page.locator("ul.calls a").first.click()
    expect(page.get_by_role("heading", level=2, name="Comment déposer un dossier")).to_be_visible()
    axe_check(page)
