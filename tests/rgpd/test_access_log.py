"""The access log: a pièce downloaded, a bilan's beneficiaries read, an account's data exported, and
every write, by whom, from where; seen by the territory's admin (API and page), filtered and paginated;
a write rolled back leaves no row."""

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aap.models import AccessLog, User
from tests.api.helpers import Actor, drafts, open_campaign
from tests.rgpd.helpers import ADMIN, ETAT, PORTEUR, dossier_read_by_etat, linked_piece
from tests.web.staff_helpers import web_login


def _user_id(session: Session, email: str) -> int:
    uid = session.scalar(select(User.id).where(User.email == email))
    assert uid is not None
    return uid


def test_a_financer_downloading_a_rib_is_in_the_admins_log(
    client: TestClient, demo, session: Session
) -> None:
    dossier = dossier_read_by_etat(session)
    rib = linked_piece(session, dossier, "rib")
    etat_id = _user_id(session, ETAT)
    session.close()
    etat, admin = Actor(client, ETAT), Actor(client, ADMIN)
    assert etat.get(f"/api/v1/attachments/{rib.id}").status_code == 200
    assert etat.get(f"/api/v1/dossiers/{dossier.id}/bilan").status_code == 200

    log = admin.get("/api/v1/access-log", params={"user_id": etat_id, "action": "read"})
    assert log.status_code == 200, log.text
    items = log.json()["items"]
    read_rib = [i for i in items if i["kind"] == "attachments" and i["object_id"] == str(rib.id)]
    assert len(read_rib) == 1
    entry = read_rib[0]
    assert (entry["email"], entry["role"], entry["route"]) == (
        ETAT,
        "financeur",
        f"GET /api/v1/attachments/{rib.id}",
    )
    assert entry["ip"] and entry["at"]
    assert any(i["kind"] == "bilans" for i in items)  # the beneficiaries' figures of the bilan
    # filtered by object: only that RIB's reads
    by_object = admin.get(
        "/api/v1/access-log", params={"kind": "attachments", "object_id": str(rib.id)}
    ).json()
    assert by_object["total"] == 1 and by_object["items"][0]["user_id"] == etat_id


def test_every_write_is_logged_once_in_its_transaction(client: TestClient, demo, session: Session) -> None:
    porteur_id = _user_id(session, PORTEUR)
    session.close()
    porteur, admin = Actor(client, PORTEUR), Actor(client, ADMIN)
    draft = drafts(porteur, open_campaign(porteur)["id"])[0]
    saved = porteur.patch(
        f"/api/v1/dossiers/{draft['id']}", {"answers": {"action": {"lieux": "Ici"}}}, draft["version"]
    )
    assert saved.status_code == 200
    writes = admin.get(
        "/api/v1/access-log", params={"user_id": porteur_id, "action": "write", "kind": "dossiers"}
    ).json()
    assert [(i["object_id"], i["route"]) for i in writes["items"]] == [
        (str(draft["id"]), f"PATCH /api/v1/dossiers/{draft['id']}")
    ]
    # a refused write (stale version: the service rolls back) leaves no row
    stale = porteur.patch(
        f"/api/v1/dossiers/{draft['id']}", {"answers": {"action": {"lieux": "Là"}}}, draft["version"]
    )
    assert stale.status_code == 412
    again = admin.get(
        "/api/v1/access-log", params={"user_id": porteur_id, "action": "write", "kind": "dossiers"}
    ).json()
    assert again["total"] == 1


def test_the_log_is_the_admins_alone_and_paginated_in_sql(client: TestClient, demo, session: Session) -> None:
    session.close()
    porteur, admin = Actor(client, PORTEUR), Actor(client, ADMIN)
    for _ in range(3):
        porteur.get("/api/v1/account/export")
    assert porteur.get("/api/v1/access-log").status_code == 403
    assert Actor(client, ETAT).get("/api/v1/access-log").status_code == 403
    first = admin.get("/api/v1/access-log", params={"kind": "users", "limit": 2}).json()
    second = admin.get("/api/v1/access-log", params={"kind": "users", "limit": 2, "offset": 2}).json()
    assert first["total"] == second["total"] == 3
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert (
        admin.get("/api/v1/access-log", params={"since": "2000-01-01", "until": "2000-12-31"}).json()["total"]
        == 0
    )


def test_the_admin_page_shows_the_log_with_its_filters(client: TestClient, demo, session: Session) -> None:
    dossier = dossier_read_by_etat(session)
    rib = linked_piece(session, dossier, "rib")
    session.close()
    assert Actor(client, ETAT).get(f"/api/v1/attachments/{rib.id}").status_code == 200
    browser = TestClient(client.app)
    web_login(browser, ADMIN)
    page = browser.get("/admin/journal", params={"objet": "attachments", "objet_id": str(rib.id)})
    assert page.status_code == 200, page.text
    text = re.sub(r"\s+", " ", page.text)
    assert ETAT in text and f"GET /api/v1/attachments/{rib.id}" in text and "Lecture" in text
    assert "1 accès" in text
    other = TestClient(client.app)
    web_login(other, PORTEUR)
    assert other.get("/admin/journal").status_code == 403


def test_a_write_from_a_page_is_logged_like_one_from_the_api(
    client: TestClient, demo, session: Session
) -> None:
    target = _user_id(session, "porteur2@demo.aap.test")
    session.close()
    browser = TestClient(client.app)
    csrf = web_login(browser, ADMIN)
    assert f'href="/admin/journal?compte={target}"' in browser.get("/admin/utilisateurs").text
    done = browser.post(
        f"/admin/utilisateurs/{target}/desactiver", data={"csrf": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    rows = (
        Actor(client, ADMIN)
        .get("/api/v1/access-log", params={"kind": "users", "object_id": str(target)})
        .json()
    )
    assert [(i["action"], i["route"], i["email"]) for i in rows["items"]] == [
        ("write", f"POST /admin/utilisateurs/{target}/desactiver", ADMIN)
    ]
    page = browser.get("/admin/journal", params={"compte": str(target)})
    assert page.status_code == 200 and "Aucun accès ne correspond à ces filtres." in page.text


def test_no_log_row_outside_a_request(session: Session, demo) -> None:
    """The demo loader and the cron write through their own sessions: the log records people's requests."""
    assert session.scalar(select(func.count()).select_from(AccessLog)) == 0


def test_an_admin_reads_only_the_log_of_its_own_territory(
    client: TestClient, demo, db_engine, session: Session
) -> None:
    from tests.territories.helpers import PASSWORD, load_metro

    session.close()
    load_metro(db_engine, demo)
    Actor(client, PORTEUR).get("/api/v1/account/export")
    Actor(client, "porteur@metro.test", PASSWORD).get("/api/v1/account/export")
    ours = Actor(client, ADMIN).get("/api/v1/access-log", params={"kind": "users"}).json()
    theirs = (
        Actor(client, "admin@metro.test", PASSWORD).get("/api/v1/access-log", params={"kind": "users"}).json()
    )
    assert {i["email"] for i in ours["items"]} == {PORTEUR}
    assert {i["email"] for i in theirs["items"]} == {"porteur@metro.test"}
