"""Avis of partners and sector services: asked with a question and a deadline, reminded, answered,
shown to the team and the comité, never to the porteur."""

import html
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.accounts.service import create_user
from aap.models import Notification, Territory, User
from aap.settings import Settings
from notifications.cron import run_pass
from tests.api.helpers import Actor, complete_draft
from tests.notifications.conftest import SmtpServer, smtp  # noqa: F401  (the real SMTP server fixture)
from tests.web.staff_helpers import ADMIN, INSTRUCTEUR, csrf_of, web_login

PARTNER = "jeunesse@ville.demo.aap.test"


def _partner(engine: Engine) -> None:
    """A partner account of the demo territory, as the admin opens it."""
    with Session(engine) as session:
        admin = session.scalar(select(User).where(User.email == ADMIN))
        assert admin is not None
        create_user(
            session,
            email=PARTNER,
            password="mot de passe du service jeunesse",
            role="partenaire",
            full_name="Service jeunesse de la Ville",
            territory_id=admin.territory_id,
        )
        session.commit()


def _asked(client: TestClient, engine: Engine, due: date) -> tuple[Actor, Actor, dict, dict]:  # type: ignore[type-arg]
    _partner(engine)
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    instructeur = Actor(client, INSTRUCTEUR)
    asked = instructeur.post(
        f"/api/v1/dossiers/{dossier['id']}/avis-partenaires",
        json={
            "destinataire": PARTNER,
            "question": "Ce public est-il déjà suivi ?",
            "date_limite": due.isoformat(),
        },
    )
    assert asked.status_code == 201, asked.text
    return porteur, instructeur, dossier, asked.json()


def test_a_partner_is_asked_answers_and_the_instructeur_is_told(
    client: TestClient,
    demo: date,
    db_engine: Engine,
    settings: Settings,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    porteur, instructeur, dossier, asked = _asked(client, db_engine, date.today() + timedelta(days=10))
    live = settings.model_copy(update={"smtp_url": smtp.url})
    run_pass(db_engine, live, datetime.now(UTC))
    (mail,) = smtp.inbox.by_rule("avis_demande")
    assert mail["To"] == PARTNER
    assert "Ce public est-il déjà suivi ?" in smtp.inbox.text(
        mail
    ) and f"/avis/{asked['id']}" in smtp.inbox.text(mail)

    partner = Actor(client, PARTNER, password="mot de passe du service jeunesse")
    inbox = partner.get("/api/v1/avis-partenaires", params={"en_attente": True}).json()
    assert [a["id"] for a in inbox["items"]] == [asked["id"]]
    assert (
        partner.get(f"/api/v1/dossiers/{dossier['id']}").status_code == 200
    )  # it reads the dossier asked about
    refused = partner.post(
        f"/api/v1/avis-partenaires/{asked['id']}/reponse", json={"avis": "bof", "texte": ""}
    )
    assert refused.status_code == 422
    assert {e["path"] for e in refused.json()["detail"]["errors"]} == {"avis", "texte"}
    given = partner.post(
        f"/api/v1/avis-partenaires/{asked['id']}/reponse",
        json={"avis": "reserve", "texte": "Public déjà suivi par notre accueil de loisirs le mercredi."},
    )
    assert given.status_code == 200, given.text
    again = partner.post(
        f"/api/v1/avis-partenaires/{asked['id']}/reponse", json={"avis": "favorable", "texte": "x"}
    )
    assert again.status_code == 409

    on_dossier = instructeur.get(f"/api/v1/dossiers/{dossier['id']}/avis-partenaires").json()["items"]
    assert [(a["avis"], a["service"]) for a in on_dossier] == [("reserve", "Service jeunesse de la Ville")]
    run_pass(db_engine, live, datetime.now(UTC))
    received = smtp.inbox.by_rule("avis_recu")
    assert INSTRUCTEUR in [m["To"] for m in received]
    assert "Public déjà suivi" in smtp.inbox.text(received[0])
    # never the porteur's
    assert porteur.get(f"/api/v1/dossiers/{dossier['id']}/avis-partenaires").json()["items"] == []
    assert "Public déjà suivi" not in html.unescape(porteur.get(f"/dossiers/{dossier['id']}").text)


def test_reminders_before_and_at_the_deadline_each_once(
    client: TestClient, demo: date, db_engine: Engine, settings: Settings
) -> None:
    _, _, _, asked = _asked(client, db_engine, date.today() + timedelta(days=5))

    def reminders() -> list[str]:
        with Session(db_engine) as session:
            return list(session.scalars(select(Notification.key).where(Notification.rule == "avis_rappel")))

    run_pass(db_engine, settings, datetime.now(UTC), deliver_messages=False)
    assert reminders() == []
    three_days_before = datetime.now(UTC) + timedelta(days=2)
    run_pass(db_engine, settings, three_days_before, deliver_messages=False)
    run_pass(db_engine, settings, three_days_before, deliver_messages=False)
    assert len(reminders()) == 1
    at_deadline = datetime.now(UTC) + timedelta(days=5)
    run_pass(db_engine, settings, at_deadline, deliver_messages=False)
    assert len(reminders()) == 2 and all(f"a{asked['id']}" in k for k in reminders())


def test_only_the_partner_asked_reads_and_answers(client: TestClient, demo: date, db_engine: Engine) -> None:
    _, instructeur, dossier, asked = _asked(client, db_engine, date.today() + timedelta(days=10))
    with Session(db_engine) as session:
        admin = session.scalar(select(User).where(User.email == ADMIN))
        assert admin is not None
        create_user(
            session,
            email="bailleur@demo.aap.test",
            password="mot de passe du bailleur social",
            role="partenaire",
            full_name="Bailleur social",
            territory_id=admin.territory_id,
        )
        session.commit()
    other = Actor(client, "bailleur@demo.aap.test", password="mot de passe du bailleur social")
    assert other.get(f"/api/v1/dossiers/{dossier['id']}").status_code == 404
    assert (
        other.post(
            f"/api/v1/avis-partenaires/{asked['id']}/reponse", json={"avis": "favorable", "texte": "Oui."}
        ).status_code
        == 404
    )
    bad = instructeur.post(
        f"/api/v1/dossiers/{dossier['id']}/avis-partenaires",
        json={
            "destinataire": "porteur@demo.aap.test",
            "question": "",
            "date_limite": date.today().isoformat(),
        },
    )
    assert bad.status_code == 422
    assert {e["path"] for e in bad.json()["detail"]["errors"]} == {"destinataire", "question", "date_limite"}


def test_in_the_pages_the_instructeur_asks_and_the_partner_answers(
    client: TestClient, demo: date, db_engine: Engine
) -> None:
    _partner(db_engine)
    dossier = complete_draft(Actor(client, "porteur@demo.aap.test"))
    web_login(client, INSTRUCTEUR)
    page = client.get(f"/instruction/dossiers/{dossier['id']}").text
    asked = client.post(
        f"/instruction/dossiers/{dossier['id']}/avis-partenaires",
        data={
            "csrf": csrf_of(page),
            "destinataire": PARTNER,
            "question": "Complémentaire de vos actions ?",
            "date_limite": (date.today() + timedelta(days=7)).isoformat(),
        },
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    web_login(client, PARTNER, password="mot de passe du service jeunesse")
    inbox = client.get("/avis").text
    assert dossier["number"] in inbox
    avis_id = (
        Actor(client, PARTNER, password="mot de passe du service jeunesse")
        .get("/api/v1/avis-partenaires")
        .json()["items"][0]["id"]
    )
    web_login(client, PARTNER, password="mot de passe du service jeunesse")
    form = client.get(f"/avis/{avis_id}").text
    assert "Complémentaire de vos actions ?" in html.unescape(form)
    refused = client.post(f"/avis/{avis_id}", data={"csrf": csrf_of(form), "avis": "favorable", "texte": ""})
    assert refused.status_code == 422 and "Expliquez votre avis" in html.unescape(refused.text)
    done = client.post(
        f"/avis/{avis_id}",
        data={"csrf": csrf_of(form), "avis": "favorable", "texte": "Oui, en lien avec notre accueil."},
        follow_redirects=False,
    )
    assert done.status_code == 303
    web_login(client, INSTRUCTEUR)
    shown = html.unescape(client.get(f"/instruction/dossiers/{dossier['id']}").text)
    assert "Oui, en lien avec notre accueil." in shown and "Service jeunesse de la Ville" in shown


def test_an_avis_is_reminded_on_the_days_of_its_contract(
    client: TestClient, demo: date, db_engine: Engine, settings: Settings
) -> None:
    """A contract in Papeete: 07:00 in Paris on the deadline is 20:00 the day before there, so the
    partner is told the deadline is near, and that it is reached only once it is the day in Papeete."""
    due = date.today() + timedelta(days=5)
    _, _, _, asked = _asked(client, db_engine, due)
    with Session(db_engine) as session:
        for territory in session.scalars(select(Territory)):
            territory.fuseau = "Pacific/Tahiti"
        session.commit()

    def reminders() -> list[str]:
        with Session(db_engine) as session:
            keys = session.scalars(select(Notification.key).where(Notification.rule == "avis_rappel"))
            return sorted(k.rsplit("-", 1)[1] for k in keys if f"a{asked['id']}" in k)

    paris = ZoneInfo("Europe/Paris")
    run_pass(db_engine, settings, datetime.combine(due, time(7), paris), deliver_messages=False)
    assert reminders() == ["bientot"]
    run_pass(db_engine, settings, datetime.combine(due, time(13), paris), deliver_messages=False)
    assert reminders() == ["bientot", "echeance"]
