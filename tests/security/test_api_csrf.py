"""The API does not take the session cookie alone for a write: a page elsewhere (another port of the
same host is the same site for the browser) could otherwise abandon a dossier in the victim's name."""

from fastapi.testclient import TestClient

from tests.api.helpers import Actor, drafts, open_campaign
from tests.web.staff_helpers import web_login

PORTEUR = "porteur@demo.aap.test"


def test_a_write_with_the_cookie_alone_is_refused_and_changes_nothing(client: TestClient, demo) -> None:
    draft = drafts(Actor(client, PORTEUR), open_campaign(Actor(client, PORTEUR))["id"])[0]
    browser = TestClient(client.app)
    csrf = web_login(browser, PORTEUR)
    url = f"/api/v1/dossiers/{draft['id']}"
    forged = browser.post(f"{url}/transitions/abandonner", json={})
    assert forged.status_code == 403
    assert forged.json()["detail"]["code"] == "csrf_invalide"
    forged_patch = browser.patch(
        url, json={"answers": {"action": {"lieux": "Piraté"}}}, headers={"If-Match": str(draft["version"])}
    )
    assert forged_patch.status_code == 403
    wrong = browser.patch(
        url,
        json={"answers": {"action": {"lieux": "Piraté"}}},
        headers={"If-Match": str(draft["version"]), "X-CSRF-Token": "pas-le-bon"},
    )
    assert wrong.status_code == 403
    # the cookie still reads (the pages' download links), and nothing was changed
    read = browser.get(url)
    assert read.status_code == 200
    assert read.json()["state"] == "brouillon" and read.json()["version"] == draft["version"]
    # with the session's own token (what a page of this site sends), the write goes through
    saved = browser.patch(
        url,
        json={"answers": {"action": {"lieux": "Maison des associations"}}},
        headers={"If-Match": str(draft["version"]), "X-CSRF-Token": csrf},
    )
    assert saved.status_code == 200, saved.text


def test_a_bearer_token_needs_no_csrf_header(client: TestClient, demo) -> None:
    porteur = Actor(client, PORTEUR)
    draft = drafts(porteur, open_campaign(porteur)["id"])[0]
    saved = porteur.patch(
        f"/api/v1/dossiers/{draft['id']}", {"answers": {"action": {"lieux": "Ici"}}}, draft["version"]
    )
    assert saved.status_code == 200
