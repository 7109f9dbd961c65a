"""Sessions that end: a captured session cookie and a bearer token stop working at once after logout,
a password change or a deactivation."""

from collections.abc import Callable
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from aap.accounts.security import _serializer
from tests.accounts.conftest import PASSWORD, admin, csrf_of, organisation, porteur, token, web_login

EMAIL = "porteur@asso.test"


def captured_cookie(client: TestClient) -> str:
    cookie = client.cookies.get("aap_session")
    assert cookie
    return cookie


def works(app, cookie: str, bearer: dict[str, str]) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """What an attacker holding the cookie and the token gets: (page status, API status)."""
    with TestClient(app) as other:
        other.cookies.set("aap_session", cookie)
        page = other.get("/mon-compte", follow_redirects=False).status_code
    with TestClient(app) as other:
        api = other.get("/api/v1/me", headers=bearer).status_code
    return page, api


@pytest.fixture
def logged_in(client: TestClient, session: Session):  # type: ignore[no-untyped-def]
    porteur(session, EMAIL, organisation(session))
    web_login(client, EMAIL, PASSWORD)
    return captured_cookie(client), token(client, EMAIL, PASSWORD)


def logout_web(client: TestClient, session: Session) -> None:
    response = client.post(
        "/deconnexion", data={"csrf": csrf_of(client, "/mon-compte")}, follow_redirects=False
    )
    assert response.status_code == 303


def logout_api(client: TestClient, session: Session) -> None:
    headers = token(client, EMAIL, PASSWORD)
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 200


@pytest.mark.parametrize("logout", [logout_web, logout_api], ids=["page", "api"])
def test_after_logout_a_captured_cookie_and_a_bearer_token_stop_working(
    app, client: TestClient, session: Session, logged_in, logout: Callable[[TestClient, Session], None]
) -> None:  # type: ignore[no-untyped-def]
    cookie, bearer = logged_in
    assert works(app, cookie, bearer) == (200, 200)
    logout(client, session)
    assert works(app, cookie, bearer) == (303, 401)  # the page sends to the login page
    with TestClient(app) as other:
        refused = other.get("/api/v1/me", headers=bearer).json()["detail"]
    assert refused["code"] == "jeton_invalide"
    assert "révoqué" in refused["message"]
    # logging in again works, with a new token
    assert client.get("/api/v1/me", headers=token(client, EMAIL, PASSWORD)).status_code == 200


def test_after_a_password_change_old_sessions_and_tokens_stop_but_this_browser_stays(
    app, client: TestClient, logged_in
) -> None:  # type: ignore[no-untyped-def]
    cookie, bearer = logged_in
    new = "trois chats gris sur le toit"
    response = client.post(
        "/mon-compte/mot-de-passe",
        data={"csrf": csrf_of(client, "/mon-compte"), "current_password": PASSWORD, "new_password": new},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert works(app, cookie, bearer) == (303, 401)
    page = client.get("/mon-compte")  # the browser that changed it keeps a fresh session
    assert page.status_code == 200 and "Vos autres sessions et jetons d'accès sont fermés" in unescape(
        page.text
    )
    assert (
        client.post("/api/v1/auth/token", data={"username": EMAIL, "password": PASSWORD}).status_code == 401
    )
    token(client, EMAIL, new)


def test_password_change_over_the_api_answers_a_new_token_and_checks_the_current_password(
    client: TestClient, logged_in
) -> None:  # type: ignore[no-untyped-def]
    _cookie, bearer = logged_in
    wrong = client.post(
        "/api/v1/me/password", headers=bearer, json={"current_password": "faux", "new_password": "x" * 12}
    )
    assert wrong.status_code == 422
    assert {e["path"] for e in wrong.json()["detail"]["errors"]} == {"current_password"}
    weak = client.post(
        "/api/v1/me/password",
        headers=bearer,
        json={"current_password": PASSWORD, "new_password": "motdepasse123"},
    )
    assert weak.status_code == 422
    assert weak.json()["detail"]["errors"][0]["code"] == "mot_de_passe_faible"
    assert client.get("/api/v1/me", headers=bearer).status_code == 200  # a refused change cuts nothing
    ok = client.post(
        "/api/v1/me/password",
        headers=bearer,
        json={"current_password": PASSWORD, "new_password": "trois chats gris sur le toit"},
    )
    assert ok.status_code == 200
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    fresh = {"Authorization": f"Bearer {ok.json()['access_token']}"}
    assert client.get("/api/v1/me", headers=fresh).json()["email"] == EMAIL


def test_an_admin_deactivates_an_account_and_its_sessions_and_tokens_stop_at_once(
    app, client: TestClient, session: Session
) -> None:  # type: ignore[no-untyped-def]
    boss = admin(session)
    org = organisation(session)
    org.territory_id = boss.territory_id
    session.commit()
    victim = porteur(session, EMAIL, org)
    web_login(client, EMAIL, PASSWORD)
    cookie, bearer = captured_cookie(client), token(client, EMAIL, PASSWORD)
    admin_headers = token(client, boss.email, PASSWORD)

    answer = client.patch(f"/api/v1/users/{victim.id}", headers=admin_headers, json={"active": False})
    assert answer.status_code == 200 and answer.json()["active"] is False
    assert works(app, cookie, bearer) == (303, 401)
    assert (
        client.post("/api/v1/auth/token", data={"username": EMAIL, "password": PASSWORD}).status_code == 401
    )

    assert (
        client.patch(f"/api/v1/users/{victim.id}", headers=admin_headers, json={"active": True}).status_code
        == 200
    )
    assert works(app, cookie, bearer) == (303, 401)  # reactivation does not revive old sessions
    token(client, EMAIL, PASSWORD)

    own = client.patch(f"/api/v1/users/{boss.id}", headers=admin_headers, json={"active": False})
    assert own.status_code == 422 and own.json()["detail"]["code"] == "auto_desactivation"
    porteur_headers = token(client, EMAIL, PASSWORD)
    refused = client.patch(f"/api/v1/users/{boss.id}", headers=porteur_headers, json={"active": False})
    assert refused.status_code == 403


def test_an_admin_cannot_deactivate_an_account_of_another_territory(
    client: TestClient, session: Session
) -> None:
    boss = admin(session)
    stranger = porteur(session, "ailleurs@asso.test", organisation(session))  # organisation of no territory
    answer = client.patch(
        f"/api/v1/users/{stranger.id}", headers=token(client, boss.email, PASSWORD), json={"active": False}
    )
    assert answer.status_code == 404


def test_the_admin_page_deactivates_an_account(app, client: TestClient, session: Session) -> None:  # type: ignore[no-untyped-def]
    boss = admin(session)
    org = organisation(session)
    org.territory_id = boss.territory_id
    session.commit()
    victim = porteur(session, EMAIL, org)
    bearer = token(client, EMAIL, PASSWORD)
    web_login(client, boss.email, PASSWORD)
    page = client.get("/admin/utilisateurs")
    assert f"Désactiver {EMAIL}" in page.text
    done = client.post(
        f"/admin/utilisateurs/{victim.id}/desactiver", data={"csrf": csrf_of(client, "/admin/utilisateurs")}
    )
    assert done.status_code == 200
    assert f"Compte {EMAIL} désactivé" in unescape(done.text) and f"Réactiver {EMAIL}" in done.text
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_token_without_session_generation_is_refused(client: TestClient, session: Session) -> None:
    user = porteur(session, EMAIL, organisation(session))
    old_style = _serializer("test-secret").dumps({"uid": user.id})  # as issued before this change
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {old_style}"}).status_code == 401
