"""The service answers, documents itself, and knows who is calling."""

import pytest
from fastapi.testclient import TestClient

from tests.conftest import login

DEMO_ACCOUNTS = {
    "admin@demo.aap.test": ("admin", None),
    "instructeur@demo.aap.test": ("instructeur", None),
    "porteur@demo.aap.test": ("porteur", "Association Horizon Manosque"),
    "porteur2@demo.aap.test": ("porteur", "Les Passerelles du Luberon"),
    "etat@demo.aap.test": ("financeur", "ETAT"),
    "agglo@demo.aap.test": ("financeur", "DLVA"),
    "ville@demo.aap.test": ("financeur", "MANOSQUE"),
    "caf@demo.aap.test": ("financeur", "CAF"),
}


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/api/v1/health").status_code == 200
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/dossiers/{dossier_id}/transitions/{name}" in spec["paths"]
    assert "1234.50" in spec["info"]["description"]
    schemas = spec["components"]["schemas"]
    dossier = schemas["DossierOut"]["properties"]
    assert {"id", "campaign_id", "state", "version", "answers", "cofinancements", "transitions"} <= set(
        dossier
    )
    line = schemas["CofinancementOut"]["properties"]
    assert {"financeur", "montant_demande", "montant_propose", "decision", "montant_accorde"} <= set(line)
    assert {"transition", "from", "to", "by", "role", "at", "comment"} <= set(
        schemas["HistoryItem"]["properties"]
    )


def test_home_page_offers_a_login_form(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "Se connecter" in page.text
    form = client.get("/connexion").text
    assert '<label for="email">' in form and '<label for="password">' in form


@pytest.mark.parametrize("email", sorted(DEMO_ACCOUNTS))
def test_each_demo_account_logs_in_and_knows_its_role(client: TestClient, demo, email: str) -> None:
    role, attachment = DEMO_ACCOUNTS[email]
    me = client.get("/api/v1/me", headers=login(client, email)).json()
    assert me["email"] == email
    assert me["role"] == role
    if role == "porteur":
        assert me["organisation"]["name"] == attachment
    if role == "financeur":
        assert me["financeur"]["code"] == attachment


def test_wrong_password_and_unknown_account_get_the_same_401(client: TestClient, demo) -> None:
    wrong = client.post("/api/v1/auth/token", data={"username": "porteur@demo.aap.test", "password": "nope"})
    unknown = client.post("/api/v1/auth/token", data={"username": "nobody@demo.aap.test", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["detail"]["code"] == "identifiants_invalides"


def test_api_refuses_anonymous_and_forged_tokens(client: TestClient, demo) -> None:
    assert client.get("/api/v1/me").status_code == 401
    forged = client.get("/api/v1/me", headers={"Authorization": "Bearer abc.def"})
    assert forged.status_code == 401
    assert forged.json()["detail"]["code"] == "jeton_invalide"


def test_campaigns_carry_the_contract_fields(client: TestClient, demo) -> None:
    headers = login(client, "porteur@demo.aap.test")
    body = client.get("/api/v1/campaigns", headers=headers).json()
    assert body["total"] == 2
    open_call, previous = body["items"]
    assert open_call["year"] == previous["year"] + 1
    for field in (
        "lancement",
        "depot_ouverture",
        "depot_cloture",
        "comite_technique",
        "validation",
        "bilan_limite",
    ):
        assert field in open_call["dates"]
    assert open_call["depot_ouvert"] is True and open_call["state"] == "depot"
    assert {f["code"] for f in open_call["financeurs"]} == {"ETAT", "DLVA", "MANOSQUE", "CAF"}
    assert all(
        f["enveloppe"].count(".") == 1 and len(f["enveloppe"].split(".")[1]) == 2
        for f in open_call["financeurs"]
    )
    one = client.get(f"/api/v1/campaigns/{open_call['id']}", headers=headers).json()
    assert one["code"] == open_call["code"]
    assert client.get("/api/v1/campaigns/999999", headers=headers).status_code == 404


def test_web_login_sets_a_session_and_logout_clears_it(client: TestClient, demo) -> None:
    page = client.get("/connexion").text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    bad = client.post("/connexion", data={"email": "porteur@demo.aap.test", "password": "x", "csrf": csrf})
    assert bad.status_code == 401 and "incorrect" in bad.text
    ok = client.post(
        "/connexion",
        data={"email": "porteur@demo.aap.test", "password": "demo", "csrf": csrf},
        follow_redirects=False,
    )
    # the session cookie is set on the redirect itself: its flags are checked there, not after following it
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"].lower()
    assert cookie.startswith("aap_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # served over http in the tests; https_only follows AAP_BASE_URL
    assert "Samira Benali" in client.get(ok.headers["location"]).text
    assert client.get("/api/v1/me").json()["email"] == "porteur@demo.aap.test"
    client.post(
        "/deconnexion", data={"csrf": client.get("/").text.split('name="csrf" value="')[1].split('"')[0]}
    )
    assert client.get("/api/v1/me").status_code == 401


def test_a_form_post_without_csrf_token_is_refused(client: TestClient, demo) -> None:
    response = client.post("/connexion", data={"email": "porteur@demo.aap.test", "password": "demo"})
    assert response.status_code == 403
