"""« Mon compte »: name, e-mail, notification preferences (where the reminders' footer points), the
organisations and the contract team's contacts."""

import re
from datetime import date
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from notifications import preferences
from notifications.render import context, dossier_facts, render
from notifications.rules import default_rules
from tests.accounts.conftest import BASE, PASSWORD, csrf_of, organisation, porteur, web_login


def test_the_porteur_sees_name_email_preferences_organisations_and_contacts(
    client: TestClient, demo: date
) -> None:
    web_login(client, "porteur@demo.aap.test", "demo")
    page = client.get("/mon-compte")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "porteur@demo.aap.test" in text
    assert 'id="preferences"' in page.text
    assert "Brouillon non déposé avant la clôture du dépôt" in text
    assert re.search(r'<a href="/mon-compte/organismes/\d+">', page.text)
    assert "instructeur@demo.aap.test" in text  # the instructeur of the territory, as a contact
    assert "Vos interlocuteurs au contrat de ville" in text


def test_a_reminder_footer_links_to_the_preferences_and_the_link_resolves(
    client: TestClient, session: Session
) -> None:
    rule = default_rules().get("brouillon_avant_cloture")
    assert rule is not None and rule.optional
    facts = dossier_facts(
        dossier_id=1,
        number="2027-001",
        title="Jardin",
        state="brouillon",
        organisation="Asso",
        campaign_title="AAP",
    )
    rendered = render(
        rule,
        context(facts, base_url=BASE, today=date(2027, 1, 20), deadline=date(2027, 1, 31), optional=True),
    )
    link = f"{BASE}/mon-compte#preferences"
    assert link in rendered.text and f'href="{link}"' in rendered.html
    porteur(session, "camille@jardins.test", organisation(session))
    web_login(client, "camille@jardins.test", PASSWORD)
    assert client.get(link.removeprefix(BASE).split("#")[0]).status_code == 200


def test_preferences_are_saved_from_the_page_and_mandatory_messages_stay_on(
    client: TestClient, session: Session
) -> None:
    user = porteur(session, "camille@jardins.test", organisation(session))
    web_login(client, "camille@jardins.test", PASSWORD)
    items = preferences.list_for(session, user)
    session.rollback()  # let go of SQLite's lock before the page writes
    optional = [p["rule"] for p in items if p["optional"]]
    kept = optional[1:]  # untick the first optional reminder only
    data = {"csrf": csrf_of(client, "/mon-compte"), "on": [*kept, "accuse_depot"]}
    saved = client.post("/mon-compte/preferences", data=data)
    assert saved.status_code == 200 and "préférences de notification sont enregistrées" in unescape(
        saved.text
    )
    after = {p["rule"]: p["enabled"] for p in preferences.list_for(session, user)}
    session.rollback()
    assert after[optional[0]] is False
    assert all(after[r] for r in kept)
    assert all(after[p["rule"]] for p in items if not p["optional"])
    assert f'id="pref-{optional[0]}" name="on" value="{optional[0]}">' in saved.text  # shown unticked


def test_the_name_is_changed_and_an_empty_name_refused(client: TestClient, session: Session) -> None:
    porteur(session, "camille@jardins.test", organisation(session))
    web_login(client, "camille@jardins.test", PASSWORD)
    done = client.post(
        "/mon-compte/nom", data={"csrf": csrf_of(client, "/mon-compte"), "full_name": "Camille Martin"}
    )
    assert "Camille Martin" in done.text and "Votre nom est enregistré" in unescape(done.text)
    refused = client.post("/mon-compte/nom", data={"csrf": csrf_of(client, "/mon-compte"), "full_name": "  "})
    assert refused.status_code == 422 and "Indiquez vos nom et prénom" in unescape(refused.text)


def test_the_account_page_needs_a_login(client: TestClient) -> None:
    response = client.get("/mon-compte", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/connexion")


def test_a_porteur_without_organisation_is_told_its_request_is_pending(
    client: TestClient, session: Session
) -> None:
    porteur(session, "seul@asso.test")
    web_login(client, "seul@asso.test", PASSWORD)
    page = unescape(client.get("/mon-compte").text)
    assert "Vous n'êtes encore membre d'aucun organisme" in page
    assert client.get("/mes-dossiers").status_code == 200
