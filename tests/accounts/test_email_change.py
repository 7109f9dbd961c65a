"""Changing one's address: the current password, then a link sent to the new address; the old address is
told; an address that has an account gets the same answer and no link."""

from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

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


def test_the_new_address_is_confirmed_by_its_link_and_the_old_one_is_told(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    porteur(session, "ancienne@asso.test", organisation(session))
    headers = token(client, "ancienne@asso.test", PASSWORD)
    wrong = client.post(
        "/api/v1/me/email", headers=headers, json={"email": "nouvelle@asso.test", "current_password": "x"}
    )
    assert (
        wrong.status_code == 422
        and wrong.json()["detail"]["errors"][0]["code"] == "mot_de_passe_actuel_incorrect"
    )
    asked = client.post(
        "/api/v1/me/email",
        headers=headers,
        json={"email": "Nouvelle@asso.test", "current_password": PASSWORD},
    )
    assert asked.status_code == 202
    [mail] = mails_to(smtp, "nouvelle@asso.test", "compte_changement_adresse")
    assert (
        client.get("/api/v1/me", headers=headers).json()["email"] == "ancienne@asso.test"
    )  # not before the link

    done = client.post(
        "/api/v1/auth/email-change/confirm", json={"token": link_in(smtp, mail, "/changement-adresse")}
    )
    assert done.status_code == 200 and done.json()["email"] == "nouvelle@asso.test"
    token(client, "nouvelle@asso.test", PASSWORD)
    [told] = mails_to(smtp, "ancienne@asso.test", "compte_adresse_changee")
    assert "nouvelle@asso.test" in smtp.inbox.text(told)


def test_an_address_with_an_account_gets_the_same_answer_and_no_link(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    porteur(session, "moi@asso.test")
    porteur(session, "prise@asso.test")
    headers = token(client, "moi@asso.test", PASSWORD)
    taken = client.post(
        "/api/v1/me/email", headers=headers, json={"email": "prise@asso.test", "current_password": PASSWORD}
    )
    free = client.post(
        "/api/v1/me/email", headers=headers, json={"email": "libre@asso.test", "current_password": PASSWORD}
    )
    assert taken.status_code == free.status_code == 202 and taken.json() == free.json()
    assert mails_to(smtp, "prise@asso.test") == []
    assert len(mails_to(smtp, "libre@asso.test")) == 1


def test_the_account_page_changes_the_address(client: TestClient, session: Session, smtp) -> None:  # type: ignore[no-untyped-def]
    porteur(session, "ancienne@asso.test")
    web_login(client, "ancienne@asso.test", PASSWORD)
    refused = client.post(
        "/mon-compte/adresse",
        data={"csrf": csrf_of(client, "/mon-compte"), "email": "faux", "email_password": PASSWORD},
    )
    assert refused.status_code == 422 and "Indiquez une adresse électronique valide" in unescape(refused.text)
    client.post(
        "/mon-compte/adresse",
        data={
            "csrf": csrf_of(client, "/mon-compte"),
            "email": "nouvelle@asso.test",
            "email_password": PASSWORD,
        },
    )
    raw = link_in(smtp, mails_to(smtp, "nouvelle@asso.test")[0], "/changement-adresse")
    page = client.get(f"/changement-adresse/{raw}")
    assert "nouvelle@asso.test" in page.text
    done = client.post(
        f"/changement-adresse/{raw}", data={"csrf": csrf_of(client, f"/changement-adresse/{raw}")}
    )
    assert done.status_code == 200 and "Votre adresse est désormais nouvelle@asso.test" in unescape(done.text)
