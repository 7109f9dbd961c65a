"""Instructeurs, financers and the contract's team in Chromium: a deposited dossier instructed by
clicking, decided by every financer, conventionné; axe-core on the staff pages; the dashboard's charts."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.browser.conftest import axe_check, login_as
from tests.web.staff_helpers import (
    ADMIN,
    AGENTS,
    INSTRUCTEUR,
    deposit_demo_dossiers,
    dossier_row,
    instruct_to_avise,
)

pytestmark = pytest.mark.browser


def _act(page: Page, label: str, **fields: str) -> None:
    """Opens the action's small form (a disclosure button), fills it, confirms."""
    page.locator("summary", has_text=label).click()
    form = page.locator("details[open] form")
    if "avis" in fields:
        form.get_by_label("Avis du comité technique").select_option(label=fields["avis"])
    if "comment" in fields:
        form.locator("textarea").fill(fields["comment"])
    form.get_by_role("button", name=re.compile("^Confirmer")).click()


def _switch(page: Page, email: str) -> None:
    page.context.clear_cookies()
    login_as(page, email)


def test_a_dossier_goes_from_deposit_to_convention_by_clicking(page: Page, db_engine: Engine) -> None:
    [dossier_id] = deposit_demo_dossiers(db_engine, 1)
    dossier = dossier_row(db_engine, dossier_id)
    codes = [line.financeur.code for line in dossier.cofinancements]

    login_as(page, INSTRUCTEUR)
    assert page.url.endswith("/instruction")
    axe_check(page)
    page.get_by_role("link", name=re.compile(r"\d+\s+déposé")).click()  # with the demo's own
    page.get_by_role("link", name=dossier.title or "Sans intitulé").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(dossier.title or "")
    expect(page.locator(".lifecycle [aria-current='step']")).to_contain_text("Déposé")
    axe_check(page)

    _act(page, "Prendre en instruction")
    expect(page.get_by_role("status")).to_contain_text("En instruction")
    for line in dossier.cofinancements:
        field = page.get_by_label(f"Montant proposé à {line.financeur.name} (€)")
        field.fill(f"{line.montant_demande:.2f}".replace(".", ","))
        field.locator("xpath=ancestor::form").get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_role("status")).to_contain_text("Montant proposé enregistré")
    _act(page, "Terminer l'instruction")
    expect(page.get_by_role("status")).to_contain_text("Instruit")
    _act(
        page, "Rendre l'avis du comité technique", avis="Favorable", comment="Action utile au Quartier Ouest."
    )
    expect(page.get_by_role("status")).to_contain_text("Avis rendu")
    expect(page.locator(".lifecycle [aria-current='step']")).to_contain_text("Avis rendu")
    page.screenshot(path="/tmp/staff_instruction_dossier.png", full_page=True)

    for i, code in enumerate(codes):
        _switch(page, AGENTS[code])
        assert page.url.endswith("/financeur")
        if i == 0:
            axe_check(page)
            page.screenshot(path="/tmp/staff_financeur.png", full_page=True)
        page.get_by_role("link", name=dossier.title or "Sans intitulé").first.click()
        expect(page.get_by_role("radio", name="Accordé")).to_be_checked()
        page.get_by_role("button", name="Enregistrer la décision").click()
        expect(page.get_by_role("status")).to_contain_text("Décision enregistrée")
    expect(page.get_by_role("status")).to_contain_text("Programmé")

    _switch(page, INSTRUCTEUR)
    page.goto(f"/instruction/dossiers/{dossier_id}")
    expect(page.locator(".summary")).to_contain_text("Programmé")
    _act(page, "Conventionner")
    expect(page.get_by_role("status")).to_contain_text("Conventionné")
    assert dossier_row(db_engine, dossier_id).state == "conventionne"


def test_an_error_is_summarised_and_linked_to_its_field(page: Page, db_engine: Engine) -> None:
    [dossier_id] = deposit_demo_dossiers(db_engine, 1)
    login_as(page, INSTRUCTEUR)
    page.goto(f"/instruction/dossiers/{dossier_id}")
    _act(page, "Prendre en instruction")
    page.locator("summary", has_text="Demander des compléments").click()
    page.locator("details[open] form").get_by_role("button", name=re.compile("^Confirmer")).click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Un message est obligatoire")
    summary.get_by_role("link", name=re.compile("date limite de réponse est obligatoire")).click()
    expect(page.get_by_label(re.compile("Date limite de réponse"))).to_be_focused()
    axe_check(page)


@pytest.mark.parametrize(
    "path", ["/admin", "/admin/utilisateurs", "/admin/territoire", "/tableau-de-bord", "/instruction/comite"]
)
def test_the_team_pages_have_no_serious_accessibility_violation(page: Page, path: str) -> None:
    login_as(page, ADMIN)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe_check(page)


def test_the_dashboard_shows_its_charts(page: Page) -> None:
    login_as(page, ADMIN)
    assert page.url.endswith("/tableau-de-bord")
    charts = page.locator("svg.chart[role='img']")
    expect(charts).to_have_count(5)
    bars = page.locator("#graphique-financeurs rect.bar")
    assert bars.count() == 4
    widths = [float(bars.nth(i).get_attribute("width") or 0) for i in range(bars.count())]
    assert all(w > 0 for w in widths), widths
    expect(page.locator("#graphique-cpo line.target")).to_have_count(1)
    page.screenshot(path="/tmp/staff_dashboard.png", full_page=True)
    _switch(page, AGENTS["CAF"])
    page.goto("/tableau-de-bord")
    expect(page.locator("#graphique-financeurs rect.bar")).to_have_count(1)
    axe_check(page)


def test_the_staff_pages_fit_a_phone(browser, live_server: str, db_engine: Engine) -> None:  # type: ignore[no-untyped-def]
    """At 375 px wide nothing overflows the page (wide tables scroll in their own region), and axe agrees."""
    ids = deposit_demo_dossiers(db_engine, 2)
    instruct_to_avise(db_engine, ids[1:])
    context = browser.new_context(
        base_url=live_server, locale="fr-FR", viewport={"width": 375, "height": 800}
    )
    phone = context.new_page()
    try:
        login_as(phone, ADMIN)
        for path in (
            "/tableau-de-bord",
            "/instruction",
            f"/instruction/dossiers/{ids[1]}",
            "/instruction/comite",
            "/admin",
            "/admin/utilisateurs",
            "/admin/territoire",
        ):
            phone.goto(path)
            assert phone.evaluate("document.documentElement.scrollWidth") <= 375, path
            axe_check(phone)
        phone.context.clear_cookies()
        login_as(phone, AGENTS["ETAT"])
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
        axe_check(phone)
    finally:
        context.close()
