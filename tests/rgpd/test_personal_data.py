"""A person's data: the export they download (API and account page), and the erasure by the team:
name and address gone from the account and from the dossiers (which stay), sessions cut; refused, with
the reason, while the person is the only contact of an organisation with open dossiers, or an agent."""

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.accounts.service import create_user
from aap.models import Membership, User
from tests.api.helpers import Actor, drafts, open_campaign
from tests.rgpd.helpers import ADMIN, ETAT, PORTEUR, horizon
from tests.web.staff_helpers import web_login

PORTEUR2 = "porteur2@demo.aap.test"


def _user_id(session: Session, email: str) -> int:
    uid = session.scalar(select(User.id).where(User.email == email))
    assert uid is not None
    return uid


def _second_member_of_horizon(session: Session) -> None:
    other = create_user(
        session, email="tresorier@horizon.test", password="x" * 20, role="porteur", full_name="Luc Trésorier"
    )
    session.add(Membership(user_id=other.id, organisation_id=horizon(session).id))
    session.commit()


def test_a_person_downloads_their_own_data(client: TestClient, demo) -> None:
    porteur = Actor(client, PORTEUR)
    export = porteur.get("/api/v1/account/export")
    assert export.status_code == 200, export.text
    data = export.json()
    assert data["compte"]["email"] == PORTEUR and data["compte"]["nom"] == "Samira Benali"
    assert [o["name"] for o in data["organisations"]] == ["Association Horizon Manosque"]
    assert data["actions"], "the transitions they fired"
    # the same file from the account page, to keep
    browser = TestClient(client.app)
    web_login(browser, PORTEUR)
    assert "/mon-compte/donnees" in browser.get("/mon-compte").text
    page = browser.get("/mon-compte/donnees")
    assert page.status_code == 200 and "attachment" in page.headers["content-disposition"]
    assert json.loads(page.content)["compte"]["email"] == PORTEUR
    assert Actor(client, PORTEUR2).get("/api/v1/account/export").json()["compte"]["email"] == PORTEUR2


def test_the_admin_erases_an_account_and_the_dossiers_stay_without_the_person(
    client: TestClient, demo, session: Session
) -> None:
    _second_member_of_horizon(session)
    target = _user_id(session, PORTEUR)
    session.close()
    porteur, admin = Actor(client, PORTEUR), Actor(client, ADMIN)
    draft = drafts(porteur, open_campaign(porteur)["id"])[0]
    contact = {"nom": "Samira Benali", "email": PORTEUR, "telephone": "07 98 76 54 31"}
    assert (
        porteur.patch(
            f"/api/v1/dossiers/{draft['id']}",
            {"answers": {"organisation": {"contact": contact}}},
            draft["version"],
        ).status_code
        == 200
    )
    said = admin.post(
        f"/api/v1/dossiers/{draft['id']}/messages",
        json={"texte": "Bonjour Samira Benali, merci pour le dossier.", "audience": "echange"},
    )
    assert said.status_code in (200, 201), said.text
    dossiers = admin.get("/api/v1/dossiers", params={"limit": 500}).json()["items"]
    horizon_ids = [
        d["id"]
        for d in dossiers
        if PORTEUR in json.dumps(admin.get(f"/api/v1/dossiers/{d['id']}/history").json())
    ]
    assert horizon_ids, "the demo's porteur fired transitions"

    unconfirmed = admin.post(f"/api/v1/users/{target}/erase", json={"email": "autre@x.fr"})
    assert unconfirmed.status_code == 422
    assert unconfirmed.json()["detail"]["errors"][0]["path"] == "email"
    erased = admin.post(f"/api/v1/users/{target}/erase", json={"email": PORTEUR})
    assert erased.status_code == 200, erased.text
    assert erased.json()["email"] != PORTEUR

    # sessions and tokens cut, no login any more
    assert porteur.get("/api/v1/me").status_code == 401
    assert (
        client.post("/api/v1/auth/token", data={"username": PORTEUR, "password": "demo"}).status_code == 401
    )
    # the dossiers stay, their history without the person's address, the answers without their contact
    for dossier_id in [*horizon_ids, draft["id"]]:
        assert admin.get(f"/api/v1/dossiers/{dossier_id}").status_code == 200
        seen = "".join(
            json.dumps(admin.get(f"/api/v1/dossiers/{dossier_id}{part}").json())
            for part in ("", "/history", "/messages")
        )
        for trace in (PORTEUR, "Samira Benali", "07 98 76 54 31"):
            at = seen.find(trace)
            assert at < 0, seen[max(at - 200, 0) : at + 50]
    history = admin.get(f"/api/v1/dossiers/{horizon_ids[0]}/history").json()["items"]
    assert erased.json()["email"] in {item["by"] for item in history}  # someone did it, not « automatic »
    again = admin.post(f"/api/v1/users/{target}/erase", json={"email": erased.json()["email"]})
    assert again.status_code == 409 and again.json()["detail"]["code"] == "compte_deja_efface"


def test_erasure_is_refused_while_the_person_is_the_only_contact_of_open_dossiers(
    client: TestClient, demo, session: Session
) -> None:
    target = _user_id(session, PORTEUR2)
    session.close()
    admin = Actor(client, ADMIN)
    refused = admin.post(f"/api/v1/users/{target}/erase", json={"email": PORTEUR2})
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert detail["code"] == "effacement_seul_membre_dossiers_en_cours"
    assert "seul membre" in detail["message"] and "Les Passerelles du Luberon" in detail["message"]
    assert Actor(client, PORTEUR2).get("/api/v1/me").json()["email"] == PORTEUR2  # nothing changed
    agent = admin.post(f"/api/v1/users/{_user_id_of(client, ETAT)}/erase", json={"email": ETAT})
    assert agent.status_code == 409 and agent.json()["detail"]["code"] == "effacement_agent_refuse"
    # only the team erases
    assert (
        Actor(client, PORTEUR).post(f"/api/v1/users/{target}/erase", json={"email": PORTEUR2}).status_code
        == 403
    )


def _user_id_of(client: TestClient, email: str) -> int:
    return Actor(client, email).get("/api/v1/me").json()["id"]


def test_the_admin_page_erases_or_says_why_not(client: TestClient, demo, session: Session) -> None:
    target = _user_id(session, PORTEUR2)
    session.close()
    browser = TestClient(client.app)
    csrf = web_login(browser, ADMIN)
    page = browser.get("/admin/utilisateurs")
    assert f"/admin/utilisateurs/{target}/effacer" in page.text
    answer = browser.post(f"/admin/utilisateurs/{target}/effacer", data={"csrf": csrf, "email": PORTEUR2})
    assert answer.status_code == 200
    assert "Les données n&#39;ont pas été effacées" in answer.text and "seul membre" in answer.text


def test_reading_the_other_members_of_an_organisation_is_logged(
    client: TestClient, demo, session: Session
) -> None:
    _second_member_of_horizon(session)
    org_id, other = horizon(session).id, _user_id(session, "tresorier@horizon.test")
    session.close()
    assert Actor(client, PORTEUR).get(f"/api/v1/organisations/{org_id}/members").status_code == 200
    rows = Actor(client, ADMIN).get("/api/v1/access-log", params={"kind": "users", "action": "read"}).json()
    assert [(i["email"], i["object_id"]) for i in rows["items"]] == [(PORTEUR, str(other))]
