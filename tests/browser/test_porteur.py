"""An association in Chromium: logs in, fills its dossier (autosave survives a reload), sees the checklist
shrink, deposits, receives the acknowledgement; every role lands on a page about its work; axe-core."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.browser.conftest import axe_check, link_sent_to, login_as

PORTEUR = "porteur@demo.aap.test"

LANDINGS = [
    (PORTEUR, "/mes-dossiers", "Mes dossiers"),
    ("instructeur@demo.aap.test", "/instruction", None),
    ("etat@demo.aap.test", "/financeur", None),
    ("admin@demo.aap.test", "/tableau-de-bord", None),
]


@pytest.mark.parametrize(("email", "path", "heading"), LANDINGS, ids=[e.split("@")[0] for e, *_ in LANDINGS])
def test_each_role_logs_in_through_the_login_page_and_lands_on_its_work(
    page: Page, email: str, path: str, heading: str | None
) -> None:
    login_as(page, email)
    assert page.url.endswith(path)
    h1 = page.get_by_role("heading", level=1)
    expect(h1).to_be_visible()
    expect(h1).not_to_have_text(re.compile("introuvable|refusé", re.I))
    if heading:
        expect(h1).to_have_text(heading)
    expect(page.get_by_role("navigation", name="Navigation principale")).to_be_visible()


def test_a_wrong_password_says_so_in_french_and_keeps_the_email(page: Page) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(PORTEUR)
    page.get_by_label("Mot de passe").fill("pas le bon")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Adresse électronique ou mot de passe incorrect")
    expect(page.get_by_label("Adresse électronique")).to_have_value(PORTEUR)


def _open_dossier(page: Page, title: str) -> None:
    page.goto("/mes-dossiers")
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_typing_in_the_form_survives_a_reload(page: Page) -> None:
    login_as(page, PORTEUR)
    page.get_by_role("button", name="Commencer un nouveau dossier").click()
    expect(page.get_by_text("Ce dossier n'est pas déposé.")).to_be_visible()
    page.get_by_role("link", name="Description de l'action").first.click()

    # Saved by the autosave, a moment after typing.
    page.get_by_label("Intitulé de l'action").fill("Ateliers couture du Quartier Est")
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré à", timeout=8000)
    page.reload()
    expect(page.get_by_label("Intitulé de l'action")).to_have_value("Ateliers couture du Quartier Est")

    # Reloaded before the autosave ran: the copy kept by the browser comes back, then is saved.
    page.get_by_label("Lieux de réalisation").fill("Salle polyvalente des Aliziers")
    page.reload()
    expect(page.get_by_label("Lieux de réalisation")).to_have_value("Salle polyvalente des Aliziers")
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré à", timeout=8000)
    page.evaluate("localStorage.clear()")
    page.reload()
    expect(page.get_by_label("Lieux de réalisation")).to_have_value("Salle polyvalente des Aliziers")


def test_a_stale_version_keeps_what_the_person_typed(page: Page) -> None:
    login_as(page, PORTEUR)
    _open_dossier(page, "Jardin partagé du Quartier Est")
    page.get_by_role("link", name="Attestation").first.click()
    page.evaluate("document.querySelector('[data-version]').value = '0'")  # as if opened long ago
    page.evaluate("document.querySelector('form[data-autosave]').removeAttribute('data-autosave')")
    page.get_by_label("Nom et prénom du signataire").fill("Samira Benali")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("alert").first).to_contain_text("modifié ailleurs")
    expect(page.get_by_label("Nom et prénom du signataire")).to_have_value("Samira Benali")
    page.get_by_role(
        "button", name="Enregistrer le brouillon"
    ).click()  # the page now carries the new version
    expect(page.get_by_role("status").first).to_contain_text("Brouillon enregistré")
    expect(page.get_by_label("Nom et prénom du signataire")).to_have_value("Samira Benali")


def test_a_porteur_fills_sections_sees_the_checklist_shrink_deposits_and_gets_the_acknowledgement(
    page: Page,
) -> None:
    login_as(page, PORTEUR)
    axe_check(page)  # mes-dossiers
    _open_dossier(page, "Jardin partagé du Quartier Est")
    deposit_box = page.locator("#depot")
    attestation = deposit_box.locator("[data-missing-for='attestation']")
    expect(attestation).to_have_text("4 réponses manquantes")

    # Déposer too early: refused, every reason listed, each linking to its field.
    page.get_by_role("button", name="Déposer le dossier").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("points à régler")
    expect(summary.get_by_role("link", name=re.compile("Date de fin"))).to_have_attribute(
        "href", re.compile(r"/section/action#f-action-date_fin$")
    )

    # The attestation section, then its checklist line says « complet ».
    page.get_by_role("link", name="Attestation").first.click()
    axe_check(page)  # a section of the form
    page.get_by_label("Nom et prénom du signataire").fill("Samira Benali")
    page.get_by_label("Qualité du signataire").fill("Présidente")
    page.get_by_label(re.compile("Je certifie sur l'honneur")).check()
    page.get_by_label("Date de signature").fill("2026-01-10")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.locator("[data-missing-for='attestation']")).to_have_text("complet")

    # The description of the action.
    page.get_by_role("link", name="Description de l'action").first.click()
    start = page.get_by_label("Date de début").input_value()
    public = {
        "femmes": 14,
        "hommes": 10,
        "age_0_5": 0,
        "age_6_11": 6,
        "age_12_17": 4,
        "age_18_25": 2,
        "age_26_64": 9,
        "age_65_plus": 3,
        "habitants_qpv": 20,
    }
    for key, value in public.items():
        page.locator(f"#f-action-public-{key}").fill(str(value))
    page.get_by_label("Date de fin").fill(f"{start[:4]}-12-15")
    page.get_by_label("Lieux de réalisation").fill("Jardin du Quartier Est, rue des Lilas")
    page.get_by_label("Lien vers le droit commun").fill(
        "Orientation vers le centre social et les services municipaux."
    )
    page.get_by_label("Indicateur de droit commun").fill("Nombre de familles inscrites au centre social")
    page.get_by_label("Date de l'échange").fill(f"{start[:4]}-01-05")
    page.get_by_label("Interlocuteur").fill("Claire Martin, cheffe de projet politique de la ville")
    page.get_by_role("button", name=re.compile("Enregistrer et continuer")).click()
    expect(page.locator("[data-missing-for='action']")).to_have_text("complet")

    # Every section complete: deposit, and the acknowledgement with its date and number.
    page.goto(page.url.split("/section/")[0])
    expect(page.locator("#depot")).to_contain_text("Toutes les réponses obligatoires sont remplies")
    page.get_by_role("button", name="Déposer le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accusé de réception de votre dossier")
    expect(page.locator("#numero")).to_have_text(re.compile(r"^\d{4}-\d{5}$"))
    expect(page.locator("#depose-le")).to_have_text(re.compile(r"\d{4} à \d{1,2} h \d{2}$"))
    axe_check(page)  # acknowledgement

    page.get_by_role("link", name="Suivre le dossier").click()
    expect(page.locator(".badge").first).to_have_text("Déposé")
    expect(page.locator(".road")).to_contain_text("Décision des financeurs")
    expect(page.locator(".lifecycle [aria-current='step']")).to_contain_text("Déposé")
    axe_check(page)  # dossier follow-up


def test_the_login_and_registration_pages_have_no_serious_accessibility_violation(page: Page) -> None:
    page.goto("/connexion")
    axe_check(page)
    page.goto("/inscription")
    axe_check(page)


def test_an_association_creates_its_account_and_organisation(page: Page, db_engine: Engine) -> None:
    registry = {
        "siret": "73282932000074",
        "name": "LES JARDINS DE MANOSQUE",
        "address_line": "2 rue des Lilas",
        "postal_code": "04100",
        "city": "Manosque",
    }
    page.route("**/inscription/siret/73282932000074", lambda route: route.fulfill(json=registry))
    page.goto("/inscription")
    page.get_by_label("Adresse électronique").fill("contact@nouvelle-asso.test")
    page.get_by_label("Mot de passe").fill("court")
    page.get_by_label("Numéro SIRET").fill("12345678901234")
    page.get_by_label("Nom de l'organisme").fill("Les Jardins de Manosque")
    page.get_by_role("button", name="Créer le compte").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("au moins 10 caractères")
    expect(summary).to_contain_text("SIRET n'est pas valide")
    expect(page.get_by_label("Nom de l'organisme")).to_have_value("Les Jardins de Manosque")

    page.get_by_label("Mot de passe").fill("un mot de passe solide")
    page.get_by_label("Nom de l'organisme").fill("")
    page.get_by_label("Numéro SIRET").fill("73282932000074")
    page.get_by_label("Numéro SIRET").blur()
    expect(page.get_by_label("Nom de l'organisme")).to_have_value(
        "LES JARDINS DE MANOSQUE"
    )  # registry prefill
    expect(page.get_by_label("Commune")).to_have_value("Manosque")
    page.get_by_label("Nom de l'organisme").fill("Les Jardins de Manosque")
    page.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre messagerie")
    page.goto(link_sent_to(db_engine, "contact@nouvelle-asso.test", "/verification"))
    page.get_by_role("button", name="Confirmer mon adresse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes dossiers")
    expect(page.get_by_role("status").first).to_contain_text(
        "le compte de « Les Jardins de Manosque » est créé"
    )
    expect(page.get_by_text("Les Jardins de Manosque").first).to_be_visible()
    expect(page.get_by_role("button", name="Commencer un nouveau dossier")).to_be_visible()


def test_web_errors_are_french_pages(page: Page) -> None:
    login_as(page, PORTEUR)
    response = page.goto("/dossiers/999999")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    page.goto("/deconnexion-inexistante")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")


def test_a_funded_action_of_last_year_is_reconducted_with_its_answers(page: Page) -> None:
    login_as(page, PORTEUR)
    row = page.get_by_role("row").filter(has_text="Paroles d'ados")  # last year's, not renewed yet
    row.get_by_role("button", name="Reconduire").click()
    expect(page.get_by_role("status").first).to_contain_text("reprend les réponses de l'an passé")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Paroles d'ados : groupes de parole et compétences psychosociales"
    )
    expect(page.locator(".badge").first).to_have_text("Brouillon")
    page.goto("/mes-dossiers")
    expect(
        page.get_by_role("row").filter(has_text="Paroles d'ados").get_by_role("button", name="Reconduire")
    ).to_have_count(0)


def test_a_piece_is_uploaded_from_the_pieces_section_and_kept_for_the_organisation(page: Page) -> None:
    login_as(page, PORTEUR)
    _open_dossier(page, "Jardin partagé du Quartier Est")
    page.get_by_role("link", name="Pièces justificatives").first.click()
    page.get_by_label(re.compile("le fichier « Relevé d'identité bancaire »")).set_input_files(
        {"name": "rib-2027.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
    )
    page.locator("#piece-rib ~ form").get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("status").first).to_contain_text("Pièce « rib-2027.pdf » enregistrée")
    expect(page.get_by_role("link", name="rib-2027.pdf")).to_be_visible()
    axe_check(page)


def test_a_porteur_answers_a_request_for_complements(page: Page) -> None:
    login_as(page, "porteur2@demo.aap.test")
    # this year's dossier, on which the demo's instructeur asked compléments
    page.get_by_role("row").filter(has_text="Compléments demandés").get_by_role("link").first.click()
    expect(page.locator("#complements")).to_contain_text("nombre d'habitants des QPV")
    axe_check(page)
    page.locator("#complements textarea").fill(
        "Devis joint ; 60 % des participants habitent le Quartier Ouest."
    )
    page.get_by_role("button", name="Transmettre les compléments").click()
    expect(page.get_by_role("status").first).to_contain_text("Vos compléments sont transmis")
    expect(page.locator(".badge").first).to_have_text("En instruction")

    # filing the bilan of last year's action: tests/browser/test_bilan.py


def test_the_sticky_save_bar_never_hides_the_field_that_takes_the_focus(page: Page) -> None:
    """WCAG 2.4.11: tabbing down the form, each field lands above the save bar, not under it."""
    login_as(page, PORTEUR)
    _open_dossier(page, "Jardin partagé du Quartier Est")
    page.get_by_role("link", name="Description de l'action").first.click()
    bar = page.locator(".save-bar")
    fields = page.locator("#section-form").locator("input:visible, textarea:visible, select:visible")
    count = fields.count()
    assert count >= 3
    last = fields.nth(count - 1).get_attribute("name")
    page.evaluate("window.scrollTo(0, 0)")
    fields.nth(0).focus()
    focused, seen = "", 0
    while focused != last and seen < 3 * count:  # radios take one Tab per group
        page.keyboard.press("Tab")
        seen += 1
        focused = page.evaluate("document.activeElement.name")
        box = page.evaluate("document.activeElement.getBoundingClientRect().toJSON()")
        bar_top = bar.bounding_box()["y"]  # type: ignore[index]
        assert box["bottom"] <= bar_top + 0.5, (focused, box, bar_top)
    assert focused == last  # the last field above the bar was reached, and seen whole


def _norm(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def test_the_budget_adds_a_line_and_its_totals_follow_the_typing_as_the_server_adds_them(page: Page) -> None:
    """« Ajouter une ligne » under the charges; the totals change as the person types, and after saving
    the server's totals are the same figures."""
    login_as(page, PORTEUR)
    _open_dossier(page, "Jardin partagé du Quartier Est")
    page.get_by_role("link", name="Budget prévisionnel de l'action").first.click()
    box = page.locator('[data-totals="budget_unbalanced"]')
    left, right = box.locator('[data-side="left"]'), box.locator('[data-side="right"]')
    server_left = _norm(left.inner_text())
    rows = page.locator("#f-budget-charges > fieldset.row")
    before = rows.count()

    page.get_by_role("button", name="Ajouter une ligne : Charges").click()
    expect(rows).to_have_count(before + 1)
    new = before  # index of the new line
    expect(page.locator(f"#f-budget-charges-{new}-compte")).to_be_focused()
    page.get_by_label("Compte").nth(new).select_option("60")
    page.locator(f"#f-budget-charges-{new}-libelle").fill("Graines et terreau")
    page.locator(f"#f-budget-charges-{new}-montant").fill("1 234,50")
    expect(left).not_to_have_text(server_left)
    typed_left, typed_right = _norm(left.inner_text()), _norm(right.inner_text())
    verdict = _norm(box.locator("[data-verdict]").inner_text())
    assert "Écart de" in verdict or verdict == "Budget équilibré."
    page.locator(f"#f-budget-charges-{new}-montant").fill("1 234,5x")
    expect(box.locator("[data-verdict]")).to_contain_text("pas lisible")
    page.locator(f"#f-budget-charges-{new}-montant").fill("1 234,50")

    page.get_by_role("button", name=re.compile("^Enregistrer")).first.click()
    expect(page.locator(f"#f-budget-charges-{new}-libelle")).to_have_value("Graines et terreau")
    # the page as the server sends it (before any script runs): its totals are the ones the browser showed
    served = page.request.get(page.url).text()
    sides = dict(re.findall(r'<output data-side="(left|right)">([^<]*)</output>', served)[:2])
    assert (_norm(sides["left"]), _norm(sides["right"])) == (typed_left, typed_right)
    page.evaluate("localStorage.clear()")
    axe_check(page)


def test_the_lifecycle_is_a_drawing_with_its_words_not_mermaid_source(page: Page) -> None:
    login_as(page, PORTEUR)
    _open_dossier(page, "Jardin partagé du Quartier Est")
    drawing = page.get_by_role(
        "img", name=re.compile("Les étapes d'un dossier ; l'état actuel : « Brouillon »")
    )
    expect(drawing).to_be_visible()
    box = drawing.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 300  # drawn, not a line of text
    expect(drawing.locator(".lc-state.current")).to_have_attribute("data-state", "brouillon")
    assert "stateDiagram" not in page.locator("body").inner_text()
    axe_check(page)
    login_as(page, "instructeur@demo.aap.test")
    page.goto("/instruction")
    page.locator("a[href^='/instruction/dossiers/']").first.click()
    expect(
        page.get_by_role("img", name=re.compile("Les étapes d'un dossier ; l'état actuel : «"))
    ).to_be_visible()
    assert "stateDiagram" not in page.locator("body").inner_text()


def test_a_line_added_and_not_yet_saved_comes_back_after_a_reload(page: Page) -> None:
    """Offline, the porteur adds a line to the charges and types it; the page is reloaded: the line and
    what was typed are back, then saved."""
    login_as(page, PORTEUR)
    _open_dossier(page, "Jardin partagé du Quartier Est")
    page.get_by_role("link", name="Budget prévisionnel de l'action").first.click()
    rows = page.locator("#f-budget-charges > fieldset.row")
    before = rows.count()

    def offline(route):  # type: ignore[no-untyped-def]
        if route.request.method == "POST":
            route.abort()
        else:
            route.continue_()

    page.route("**/section/budget", offline)
    page.get_by_role("button", name="Ajouter une ligne : Charges").click()
    page.locator(f"#f-budget-charges-{before}-libelle").fill("Location de la salle")
    expect(page.locator("#autosave-status")).to_contain_text("Pas de connexion", timeout=8000)
    page.unroute("**/section/budget")
    page.reload()
    expect(rows).to_have_count(before + 1)
    expect(page.locator(f"#f-budget-charges-{before}-libelle")).to_have_value("Location de la salle")
    expect(page.locator("#autosave-status")).not_to_contain_text("Pas de connexion", timeout=8000)
    page.evaluate("localStorage.clear()")
