"""Registration: the same answer whether the address has an account, the address verified by a
single-use expiring link before any other mail, one organisation per SIRET (a join request instead of a
duplicate), and a password check against common passwords and their patterns."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aap.accounts import links
from aap.clock import now
from aap.models import JoinRequest, Organisation, User
from notifications.query import porteurs_of
from tests.accounts.conftest import (
    PASSWORD,
    SIRET,
    link_in,
    mails_to,
    organisation,
    porteur,
    read,
    token,
)


def body(
    email: str, password: str = PASSWORD, siret: str = SIRET, name: str = "Les Jardins de Manosque"
) -> dict:  # type: ignore[type-arg]
    return {
        "email": email,
        "password": password,
        "full_name": "Camille Martin",
        "organisation": {"name": name, "siret": siret, "city": "Manosque"},
    }


def test_the_answer_is_the_same_whether_the_address_has_an_account(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    porteur(session, "deja@asso.test", organisation(session), name="Déjà Inscrite")
    new = client.post("/api/v1/auth/register", json=body("nouveau@asso.test", siret="73282932000074"))
    known = client.post(
        "/api/v1/auth/register", json=body("deja@asso.test", password="un autre mot de passe long")
    )
    assert new.status_code == known.status_code == 202
    assert new.json() == known.json()

    # the new address gets a verification link; the known one a warning, and its account is unchanged
    assert [m["X-Aap-Rule"] for m in mails_to(smtp, "nouveau@asso.test")] == ["compte_verification"]
    [warning] = mails_to(smtp, "deja@asso.test")
    assert warning["X-Aap-Rule"] == "compte_deja_inscrit"
    assert "Vous avez déjà un compte" in smtp.inbox.text(warning)
    assert "/mot-de-passe-oublie" in smtp.inbox.text(warning)
    token(client, "deja@asso.test", PASSWORD)  # old password still the one
    assert (
        client.post(
            "/api/v1/auth/token",
            data={"username": "deja@asso.test", "password": "un autre mot de passe long"},
        ).status_code
        == 401
    )
    # the page answers the same too
    assert read(session, select(func.count()).select_from(User).where(User.email == "deja@asso.test")) == 1


def test_the_address_is_verified_by_a_single_use_link_before_logging_in(client: TestClient, smtp) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/api/v1/auth/register", json=body("camille@jardins.test")).status_code == 202
    unverified = client.post(
        "/api/v1/auth/token", data={"username": "camille@jardins.test", "password": PASSWORD}
    )
    assert unverified.status_code == 403
    assert unverified.json()["detail"]["code"] == "adresse_non_verifiee"

    [mail] = mails_to(smtp, "camille@jardins.test", "compte_verification")
    raw = link_in(smtp, mail, "/verification")
    page = client.get(
        f"/verification/{raw}"
    )  # opening the link only shows a button: a scanner spends nothing
    assert page.status_code == 200 and "Confirmer mon adresse" in page.text
    done = client.post("/api/v1/auth/verify", json={"token": raw})
    assert done.status_code == 200
    assert done.json()["outcome"] == "organisation_creee"
    assert done.json()["organisation"]["siret"] == SIRET
    me = client.get("/api/v1/me", headers=token(client, "camille@jardins.test", PASSWORD)).json()
    assert me["organisation"]["name"] == "Les Jardins de Manosque"

    again = client.post("/api/v1/auth/verify", json={"token": raw})
    assert again.status_code == 410
    assert again.json()["detail"]["code"] == "lien_deja_utilise"
    assert client.post("/api/v1/auth/verify", json={"token": "n-importe-quoi"}).json()["detail"]["code"] == (
        "lien_invalide"
    )


def test_an_expired_verification_link_is_refused(client: TestClient, session: Session) -> None:
    user = porteur(session, "tard@asso.test")
    user.email_verified_at = None
    raw, _row = links.issue(session, links.VERIFY_EMAIL, user.id, now() - timedelta(days=3))
    session.commit()
    answer = client.post("/api/v1/auth/verify", json={"token": raw})
    assert answer.status_code == 410
    assert answer.json()["detail"] == {
        "code": "lien_expire",
        "message": "Ce lien a expiré : demandez-en un nouveau.",
    }
    page = client.get(f"/verification/{raw}")
    assert page.status_code == 410 and "a expiré" in page.text


def test_a_new_registration_of_an_unverified_address_replaces_the_pending_one(
    client: TestClient, smtp
) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/auth/register", json=body("x@asso.test", name="Squat"))
    client.post(
        "/api/v1/auth/register", json=body("x@asso.test", password="le vrai mot de passe du titulaire")
    )
    first, second = mails_to(smtp, "x@asso.test", "compte_verification")
    old = client.post("/api/v1/auth/verify", json={"token": link_in(smtp, first, "/verification")})
    assert old.json()["detail"]["code"] == "lien_deja_utilise"
    new = client.post("/api/v1/auth/verify", json={"token": link_in(smtp, second, "/verification")})
    assert new.json()["organisation"]["name"] == "Les Jardins de Manosque"
    token(client, "x@asso.test", "le vrai mot de passe du titulaire")


def test_a_known_siret_makes_a_join_request_never_a_second_organisation(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    org = organisation(session)
    member = porteur(session, "presidente@jardins.test", org, name="Nadia Présidente")
    client.post("/api/v1/auth/register", json=body("benevole@jardins.test", name="Jardins (doublon)"))
    raw = link_in(smtp, mails_to(smtp, "benevole@jardins.test")[0], "/verification")
    done = client.post("/api/v1/auth/verify", json={"token": raw}).json()
    assert done["outcome"] == "adhesion_demandee"
    assert done["organisation"]["id"] == org.id
    assert (
        read(session, select(func.count()).select_from(Organisation).where(Organisation.siret == SIRET)) == 1
    )

    [asked] = mails_to(smtp, member.email, "adhesion_demandee")
    assert "benevole@jardins.test" in asked["Subject"]
    assert f"/mon-compte/organismes/{org.id}" in smtp.inbox.text(asked)
    requester = token(client, "benevole@jardins.test", PASSWORD)
    assert client.get("/api/v1/me", headers=requester).json()["organisations"] == []

    members = client.get(
        f"/api/v1/organisations/{org.id}/members", headers=token(client, member.email, PASSWORD)
    )
    [request] = members.json()["join_requests"]
    assert request["user"]["email"] == "benevole@jardins.test"
    # the requester is not a member yet: the organisation does not exist for them
    assert client.get(f"/api/v1/organisations/{org.id}/members", headers=requester).status_code == 404

    accepted = client.post(
        f"/api/v1/organisations/{org.id}/join-requests/{request['id']}",
        headers=token(client, member.email, PASSWORD),
        json={"decision": "accepter"},
    )
    assert accepted.json()["state"] == "acceptee"
    assert [o["id"] for o in client.get("/api/v1/me", headers=requester).json()["organisations"]] == [org.id]
    assert mails_to(smtp, "benevole@jardins.test", "adhesion_decidee")
    twice = client.post(
        f"/api/v1/organisations/{org.id}/join-requests/{request['id']}",
        headers=token(client, member.email, PASSWORD),
        json={"decision": "refuser"},
    )
    assert twice.status_code == 409


def test_a_refused_join_request_leaves_the_requester_outside(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    org = organisation(session)
    member = porteur(session, "presidente@jardins.test", org)
    client.post("/api/v1/auth/register", json=body("inconnu@ailleurs.test"))
    client.post(
        "/api/v1/auth/verify",
        json={"token": link_in(smtp, mails_to(smtp, "inconnu@ailleurs.test")[0], "/verification")},
    )
    request_id = read(session, select(JoinRequest.id))
    assert request_id is not None
    refused = client.post(
        f"/api/v1/organisations/{org.id}/join-requests/{request_id}",
        headers=token(client, member.email, PASSWORD),
        json={"decision": "refuser"},
    )
    assert refused.json()["state"] == "refusee"
    assert (
        client.get("/api/v1/me", headers=token(client, "inconnu@ailleurs.test", PASSWORD)).json()[
            "organisations"
        ]
        == []
    )
    [decision] = mails_to(smtp, "inconnu@ailleurs.test", "adhesion_decidee")
    assert "refusée" in decision["Subject"]


def test_common_and_patterned_passwords_are_refused_in_french(client: TestClient, smtp) -> None:  # type: ignore[no-untyped-def]
    for weak in ("azertyuiop12", "motdepasse123", "Manosque2026!", "court"):
        answer = client.post("/api/v1/auth/register", json=body("camille@jardins.test", password=weak))
        assert answer.status_code == 422, weak
        [error] = answer.json()["detail"]["errors"]
        assert error["path"] == "password" and error["code"] == "mot_de_passe_faible"
        assert "mot de passe" in error["message"].lower()
    assert smtp.inbox.messages == []  # nothing recorded, nothing sent


def test_every_form_problem_at_once_and_nothing_about_the_address(
    client: TestClient, session: Session
) -> None:
    porteur(session, "deja@asso.test")
    answer = client.post(
        "/api/v1/auth/register",
        json=body("deja@asso.test", password="court", siret="12345678901234", name=""),
    )
    assert answer.status_code == 422
    paths = {e["path"]: e["code"] for e in answer.json()["detail"]["errors"]}
    assert paths == {"password": "mot_de_passe_faible", "name": "required", "siret": "siret_invalide"}


def test_no_other_mail_goes_to_an_unverified_address(session: Session) -> None:
    org = organisation(session)
    verified = porteur(session, "ok@asso.test", org)
    unverified = porteur(session, "pas-encore@asso.test", org)
    unverified.email_verified_at = None
    session.commit()
    assert [r.email for r in porteurs_of(session, [org.id])[org.id]] == [verified.email]


def test_the_registration_page_says_check_your_mailbox_whatever_the_address(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    import re

    porteur(session, "deja@asso.test")
    pages = []
    for email in ("deja@asso.test", "nouvelle@asso.test"):
        form = client.get("/inscription").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        data = {"csrf": csrf, "email": email, "password": PASSWORD, "name": "Asso", "siret": SIRET}
        response = client.post("/inscription", data=data)
        assert response.status_code == 200
        pages.append(response.text.replace(email, "ADRESSE"))
    assert pages[0] == pages[1]
    assert "Vérifiez votre messagerie" in pages[0]


def test_the_verification_page_logs_in_and_tells_the_join_request(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    from html import unescape

    from tests.accounts.conftest import csrf_of

    org = organisation(session)
    porteur(session, "presidente@jardins.test", org)
    client.post("/api/v1/auth/register", json=body("benevole@jardins.test"))
    raw = link_in(smtp, mails_to(smtp, "benevole@jardins.test")[0], "/verification")
    page = client.post(f"/verification/{raw}", data={"csrf": csrf_of(client, f"/verification/{raw}")})
    assert page.status_code == 200
    text = unescape(page.text)
    assert (
        "« Les Jardins de Manosque » a déjà un compte : votre demande pour le rejoindre est transmise" in text
    )
    assert "Vous n'êtes encore membre d'aucun organisme" in text  # landed on « Mon compte », logged in
    assert mails_to(smtp, "presidente@jardins.test", "adhesion_demandee")  # sent right away


def test_two_verifications_of_the_same_new_siret_at_once_make_one_organisation(session: Session) -> None:
    import threading

    from sqlalchemy.orm import sessionmaker

    from aap.accounts import registration

    raws = []
    for email in ("un@asso.test", "deux@asso.test"):
        registration.register(
            session, email, PASSWORD, {"name": "Asso", "siret": SIRET}, now=now(), base_url="http://x"
        )
        user_id = read(session, select(User.id).where(User.email == email))
        raw, _ = links.issue(
            session,
            links.VERIFY_EMAIL,
            user_id,
            now(),
            data={"organisation": {"name": "Asso", "siret": SIRET}},
        )
        session.commit()
        raws.append(raw)
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    barrier, outcomes = threading.Barrier(2), []

    def verify(raw: str) -> None:
        with factory() as s:
            barrier.wait()
            outcomes.append(registration.verify(s, raw, now=now(), base_url="http://x").outcome)

    threads = [threading.Thread(target=verify, args=(raw,)) for raw in raws]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["adhesion_demandee", "organisation_creee"]
    assert (
        read(session, select(func.count()).select_from(Organisation).where(Organisation.siret == SIRET)) == 1
    )


def test_the_login_page_asks_an_unverified_account_to_open_its_link(client: TestClient, smtp) -> None:  # type: ignore[no-untyped-def]
    from html import unescape

    from tests.accounts.conftest import csrf_of

    client.post("/api/v1/auth/register", json=body("camille@jardins.test"))
    data = {"email": "camille@jardins.test", "password": PASSWORD, "csrf": csrf_of(client, "/connexion")}
    page = client.post("/connexion", data=data)
    assert page.status_code == 403
    assert "Confirmez d'abord votre adresse électronique" in unescape(page.text)
    wrong = client.post(
        "/connexion", data={**data, "password": "pas le bon", "csrf": csrf_of(client, "/connexion")}
    )
    assert wrong.status_code == 401  # without the password, nothing says the account exists


def test_long_passwords_and_nul_characters_are_answered_not_crashed(client: TestClient) -> None:
    long_ok = client.post("/api/v1/auth/register", json=body("long@asso.test", password="une phrase " * 15))
    assert long_ok.status_code == 202
    long_weak = client.post("/api/v1/auth/register", json=body("long@asso.test", password="a" * 150))
    assert long_weak.status_code == 422
    nul = client.post("/api/v1/auth/register", json={**body("nul@asso.test"), "full_name": "Ca\x00mille"})
    assert nul.status_code == 422 and nul.json()["detail"]["errors"][0]["code"] == "caractere_interdit"
    nul_email = client.post("/api/v1/auth/register", json=body("n\x00ul@asso.test"))
    assert nul_email.status_code == 422 and nul_email.json()["detail"]["errors"][0]["path"] == "email"
