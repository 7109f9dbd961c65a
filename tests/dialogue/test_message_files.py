"""Files in the dialogue: a message carries a file, the other side is e-mailed and opens it; the file of a
staff note is never readable by the porteur; a file is checked like the pièces (type by content, size)."""

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from aap.settings import Settings
from notifications.delivery import deliver
from tests.api.helpers import Actor, complete_draft
from tests.guichet.helpers import PDF
from tests.notifications.conftest import SmtpServer, smtp  # noqa: F401  (the real SMTP server fixture)
from tests.web.staff_helpers import INSTRUCTEUR, csrf_of, web_login


def _send(
    actor: Actor, dossier_id: int, texte: str, filename: str, content: bytes, audience: str = "echange"
):  # type: ignore[no-untyped-def]
    return actor.client.post(
        f"/api/v1/dossiers/{dossier_id}/messages/piece-jointe",
        headers=actor.headers,
        data={"texte": texte, "audience": audience},
        files={"file": (filename, content, "application/pdf")},
    )


def test_the_instructeur_sends_a_model_agreement_and_the_porteur_is_emailed_and_opens_it(
    client: TestClient,
    demo: date,
    db_engine: Engine,
    settings: Settings,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    instructeur = Actor(client, INSTRUCTEUR)
    sent = _send(
        instructeur, dossier["id"], "Voici le modèle de convention de partenariat.", "modele.pdf", PDF
    )
    assert sent.status_code == 201, sent.text
    (attached,) = sent.json()["pieces_jointes"]
    assert attached["filename"] == "modele.pdf"

    (seen,) = porteur.get(f"/api/v1/dossiers/{dossier['id']}/messages").json()["items"]
    assert [f["filename"] for f in seen["pieces_jointes"]] == ["modele.pdf"]
    download = porteur.get(seen["pieces_jointes"][0]["url"])
    assert download.status_code == 200 and download.content == PDF
    assert Actor(client, "porteur2@demo.aap.test").get(attached["url"]).status_code == 404
    # the thread's file is not one of the dossier's pièces
    pieces = porteur.get(f"/api/v1/dossiers/{dossier['id']}/attachments").json()["items"]
    assert attached["id"] not in [p["id"] for p in pieces]

    report = deliver(
        sessionmaker(bind=db_engine), settings.model_copy(update={"smtp_url": smtp.url}), datetime.now(UTC)
    )
    assert report.sent >= 1
    mails = [m for m in smtp.inbox.by_rule("message_de_l_equipe") if m["To"] == "porteur@demo.aap.test"]
    assert mails and "Pièce jointe : modele.pdf" in smtp.inbox.text(mails[-1])

    # the porteur answers with its own file; the instructeur is e-mailed too
    answer = _send(porteur, dossier["id"], "Signée, la voici.", "convention-signee.pdf", PDF)
    assert answer.status_code == 201, answer.text
    file_id = answer.json()["pieces_jointes"][0]["id"]
    assert instructeur.get(f"/api/v1/attachments/{file_id}").content == PDF
    deliver(
        sessionmaker(bind=db_engine), settings.model_copy(update={"smtp_url": smtp.url}), datetime.now(UTC)
    )
    told = [m for m in smtp.inbox.by_rule("message_du_porteur") if m["To"] == INSTRUCTEUR]
    assert told and "convention-signee.pdf" in smtp.inbox.text(told[-1])


def test_the_file_of_a_staff_note_is_never_readable_by_the_porteur(client: TestClient, demo: date) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    instructeur = Actor(client, INSTRUCTEUR)
    note = _send(instructeur, dossier["id"], "Avis du service des sports.", "avis-sports.pdf", PDF, "interne")
    assert note.status_code == 201, note.text
    url = note.json()["pieces_jointes"][0]["url"]
    assert instructeur.get(url).status_code == 200
    assert porteur.get(url).status_code == 404  # as if it did not exist
    assert porteur.get(f"/api/v1/dossiers/{dossier['id']}/messages").json()["items"] == []
    # and a porteur cannot send a note, file or not
    refused = _send(porteur, dossier["id"], "Note ?", "x.pdf", PDF, "interne")
    assert refused.status_code == 403


def test_a_file_is_checked_like_the_pieces_and_nothing_is_written_when_refused(
    client: TestClient, demo: date, settings: Settings
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    renamed = _send(porteur, dossier["id"], "Le programme.", "programme.pdf", b"MZ\x90\x00 not a pdf")
    assert renamed.status_code == 415 and "type" in renamed.json()["detail"]["message"].lower()
    big = _send(porteur, dossier["id"], "Le film.", "film.pdf", PDF + b"0" * (settings.max_upload_bytes + 1))
    assert big.status_code == 413
    other = Actor(client, "porteur2@demo.aap.test")
    assert _send(other, dossier["id"], "Bonjour", "x.pdf", PDF).status_code == 404
    assert porteur.get(f"/api/v1/dossiers/{dossier['id']}/messages").json()["items"] == []
    # without a file, the same route writes a plain message
    plain = porteur.client.post(
        f"/api/v1/dossiers/{dossier['id']}/messages/piece-jointe",
        headers=porteur.headers,
        data={"texte": "Sans fichier."},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert plain.status_code == 201, plain.text
    assert plain.json()["pieces_jointes"] == []


def test_on_the_page_a_message_goes_with_its_file(client: TestClient, demo: date) -> None:
    dossier = complete_draft(Actor(client, "porteur@demo.aap.test"))
    web_login(client, INSTRUCTEUR)
    page = client.get(f"/instruction/dossiers/{dossier['id']}").text
    assert 'enctype="multipart/form-data"' in page and "Joindre un fichier" in page
    sent = client.post(
        f"/dossiers/{dossier['id']}/messages",
        data={"csrf": csrf_of(page), "texte": "Le modèle de budget.", "audience": "echange"},
        files={"file": ("modele-budget.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    shown = client.get(sent.headers["location"]).text
    assert "modele-budget.pdf" in shown and "/api/v1/attachments/" in shown
