"""The dialogue around a dossier: the porteur and the team write to each other (and are e-mailed),
staff leave notes the porteur never reads, and every box says who will read it."""

import html
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from aap.settings import Settings
from notifications.delivery import deliver
from tests.api.helpers import AGENTS, Actor, complete_draft
from tests.notifications.conftest import SmtpServer, smtp  # noqa: F401  (the real SMTP server fixture)
from tests.web.staff_helpers import INSTRUCTEUR, csrf_of, web_login


def _messages(actor: Actor, dossier_id: int) -> list[dict]:  # type: ignore[type-arg]
    response = actor.get(f"/api/v1/dossiers/{dossier_id}/messages")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_porteur_message_reaches_the_instructeur_by_email_and_on_the_dossier(
    client: TestClient,
    demo: date,
    db_engine: Engine,
    settings: Settings,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    sent = porteur.post(
        f"/api/v1/dossiers/{dossier['id']}/messages",
        json={"texte": "Le devis du traiteur arrive lundi, pouvons-nous l'ajouter ensuite ?"},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["audience"] == "echange"

    instructeur = Actor(client, INSTRUCTEUR)
    assert [m["texte"] for m in _messages(instructeur, dossier["id"])] == [
        "Le devis du traiteur arrive lundi, pouvons-nous l'ajouter ensuite ?"
    ]
    from sqlalchemy.orm import sessionmaker

    report = deliver(
        sessionmaker(bind=db_engine), settings.model_copy(update={"smtp_url": smtp.url}), datetime.now(UTC)
    )
    assert report.sent >= 1
    mails = smtp.inbox.by_rule("message_du_porteur")
    assert INSTRUCTEUR in [m["To"] for m in mails]
    assert "Le devis du traiteur arrive lundi" in smtp.inbox.text(mails[0])
    assert dossier["number"] in mails[0]["Subject"]


def test_the_porteur_of_another_association_reads_nothing(client: TestClient, demo: date) -> None:
    dossier = complete_draft(Actor(client, "porteur@demo.aap.test"))
    other = Actor(client, "porteur2@demo.aap.test")
    assert other.get(f"/api/v1/dossiers/{dossier['id']}/messages").status_code == 404
    refused = other.post(f"/api/v1/dossiers/{dossier['id']}/messages", json={"texte": "Bonjour"})
    assert refused.status_code == 404


def test_a_staff_note_is_never_shown_to_the_porteur(client: TestClient, demo: date) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    instructeur = Actor(client, INSTRUCTEUR)
    note = instructeur.post(
        f"/api/v1/dossiers/{dossier['id']}/messages",
        json={"texte": "Association fragile, à suivre au comité.", "audience": "interne"},
    )
    assert note.status_code == 201, note.text
    answer = instructeur.post(
        f"/api/v1/dossiers/{dossier['id']}/messages", json={"texte": "Merci, bien reçu."}
    )
    assert answer.status_code == 201

    assert [m["texte"] for m in _messages(porteur, dossier["id"])] == ["Merci, bien reçu."]
    agent_code = dossier["cofinancements"][0]["financeur"]
    agent = Actor(client, AGENTS[agent_code])
    assert "Association fragile, à suivre au comité." in [m["texte"] for m in _messages(agent, dossier["id"])]
    page = porteur.get(f"/dossiers/{dossier['id']}").text
    assert "Association fragile" not in page and "Merci, bien reçu." in page


def test_who_may_write_what_and_bad_input_are_refused_with_reasons(client: TestClient, demo: date) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    url = f"/api/v1/dossiers/{dossier['id']}/messages"

    internal = porteur.post(url, json={"texte": "Note ?", "audience": "interne"})
    assert internal.status_code == 403 and internal.json()["detail"]["code"] == "audience_interdite"

    agent = Actor(client, AGENTS[dossier["cofinancements"][0]["financeur"]])
    to_porteur = agent.post(url, json={"texte": "Bonjour"})
    assert to_porteur.status_code == 403 and "instructeur" in to_porteur.json()["detail"]["message"]

    empty = porteur.post(url, json={"texte": "   "})
    assert empty.status_code == 422
    assert empty.json()["detail"]["errors"][0]["path"] == "texte"
    too_long = porteur.post(url, json={"texte": "x" * 5001})
    assert too_long.status_code == 422 and "5000" in too_long.json()["detail"]["errors"][0]["message"]
    assert _messages(porteur, dossier["id"]) == []


def test_on_the_page_each_box_says_who_reads_it_and_a_refused_message_is_kept(
    client: TestClient, demo: date
) -> None:
    dossier = complete_draft(Actor(client, "porteur@demo.aap.test"))
    web_login(client, INSTRUCTEUR)
    page = html.unescape(client.get(f"/instruction/dossiers/{dossier['id']}").text)
    assert "lu par le porteur et l'équipe" in page and "jamais par le porteur" in page
    token = csrf_of(page)
    typed = "Pouvez-vous préciser le public visé ? " + "y" * 5000
    refused = client.post(
        f"/dossiers/{dossier['id']}/messages",
        data={"csrf": token, "texte": typed, "audience": "echange"},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    shown = html.unescape(refused.text)
    assert "Pouvez-vous préciser le public visé ?" in shown and "5000 caractères" in shown

    sent = client.post(
        f"/dossiers/{dossier['id']}/messages",
        data={"csrf": token, "texte": "Pouvez-vous préciser le public visé ?", "audience": "echange"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("#echanges")
    assert "Pouvez-vous préciser le public visé ?" in html.unescape(client.get(sent.headers["location"]).text)

    no_token = client.post(f"/dossiers/{dossier['id']}/messages", data={"texte": "Sans jeton"})
    assert no_token.status_code == 403


def test_compléments_sent_back_tell_the_instructeurs(client: TestClient, demo: date) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    instructeur = Actor(client, INSTRUCTEUR)
    assert instructeur.fire(dossier["id"], "prendre_en_instruction").status_code == 200
    due = (date.today() + timedelta(days=10)).isoformat()
    asked = instructeur.fire(dossier["id"], "demander_complements", comment="Le devis, svp.", due_date=due)
    assert asked.status_code == 200, asked.text
    done = porteur.fire(dossier["id"], "completer", comment="Devis ajouté dans les pièces.")
    assert done.status_code == 200, done.text
    notes = instructeur.get(f"/api/v1/dossiers/{dossier['id']}/notifications").json()["items"]
    received = [n for n in notes if n["rule"] == "complements_recus"]
    assert received and all(n["recipient"] != "porteur@demo.aap.test" for n in received)
    assert "compléments transmis" in received[0]["subject"]
