"""Forgotten password: a single-use link valid for an hour, sent only to an active verified account, and
the same answer whatever the address; the new password cuts every session."""

from datetime import timedelta
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from aap.accounts import links
from aap.clock import now
from tests.accounts.conftest import PASSWORD, csrf_of, link_in, mails_to, organisation, porteur, token

NEW = "sept tortues dansent la polka"


def test_the_same_answer_whether_the_address_has_an_account(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    porteur(session, "camille@jardins.test", organisation(session))
    known = client.post("/api/v1/auth/password-reset", json={"email": "Camille@Jardins.test"})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "personne@nulle-part.test"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [m["To"] for m in smtp.inbox.messages] == ["camille@jardins.test"]
    assert smtp.inbox.messages[0]["X-Aap-Rule"] == "compte_reinitialisation"


def test_the_page_answers_the_same_too(client: TestClient, session: Session, smtp) -> None:  # type: ignore[no-untyped-def]
    porteur(session, "camille@jardins.test")
    texts = []
    for email in ("camille@jardins.test", "personne@nulle-part.test"):
        page = client.post(
            "/mot-de-passe-oublie", data={"csrf": csrf_of(client, "/mot-de-passe-oublie"), "email": email}
        )
        assert page.status_code == 200
        texts.append(unescape(page.text).replace(email, "X"))
    assert texts[0] == texts[1]
    assert "Si un compte actif existe avec cette adresse" in texts[0]


def test_no_link_for_a_deactivated_or_unverified_account(client: TestClient, session: Session, smtp) -> None:  # type: ignore[no-untyped-def]
    off = porteur(session, "off@asso.test")
    off.active = False
    pending = porteur(session, "pending@asso.test")
    pending.email_verified_at = None
    session.commit()
    for email in ("off@asso.test", "pending@asso.test"):
        assert client.post("/api/v1/auth/password-reset", json={"email": email}).status_code == 202
    assert smtp.inbox.messages == []


def test_the_link_sets_a_new_password_once_and_cuts_every_session(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    porteur(session, "camille@jardins.test", organisation(session))
    old_token = token(client, "camille@jardins.test", PASSWORD)
    client.post("/api/v1/auth/password-reset", json={"email": "camille@jardins.test"})
    raw = link_in(smtp, mails_to(smtp, "camille@jardins.test")[0], "/reinitialiser")

    weak = client.post("/api/v1/auth/password-reset/confirm", json={"token": raw, "password": "azertyuiop12"})
    assert weak.status_code == 422 and weak.json()["detail"]["errors"][0]["path"] == "password"
    ok = client.post("/api/v1/auth/password-reset/confirm", json={"token": raw, "password": NEW})
    assert ok.status_code == 200  # a refused password did not spend the link
    assert client.get("/api/v1/me", headers=old_token).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "camille@jardins.test", "password": PASSWORD}
        ).status_code
        == 401
    )
    token(client, "camille@jardins.test", NEW)
    again = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": raw, "password": "encore un autre mot de passe"}
    )
    assert again.status_code == 410 and again.json()["detail"]["code"] == "lien_deja_utilise"


def test_a_newer_link_replaces_the_older_and_an_expired_link_is_refused(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    user = porteur(session, "camille@jardins.test")
    client.post("/api/v1/auth/password-reset", json={"email": "camille@jardins.test"})
    client.post("/api/v1/auth/password-reset", json={"email": "camille@jardins.test"})
    first, second = mails_to(smtp, "camille@jardins.test")
    old = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": link_in(smtp, first, "/reinitialiser"), "password": NEW},
    )
    assert old.json()["detail"]["code"] == "lien_deja_utilise"

    raw, _ = links.issue(session, links.RESET_PASSWORD, user.id, now() - timedelta(hours=2))
    session.commit()
    late = client.post("/api/v1/auth/password-reset/confirm", json={"token": raw, "password": NEW})
    assert late.status_code == 410 and late.json()["detail"]["code"] == "lien_expire"
    assert link_in(smtp, second, "/reinitialiser")


def test_the_reset_pages(client: TestClient, session: Session, smtp) -> None:  # type: ignore[no-untyped-def]
    porteur(session, "camille@jardins.test")
    login_page = client.get("/connexion")
    assert 'href="/mot-de-passe-oublie"' in login_page.text
    client.post(
        "/mot-de-passe-oublie",
        data={"csrf": csrf_of(client, "/mot-de-passe-oublie"), "email": "camille@jardins.test"},
    )
    raw = link_in(smtp, mails_to(smtp, "camille@jardins.test")[0], "/reinitialiser")
    page = client.get(f"/reinitialiser/{raw}")
    assert page.status_code == 200 and "camille@jardins.test" in page.text
    csrf = csrf_of(client, f"/reinitialiser/{raw}")
    refused = client.post(f"/reinitialiser/{raw}", data={"csrf": csrf, "password": "court"})
    assert refused.status_code == 422 and "au moins 10 caractères" in unescape(refused.text)
    done = client.post(f"/reinitialiser/{raw}", data={"csrf": csrf, "password": NEW})
    assert done.status_code == 200 and "Votre mot de passe est changé" in unescape(done.text)
    assert client.get(f"/reinitialiser/{raw}").status_code == 410


def test_at_most_five_links_an_hour_reach_one_mailbox(client: TestClient, session: Session, smtp) -> None:  # type: ignore[no-untyped-def]
    porteur(session, "camille@jardins.test")
    answers = {
        client.post("/api/v1/auth/password-reset", json={"email": "camille@jardins.test"}).text
        for _ in range(7)
    }
    assert len(answers) == 1  # the same answer every time
    assert len(mails_to(smtp, "camille@jardins.test", "compte_reinitialisation")) == 5


def test_reminders_and_digests_wait_for_the_cron_pass_while_links_go_at_once(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    from aap.models import Notification

    session.add(
        Notification(
            key="rappel:1",
            rule="brouillon_avant_cloture",
            recipient="x@asso.test",
            subject="Rappel",
            body_text="…",
            status="pending",
            audience="porteurs",
        )
    )
    session.commit()
    porteur(session, "camille@jardins.test")
    client.post("/api/v1/auth/password-reset", json={"email": "camille@jardins.test"})
    assert [m["To"] for m in smtp.inbox.messages] == ["camille@jardins.test"]
