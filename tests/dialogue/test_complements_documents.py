"""Compléments that are documents: the instructeur names them, the porteur attaches each before sending
the compléments back, the instructeur is e-mailed and finds the files in the history."""

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from aap.settings import Settings
from notifications.delivery import deliver
from tests.api.helpers import Actor, complete_draft
from tests.guichet.helpers import PDF
from tests.notifications.conftest import SmtpServer, smtp  # noqa: F401  (the real SMTP server fixture)
from tests.web.staff_helpers import INSTRUCTEUR


def _ask(client: TestClient, **body: object) -> tuple[Actor, Actor, dict]:  # type: ignore[type-arg]
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    instructeur = Actor(client, INSTRUCTEUR)
    assert instructeur.fire(dossier["id"], "prendre_en_instruction").status_code == 200
    due = (date.today() + timedelta(days=10)).isoformat()
    asked = instructeur.fire(dossier["id"], "demander_complements", due_date=due, **body)
    assert asked.status_code == 200, asked.text
    return porteur, instructeur, asked.json()


def test_the_porteur_attaches_the_quote_asked_for_and_the_instructeur_gets_it(
    client: TestClient,
    demo: date,
    db_engine: Engine,
    settings: Settings,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    porteur, instructeur, dossier = _ask(
        client, comment="Merci de joindre le devis.", pieces_demandees=["Devis du traiteur"]
    )
    refused = porteur.fire(dossier["id"], "completer")
    assert refused.status_code == 422
    assert [e["code"] for e in refused.json()["detail"]["errors"]] == ["piece_complement_manquante"]
    assert "Devis du traiteur" in refused.json()["detail"]["errors"][0]["message"]

    files = porteur.get(f"/api/v1/dossiers/{dossier['id']}").json()
    (asked,) = files["complements"]["pieces"]
    assert asked["label"] == "Devis du traiteur"
    wrong = client.post(
        f"/api/v1/dossiers/{dossier['id']}/attachments",
        headers=porteur.headers,
        data={"kind": "devis"},
        files={"file": ("devis.pdf", PDF, "application/pdf")},
    )
    assert wrong.status_code == 422 and asked["kind"] in wrong.json()["detail"]["message"]
    uploaded = client.post(
        f"/api/v1/dossiers/{dossier['id']}/attachments",
        headers=porteur.headers,
        data={"kind": asked["kind"]},
        files={"file": ("devis-traiteur.pdf", PDF, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    done = porteur.fire(dossier["id"], "completer", comment="Voici le devis.")
    assert done.status_code == 200, done.text
    assert files["state"] == "complements_demandes" and done.json()["state"] == "en_instruction"

    history = instructeur.get(f"/api/v1/dossiers/{dossier['id']}/history").json()["items"]
    sent = [e for e in history if e["transition"] == "completer"][-1]["data"]["pieces_transmises"]
    assert [(p["label"], p["filename"]) for p in sent] == [("Devis du traiteur", "devis-traiteur.pdf")]
    download = instructeur.get(f"/api/v1/attachments/{sent[0]['attachment_id']}")
    assert download.status_code == 200 and download.content == PDF

    deliver(
        sessionmaker(bind=db_engine), settings.model_copy(update={"smtp_url": smtp.url}), datetime.now(UTC)
    )
    mails = smtp.inbox.by_rule("complements_recus")
    assert INSTRUCTEUR in [m["To"] for m in mails]
    text = smtp.inbox.text(mails[0])
    assert "Devis du traiteur" in text and "Voici le devis." in text
    asked_mail = [
        m for m in smtp.inbox.by_rule("complements_demandes") if dossier["number"] in smtp.inbox.text(m)
    ]
    assert asked_mail and "Devis du traiteur" in smtp.inbox.text(asked_mail[0])


def test_documents_must_be_named(client: TestClient, demo: date) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    instructeur = Actor(client, INSTRUCTEUR)
    assert instructeur.fire(dossier["id"], "prendre_en_instruction").status_code == 200
    due = (date.today() + timedelta(days=10)).isoformat()
    refused = instructeur.fire(
        dossier["id"],
        "demander_complements",
        comment="Pièces ?",
        due_date=due,
        pieces_demandees=["Devis", " "],
    )
    assert refused.status_code == 422
    assert [(e["code"], e["field"]) for e in refused.json()["detail"]["errors"]] == [
        ("piece_sans_nom", "pieces_demandees.1")
    ]
    assert instructeur.get(f"/api/v1/dossiers/{dossier['id']}").json()["state"] == "en_instruction"


def test_in_the_pages_the_instructeur_names_documents_and_the_porteur_finds_where_to_attach_them(
    client: TestClient, demo: date
) -> None:
    import html

    from tests.web.staff_helpers import csrf_of, web_login

    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    assert Actor(client, INSTRUCTEUR).fire(dossier["id"], "prendre_en_instruction").status_code == 200
    token = web_login(client, INSTRUCTEUR)
    page = client.get(f"/instruction/dossiers/{dossier['id']}").text
    version = Actor(client, INSTRUCTEUR).get(f"/api/v1/dossiers/{dossier['id']}").json()["version"]
    fired = client.post(
        f"/instruction/dossiers/{dossier['id']}/transitions/demander_complements",
        data={
            "csrf": csrf_of(page) or token,
            "version": str(version),
            "comment": "Deux documents, svp.",
            "due_date": (date.today() + timedelta(days=7)).isoformat(),
            "pieces_demandees": "Devis du traiteur\n\nConvention avec le collège\n",
        },
        follow_redirects=False,
    )
    assert fired.status_code == 303, fired.text
    web_login(client, "porteur@demo.aap.test")
    mine = html.unescape(client.get(f"/dossiers/{dossier['id']}").text)
    assert "Joindre le fichier « Devis du traiteur »" in mine
    assert "Joindre le fichier « Convention avec le collège »" in mine
