"""A shared instructeur of two contracts picks the contract in the header, in Chromium: the pages act in
it until another is chosen; the selector passes axe-core."""

from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from aap.territories.memberships import add_membership
from tests.browser.conftest import axe_check, login_as
from tests.territories.helpers import PASSWORD, load_metro, new_dossier

pytestmark = pytest.mark.browser


def test_a_shared_instructeur_switches_contract_from_the_header(
    page: Page, db_engine: Engine, demo: date
) -> None:
    metro = load_metro(db_engine, demo)
    new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@metro.test",
        qpv=["QN02602X"],
        orientation="2",
        financements={"ETAT": "2000.00"},
        title="Pracomtal : médiation",
        state="depose",
    )
    with Session(db_engine) as s:
        add_membership(s, email="instructeur@metro.test", territory="dlva", role="instructeur")
        s.commit()

    login_as(page, "instructeur@metro.test", PASSWORD)
    page.goto("/instruction")
    expect(page.get_by_text("Pracomtal : médiation")).to_be_visible()
    axe_check(page)
    page.get_by_label("Contrat de ville").select_option("dlva")
    with page.expect_navigation():
        page.get_by_role("button", name="Changer").click()
    expect(page.get_by_role("status")).to_contain_text("Contrat de ville DLVAgglo")
    expect(page.get_by_text("Pracomtal : médiation")).to_have_count(0)
    expect(page.get_by_label("Contrat de ville")).to_have_value("dlva")
    page.goto("/instruction")  # remembered for the session
    expect(page.get_by_label("Contrat de ville")).to_have_value("dlva")
    expect(page.get_by_text("Pracomtal : médiation")).to_have_count(0)
