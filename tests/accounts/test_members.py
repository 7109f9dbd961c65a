"""Several members per organisation: a member invites a colleague (single-use link to choose a
password), sees the members, removes one; only members see any of it."""

from datetime import timedelta
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from aap.accounts import links
from aap.clock import now
from tests.accounts.conftest import (
    PASSWORD,
    csrf_of,
    link_in,
    mails_to,
    organisation,
    porteur,
    token,
    web_login,
)

COLLEAGUE_PASSWORD = "neuf hérissons traversent la route"


def test_a_member_invites_a_colleague_who_chooses_a_password_and_joins(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    org = organisation(session)
    porteur(session, "presidente@jardins.test", org, name="Nadia Benali")
    headers = token(client, "presidente@jardins.test", PASSWORD)
    sent = client.post(
        f"/api/v1/organisations/{org.id}/invitations",
        headers=headers,
        json={"email": "Tresorier@Jardins.test"},
    )
    assert sent.status_code == 202
    [mail] = mails_to(smtp, "tresorier@jardins.test", "compte_invitation")
    assert mail["Subject"] == "Nadia Benali vous invite à rejoindre « Les Jardins de Manosque »"
    listed = client.get(f"/api/v1/organisations/{org.id}/members", headers=headers).json()
    assert [i["email"] for i in listed["invitations"]] == ["tresorier@jardins.test"]
    assert [m["email"] for m in listed["items"]] == ["presidente@jardins.test"]

    raw = link_in(smtp, mail, "/invitation")
    weak = client.post("/api/v1/auth/invitations/accept", json={"token": raw, "password": "password1234"})
    assert weak.status_code == 422 and weak.json()["detail"]["errors"][0]["code"] == "mot_de_passe_faible"
    joined = client.post(
        "/api/v1/auth/invitations/accept",
        json={"token": raw, "password": COLLEAGUE_PASSWORD, "full_name": "Paul Trésorier"},
    )
    assert joined.status_code == 200
    assert joined.json()["organisations"][0]["id"] == org.id
    colleague = token(client, "tresorier@jardins.test", COLLEAGUE_PASSWORD)
    listed = client.get(f"/api/v1/organisations/{org.id}/members", headers=colleague).json()
    assert sorted(m["email"] for m in listed["items"]) == [
        "presidente@jardins.test",
        "tresorier@jardins.test",
    ]
    assert listed["invitations"] == []
    again = client.post(
        "/api/v1/auth/invitations/accept", json={"token": raw, "password": COLLEAGUE_PASSWORD}
    )
    assert again.status_code == 410


def test_an_invitation_expires_after_seven_days(client: TestClient, session: Session) -> None:
    org = organisation(session)
    porteur(session, "presidente@jardins.test", org)
    invitee = porteur(session, "tard@jardins.test")
    invitee.email_verified_at = None
    raw, _ = links.issue(
        session, links.INVITATION, invitee.id, now() - timedelta(days=8), organisation_id=org.id
    )
    session.commit()
    late = client.post("/api/v1/auth/invitations/accept", json={"token": raw, "password": COLLEAGUE_PASSWORD})
    assert late.status_code == 410 and late.json()["detail"]["code"] == "lien_expire"


def test_an_existing_porteur_accepts_without_a_new_password(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    org = organisation(session)
    other = organisation(session, "Autre asso", "35600000000048")
    porteur(session, "presidente@jardins.test", org)
    porteur(session, "benevole@autre.test", other)
    client.post(
        f"/api/v1/organisations/{org.id}/invitations",
        headers=token(client, "presidente@jardins.test", PASSWORD),
        json={"email": "benevole@autre.test"},
    )
    raw = link_in(smtp, mails_to(smtp, "benevole@autre.test")[0], "/invitation")
    page = client.get(f"/invitation/{raw}")
    assert "Choisissez votre mot de passe" not in page.text
    assert client.post("/api/v1/auth/invitations/accept", json={"token": raw}).status_code == 200
    me = client.get("/api/v1/me", headers=token(client, "benevole@autre.test", PASSWORD)).json()
    assert sorted(o["name"] for o in me["organisations"]) == ["Autre asso", "Les Jardins de Manosque"]


def test_refused_invitations_say_why(client: TestClient, session: Session) -> None:
    org = organisation(session)
    porteur(session, "presidente@jardins.test", org)
    headers = token(client, "presidente@jardins.test", PASSWORD)
    bad = client.post(
        f"/api/v1/organisations/{org.id}/invitations", headers=headers, json={"email": "pas-une-adresse"}
    )
    assert bad.status_code == 422 and bad.json()["detail"]["errors"][0]["path"] == "email"
    member = client.post(
        f"/api/v1/organisations/{org.id}/invitations",
        headers=headers,
        json={"email": "presidente@jardins.test"},
    )
    assert member.status_code == 409 and member.json()["detail"]["code"] == "deja_membre"


def test_only_members_see_and_manage_the_members(client: TestClient, session: Session) -> None:
    org = organisation(session)
    porteur(session, "presidente@jardins.test", org)
    porteur(session, "intrus@ailleurs.test", organisation(session, "Autre asso", "35600000000048"))
    intruder = token(client, "intrus@ailleurs.test", PASSWORD)
    assert client.get(f"/api/v1/organisations/{org.id}/members", headers=intruder).status_code == 404
    invite = client.post(
        f"/api/v1/organisations/{org.id}/invitations", headers=intruder, json={"email": "x@y.test"}
    )
    assert invite.status_code == 404


def test_a_member_is_removed_and_the_last_one_cannot_leave(client: TestClient, session: Session) -> None:
    org = organisation(session)
    first = porteur(session, "presidente@jardins.test", org)
    second = porteur(session, "tresorier@jardins.test", org)
    headers = token(client, "presidente@jardins.test", PASSWORD)
    assert (
        client.delete(f"/api/v1/organisations/{org.id}/members/{second.id}", headers=headers).status_code
        == 200
    )
    assert (
        client.get("/api/v1/me", headers=token(client, "tresorier@jardins.test", PASSWORD)).json()[
            "organisations"
        ]
        == []
    )
    last = client.delete(f"/api/v1/organisations/{org.id}/members/{first.id}", headers=headers)
    assert last.status_code == 409 and last.json()["detail"]["code"] == "dernier_membre"


def test_the_members_page_invites_a_colleague_and_says_what_is_wrong(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    org = organisation(session)
    porteur(session, "presidente@jardins.test", org, name="Nadia Benali")
    web_login(client, "presidente@jardins.test", PASSWORD)
    url = f"/mon-compte/organismes/{org.id}"
    page = client.get(url)
    assert page.status_code == 200 and "Nadia Benali (vous)" in page.text
    sent = client.post(
        f"{url}/invitations", data={"csrf": csrf_of(client, url), "email": "colibri@jardins.test"}
    )
    assert sent.status_code == 200
    text = unescape(sent.text)
    assert "Invitation envoyée à colibri@jardins.test" in text and "Invitations en attente" in text
    refused = client.post(f"{url}/invitations", data={"csrf": csrf_of(client, url), "email": "faux"})
    assert refused.status_code == 422 and "Indiquez une adresse électronique valide" in unescape(refused.text)
    assert mails_to(smtp, "colibri@jardins.test", "compte_invitation")
