"""A group of inhabitants without SIRET in Chromium: Leïla registers « Les Voisins des Tilleuls » as its
referent (her name and phone), confirms her address, is told in French why the annual call is not for
the group, and files the group's request to the Fonds de participation des habitants."""

import re
from datetime import date

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.browser.conftest import axe_check, link_sent_to
from tests.guichet.test_fph import _load_example_open_today

EMAIL = "leila@tilleuls.test"
PASSWORD = "Tilleuls en fleurs 2026 !"


def test_an_inhabitants_group_registers_without_siret_and_files_an_fph_request(
    page: Page, db_engine: Engine
) -> None:
    _load_example_open_today(db_engine)
    year = date.today().year

    page.goto("/inscription")
    expect(page.locator("#f-phone-help")).to_contain_text("Obligatoire pour un groupe d'habitants")
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Un groupe d'habitants sans SIRET").check()
    page.get_by_label("Nom de l'organisme ou du groupe").fill("Les Voisins des Tilleuls")
    page.get_by_label("Commune").fill("Manosque")
    page.get_by_role("button", name="Créer le compte").click()
    summary = page.locator(".error-summary")  # the referent is named and reachable
    expect(summary).to_contain_text("nom")
    expect(summary).to_contain_text("téléphone")
    expect(summary).not_to_contain_text("SIRET")
    expect(page.get_by_label("Un groupe d'habitants sans SIRET")).to_be_checked()
    expect(page.get_by_label("Nom de l'organisme ou du groupe")).to_have_value("Les Voisins des Tilleuls")
    axe_check(page)

    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label(re.compile("^Vos nom et prénom")).fill("Leïla Haddad")
    page.get_by_label(re.compile("^Téléphone")).fill("06 11 22 33 44")
    page.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre messagerie")
    page.goto(link_sent_to(db_engine, EMAIL, "/verification"))
    page.get_by_role("button", name="Confirmer mon adresse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes dossiers")
    expect(page.get_by_role("status").first).to_contain_text(
        "le compte de « Les Voisins des Tilleuls » est créé"
    )

    # The annual call says why the group cannot file there; the FPH offers to start a request.
    annual = page.locator("article.campaign", has_text="Appel à projets")
    expect(annual.first).to_contain_text("groupe d'habitants")
    expect(annual.first.get_by_role("button", name="Commencer un nouveau dossier")).to_have_count(0)
    fph = page.locator("article.campaign", has_text="Fonds de participation des habitants")
    axe_check(page)
    fph.get_by_role("button", name="Commencer un nouveau dossier").click()

    # Le groupe d'habitants: its name and the referent's phone come prefilled.
    expect(page.get_by_label("Nom du groupe")).to_have_value("Les Voisins des Tilleuls")
    expect(page.get_by_label("Téléphone")).to_have_value("06 11 22 33 44")
    page.get_by_label("Quartier des habitants").select_option(index=1)
    page.get_by_label("Nombre d'habitants porteurs du projet").fill("6")
    page.locator("#f-collectif-referent-nom").fill("Haddad")
    page.locator("#f-collectif-referent-prenom").fill("Leïla")
    axe_check(page)
    page.get_by_role("button", name=re.compile("Enregistrer et continuer")).click()

    # Le projet
    page.get_by_label("Nom du projet").fill("Repas partagé de la rue des Tilleuls")
    page.get_by_label("En quelques lignes").fill(
        "Un repas de quartier préparé par les habitants, avec une exposition de photos des enfants."
    )
    page.get_by_label("Date prévue").fill(f"{year}-12-20")
    page.get_by_label("Lieu").fill("Square des Tilleuls")
    page.get_by_label("Nombre de participants attendus").fill("80")
    page.get_by_role("button", name=re.compile("Enregistrer et continuer")).click()

    # La demande
    page.get_by_label("Financeur du fonds").select_option(value="MANOSQUE")
    page.get_by_label("Montant demandé").fill("600")
    page.locator("[name='demande.depenses.0.libelle']").fill("Courses et matériel")
    page.locator("[name='demande.depenses.0.montant']").fill("700")
    page.get_by_label(re.compile("Autres ressources")).fill("100")
    page.get_by_role("button", name=re.compile("Enregistrer et continuer")).click()

    # Engagement, then the deposit and its acknowledgement
    page.get_by_label("Nom et prénom du référent").fill("Leïla Haddad")
    page.get_by_label(re.compile("Nous certifions")).check()
    page.get_by_role("button", name="Enregistrer et aller au dépôt").click()
    expect(page.locator("#depot")).to_contain_text("Toutes les réponses obligatoires sont remplies")
    page.get_by_role("button", name="Déposer le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accusé de réception de votre dossier")
    expect(page.locator("#numero")).to_have_text(re.compile(r"^\d{4}-\d{5}$"))
    page.get_by_role("link", name="Suivre le dossier").click()
    expect(page.locator(".badge").first).to_have_text("Déposé")
    expect(page.get_by_text("Repas partagé de la rue des Tilleuls").first).to_be_visible()
