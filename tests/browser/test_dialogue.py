"""The dialogue in Chromium: the porteur writes to the team with a file, the instructeur reads the message
and opens the file from the dossier page."""

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_check, login_as
from tests.guichet.helpers import PDF


def test_the_porteur_sends_a_quote_with_a_message_and_the_instructeur_opens_it(
    page: Page,
    browser,
    live_server: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    quote = tmp_path / "devis-traiteur.pdf"
    quote.write_bytes(PDF)
    login_as(page, "porteur2@demo.aap.test")
    page.get_by_role("row").filter(has_text="Compléments demandés").get_by_role("link").first.click()
    dossier_url = page.url
    thread = page.locator("#echanges")
    thread.get_by_label("Votre message").fill("Voici le devis du traiteur, comme convenu.")
    thread.get_by_label("Joindre un fichier (facultatif)").set_input_files(str(quote))
    thread.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("status").first).to_contain_text("Message envoyé")
    link = page.locator("#echanges").get_by_role("link", name="devis-traiteur.pdf")
    expect(link).to_be_visible()
    axe_check(page)

    staff = browser.new_context(base_url=live_server, locale="fr-FR")
    other = staff.new_page()
    try:
        login_as(other, "instructeur@demo.aap.test")
        other.goto("/instruction/dossiers/" + dossier_url.rstrip("/").rsplit("/", 1)[-1])
        expect(other.locator("#echanges")).to_contain_text("Voici le devis du traiteur")
        href = other.locator("#echanges").get_by_role("link", name="devis-traiteur.pdf").get_attribute("href")
        assert href
        got = other.request.get(href)
        assert got.status == 200 and got.body() == PDF
    finally:
        staff.close()
