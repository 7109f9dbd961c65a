"""A porteur fills last year's bilan in the browser, section by section, is refused while it is
incomplete, and files it."""

from decimal import Decimal

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_check, login_as


def _save_and_next(page: Page) -> None:
    page.get_by_role("button", name="Enregistrer et continuer").click()


def test_a_porteur_fills_and_files_the_bilan_of_a_funded_action(page: Page) -> None:
    login_as(page, "porteur2@demo.aap.test")
    page.goto("/mes-dossiers")  # last year's funded action: its bilan is due
    page.get_by_role("row").filter(has_text="Médiation numérique").filter(
        has_text="Conventionné"
    ).get_by_role("link").first.click()
    page.get_by_role("link", name="Remplir le bilan").click()
    expect(page.get_by_role("heading", name="Sections du bilan")).to_be_visible()
    axe_check(page)

    # refused while incomplete: every missing answer listed, each a link to its field
    page.get_by_role("button", name="Déposer le bilan").click()
    expect(page.locator("#refus")).to_contain_text("Ce qui a été réalisé : champ obligatoire")
    page.locator("#refus").get_by_role("link", name="Ce qui a été réalisé : champ obligatoire").click()

    page.get_by_label("Ce qui a été réalisé").fill("Vingt ateliers de démarches en ligne, d'octobre à juin.")
    page.get_by_label("Les objectifs de l'action ont-ils été atteints ?").select_option("oui")
    _save_and_next(page)
    expect(page.get_by_role("status").first).to_contain_text("Bilan enregistré")

    # the money: réalisé as planned, the gap (own funds, nothing planned) explained
    spent = Decimal(0)
    for i in range(3):
        planned = page.locator(f"#f-budget-charges-{i}-prevu").input_value()
        page.locator(f"#f-budget-charges-{i}-realise").fill(planned)
        spent += Decimal(planned)
    received = Decimal(0)
    for i in range(3):
        granted = page.locator(f"#f-budget-financements-{i}-prevu").input_value()
        page.locator(f"#f-budget-financements-{i}-realise").fill(granted)
        received += Decimal(granted)
    page.locator("#f-budget-produits-0-compte").fill("75")
    page.locator("#f-budget-produits-0-libelle").fill("Fonds propres")
    page.locator("#f-budget-produits-0-prevu").fill("0")
    page.locator("#f-budget-produits-0-realise").fill(str(spent - received))
    page.locator("#f-budget-produits-0-explication").fill(
        "Part non subventionnée couverte par l'association."
    )
    _save_and_next(page)

    page.get_by_label("Nombre total de bénéficiaires").fill("20")
    page.get_by_label("Femmes").fill("12")
    page.get_by_label("Hommes").fill("8")
    for band, count in (("0_5", 0), ("6_11", 0), ("12_17", 0), ("18_25", 4), ("26_64", 12), ("65_plus", 4)):
        page.locator(f"#f-beneficiaires-age-age_{band}").fill(str(count))
    page.locator("#f-beneficiaires-par_qpv-0-qpv").select_option(index=1)
    page.locator("#f-beneficiaires-par_qpv-0-nombre").fill("15")
    page.get_by_label("Bénéficiaires habitant hors quartier prioritaire").fill("5")
    _save_and_next(page)

    page.get_by_label("Valeur atteinte").first.fill("14 personnes sur 20 font seules leurs démarches")
    _save_and_next(page)
    partners = page.get_by_label("Partenaires mobilisés et leur rôle")
    if not partners.input_value():
        partners.fill("CAF, France Travail, médiathèque.")
    _save_and_next(page)
    page.get_by_label("Appréciation qualitative de l'action").fill("Les participants ont gagné en autonomie.")
    page.get_by_label("Difficultés rencontrées").fill("Des tablettes en panne au printemps.")
    page.get_by_label("Ce qui continue").fill("La médiathèque reprend les ateliers du samedi.")
    _save_and_next(page)

    page.locator("#file-etats_financiers").set_input_files(
        files=[{"name": "etats-financiers.pdf", "mimeType": "application/pdf", "buffer": _pdf()}]
    )
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("status").first).to_contain_text("joint au bilan")
    page.get_by_role("link", name="Attestation →").click()
    page.get_by_label("J'atteste l'exactitude du compte rendu financier et du bilan de l'action").check()
    page.get_by_role("button", name="Enregistrer et aller au dépôt").click()

    expect(page.locator("#depot-bilan")).to_contain_text("Le bilan est complet")
    page.get_by_role("button", name="Déposer le bilan").click()
    expect(page.get_by_role("status").first).to_contain_text("Votre bilan est déposé")
    expect(page.locator(".badge").nth(1)).to_have_text("Bilan : Déposé")
    axe_check(page)


def _pdf() -> bytes:
    from aap.demo.pieces import piece_pdf

    return piece_pdf("États financiers", "Les Passerelles du Luberon", 2026)
