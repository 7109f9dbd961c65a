"""Accounts in Chromium: a forgotten password reset by the e-mailed link logs out the other browser;
an admin deactivates an account and its open session ends at once; a member invites a colleague who
chooses a password and sees the association's dossiers; axe-core on the account pages."""

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from tests.browser.conftest import axe_check, link_sent_to, login_as

PORTEUR = "porteur@demo.aap.test"
NEW_PASSWORD = "quatre girafes lisent le journal"


def other_browser(browser: Browser, live_server: str) -> Page:
    context = browser.new_context(base_url=live_server, locale="fr-FR")
    context.set_default_timeout(10_000)
    return context.new_page()


def test_a_forgotten_password_is_reset_by_the_link_and_the_other_sessions_end(
    page: Page, browser: Browser, live_server: str, db_engine: Engine
) -> None:
    elsewhere = other_browser(browser, live_server)
    login_as(elsewhere, PORTEUR)  # e.g. a shared computer left logged in

    page.goto("/connexion")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    axe_check(page)
    page.get_by_label("Adresse électronique").fill(PORTEUR)
    page.get_by_role("button", name="Recevoir un lien").click()
    expect(page.get_by_role("status")).to_contain_text("Si un compte actif existe avec cette adresse")

    page.goto(link_sent_to(db_engine, PORTEUR, "/reinitialiser"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir un nouveau mot de passe")
    page.get_by_label("Nouveau mot de passe").fill("azertyuiop12")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("alert")).to_contain_text("trop facile à deviner")
    axe_check(page)
    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("status").first).to_contain_text("Votre mot de passe est changé")

    elsewhere.goto("/mes-dossiers")
    expect(elsewhere.get_by_role("heading", level=1)).to_have_text("Se connecter")
    login_as(page, PORTEUR, NEW_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes dossiers")


def test_an_admin_deactivates_an_account_and_its_open_session_ends(
    page: Page, browser: Browser, live_server: str
) -> None:
    victim = other_browser(browser, live_server)
    login_as(victim, "porteur2@demo.aap.test")
    login_as(page, "admin@demo.aap.test")
    page.goto("/admin/utilisateurs")
    page.get_by_role("button", name="Désactiver porteur2@demo.aap.test").click()
    expect(page.get_by_role("status").first).to_contain_text("porteur2@demo.aap.test désactivé")
    expect(page.get_by_role("button", name="Réactiver porteur2@demo.aap.test")).to_be_visible()
    axe_check(page)

    victim.reload()
    expect(victim.get_by_role("heading", level=1)).to_have_text("Se connecter")
    victim.get_by_label("Adresse électronique").fill("porteur2@demo.aap.test")
    victim.get_by_label("Mot de passe").fill("demo")
    victim.get_by_role("button", name="Se connecter").click()
    expect(victim.get_by_role("alert")).to_contain_text("Adresse électronique ou mot de passe incorrect")


def test_a_member_invites_a_colleague_who_sees_the_dossiers(
    page: Page, browser: Browser, live_server: str, db_engine: Engine
) -> None:
    login_as(page, PORTEUR)
    page.get_by_role("link", name="Mon compte").click()
    expect(page.get_by_role("heading", name="Préférences de notification")).to_be_visible()
    axe_check(page)
    page.get_by_role("region", name="Vos organismes").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Membres de")
    axe_check(page)
    page.get_by_label("Adresse électronique du collègue").fill("tresoriere@asso.test")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_role("status").first).to_contain_text("Invitation envoyée à tresoriere@asso.test")
    expect(page.get_by_text("tresoriere@asso.test, envoyée le")).to_be_visible()

    colleague = other_browser(browser, live_server)
    colleague.goto(link_sent_to(db_engine, "tresoriere@asso.test", "/invitation"))
    expect(colleague.get_by_role("heading", level=1)).to_contain_text("Rejoindre")
    colleague.get_by_label("Vos nom et prénom").fill("Awa Trésorière")
    colleague.get_by_label("Choisissez votre mot de passe").fill(NEW_PASSWORD)
    colleague.get_by_role("button", name="Accepter l'invitation").click()
    expect(colleague.get_by_role("heading", level=1)).to_have_text("Mes dossiers")
    expect(colleague.get_by_role("row").nth(1)).to_be_visible()  # the association's dossiers

    page.reload()
    expect(page.get_by_role("row").filter(has_text="Awa Trésorière")).to_be_visible()
