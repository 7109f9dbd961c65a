"""Input PostgreSQL cannot store is refused with 422 on both databases (never a 500); a creation's
answers get the checks of a save; oversized and unparsable bodies get a French refusal."""

from fastapi.testclient import TestClient

from tests.api.helpers import Actor, drafts, open_campaign
from tests.web.staff_helpers import csrf_of

PORTEUR = "porteur@demo.aap.test"


def _count(porteur: Actor, campaign_id: int) -> int:
    return porteur.get("/api/v1/dossiers", params={"campaign_id": campaign_id}).json()["total"]


def test_a_creation_s_answers_get_the_checks_of_a_save(client: TestClient, demo) -> None:
    porteur = Actor(client, PORTEUR)
    campaign = open_campaign(porteur)
    before = _count(porteur, campaign["id"])
    url = f"/api/v1/campaigns/{campaign['id']}/dossiers"
    too_long = porteur.post(url, json={"answers": {"action": {"lieux": "x" * 2001}}})
    assert too_long.status_code == 422, too_long.text
    [error] = too_long.json()["detail"]["errors"]
    assert error["path"].endswith("lieux") and "2000 caractères au plus" in error["message"]
    assert porteur.post(url, json={"answers": {"action": {"lieux": "Salle Jean Moulin"}}}).status_code == 201
    assert _count(porteur, campaign["id"]) == before + 1


def test_a_body_of_several_megabytes_is_refused_before_it_is_read(client: TestClient, demo) -> None:
    porteur = Actor(client, PORTEUR)
    campaign = open_campaign(porteur)
    huge = porteur.post(
        f"/api/v1/campaigns/{campaign['id']}/dossiers",
        json={"answers": {"action": {"description": "x" * 3_000_000}}},
    )
    assert huge.status_code == 413
    assert huge.json()["detail"]["code"] == "requete_trop_volumineuse"


def test_nul_characters_and_lone_surrogates_are_refused_on_every_database(client: TestClient, demo) -> None:
    porteur = Actor(client, PORTEUR)
    draft = drafts(porteur, open_campaign(porteur)["id"])[0]
    url = f"/api/v1/dossiers/{draft['id']}"
    for raw in ('"avant\\u0000après"', '"\\ud800 seul"', '"fin \\udfff"'):
        body = '{"answers": {"action": {"lieux": ' + raw + "}}}"
        r = client.patch(
            url,
            content=body.encode(),
            headers={
                **porteur.headers,
                "If-Match": str(draft["version"]),
                "Content-Type": "application/json",
            },
        )
        assert r.status_code == 422, (raw, r.status_code, r.text)
        assert r.json()["detail"]["errors"][0]["code"] == "caractere_invalide"
    # a properly paired surrogate (an emoji) is fine
    ok = porteur.patch(url, {"answers": {"action": {"lieux": "Jardin 🌱"}}}, draft["version"])
    assert ok.status_code == 200
    assert porteur.get(url).json()["answers"]["action"]["lieux"] == "Jardin 🌱"


def test_registration_fields_longer_than_their_columns_are_refused_by_field(client: TestClient, demo) -> None:
    csrf = csrf_of(client.get("/inscription").text)
    form = {
        "csrf": csrf,
        "email": "nouvelle@asso.test",
        "full_name": "Camille Martin",
        "name": "Association " + "a" * 400,
        "siret": "73282932000074",
        "city": "Manosque" * 40,
        "password": "un mot de passe assez long",
    }
    page = client.post("/inscription", data=form)
    assert page.status_code == 422, page.text[:500]
    assert "dépasse 300 caractères" in page.text
    form["name"] = "Nul\x00part"
    assert client.post("/inscription", data={**form, "city": "Manosque"}).status_code == 422


def test_an_unparsable_body_is_refused_in_french(client: TestClient, demo) -> None:
    porteur = Actor(client, PORTEUR)
    draft = drafts(porteur, open_campaign(porteur)["id"])[0]
    for body in (b"{pas du json", b"\xff\xfe\x00"):
        r = client.patch(
            f"/api/v1/dossiers/{draft['id']}",
            content=body,
            headers={
                **porteur.headers,
                "If-Match": str(draft["version"]),
                "Content-Type": "application/json",
            },
        )
        assert r.status_code in (400, 422), r.text
        assert (
            "JSON" in r.json()["detail"]["message"]
            or r.json()["detail"]["errors"][0]["message"] == "JSON invalide"
        )
    bad_form = client.post(
        "/api/v1/auth/token",
        content=b"username=a&password=%ZZ%",
        headers={"Content-Type": "multipart/form-data"},
    )
    assert bad_form.status_code == 400
    assert bad_form.json()["detail"]["code"] == "requete_illisible", bad_form.text
