"""Reconduction: last year's action starts this year's draft, descriptions kept, dates and amounts to review."""

from fastapi.testclient import TestClient

from tests.api.helpers import Actor, open_campaign, previous_campaign


def _conventioned(porteur: Actor) -> list[dict]:
    """Last year's funded dossiers of this porteur not renewed yet (the demo renewed all but one)."""
    previous = previous_campaign(porteur)
    items = porteur.get("/api/v1/dossiers", params={"campaign_id": previous["id"]}).json()["items"]
    renewed = {d["reconducted_from"] for d in porteur.get("/api/v1/dossiers").json()["items"]}
    return [
        d
        for d in items
        if d["state"] in ("conventionne", "bilan_depose", "cloture") and d["id"] not in renewed
    ]


def test_a_dossier_of_the_previous_campaign_is_reconducted_into_the_open_one(
    client: TestClient, demo
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    campaign = open_campaign(porteur)
    [old, *_] = _conventioned(porteur)
    old_answers = old["answers"]

    response = porteur.post(f"/api/v1/dossiers/{old['id']}/reconduire", json={"campaign_id": campaign["id"]})
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["state"] == "brouillon" and new["campaign_id"] == campaign["id"]
    assert new["reconducted_from"] == old["id"] and new["id"] != old["id"]
    assert new["organisation"] == old["organisation"]
    assert new["title"] == old["title"]
    action = new["answers"]["action"]
    # descriptions kept, dates to give again
    assert action["description"] == old_answers["action"]["description"]
    assert action["objectifs"] == old_answers["action"]["objectifs"]
    assert "date_debut" not in action and "date_fin" not in action
    # the financers asked last year are kept, their amounts to review
    assert set(new["answers"]["budget"]["financements"]) == set(old_answers["budget"]["financements"])
    assert all(v == "0.00" for v in new["answers"]["budget"]["financements"].values())
    assert "attestation" not in new["answers"]
    # last year's dossier did not move
    assert porteur.get(f"/api/v1/dossiers/{old['id']}").json()["state"] == old["state"]

    # the porteur gives this year's dates and amounts, and deposes
    year = campaign["year"]
    charges = new["answers"]["budget"]["charges"]
    assert [c["libelle"] for c in charges] == [c["libelle"] for c in old_answers["budget"]["charges"]]
    assert not any("montant" in c for c in charges)
    assert action["nouvelle"] is False  # a reconducted action says so, and tells last year's results
    patch = {
        "action": {
            "date_debut": f"{year}-01-15",
            "date_fin": f"{year}-12-15",
            "reconduction_resultats": "92 enfants suivis ; nous ouvrons une séance de plus.",
        },
        "budget": old_answers["budget"],
        "attestation": {**old_answers["attestation"], "date": f"{year}-01-10"},
    }
    saved = porteur.patch(f"/api/v1/dossiers/{new['id']}", {"answers": patch}, new["version"])
    assert saved.status_code == 200, saved.text
    deposed = porteur.fire(new["id"], "deposer")
    assert deposed.status_code == 200, deposed.text
    assert deposed.json()["state"] == "depose"


def test_reconduction_is_refused_for_another_organisation_a_closed_campaign_or_twice(
    client: TestClient, demo
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    other = Actor(client, "porteur2@demo.aap.test")
    campaign = open_campaign(porteur)
    previous = previous_campaign(porteur)
    old = _conventioned(porteur)[0]

    assert (
        other.post(
            f"/api/v1/dossiers/{old['id']}/reconduire", json={"campaign_id": campaign["id"]}
        ).status_code
        == 404
    )
    closed = porteur.post(f"/api/v1/dossiers/{old['id']}/reconduire", json={"campaign_id": previous["id"]})
    assert closed.status_code == 422
    assert closed.json()["detail"]["code"] in ("depot_ferme", "meme_campagne")

    first = porteur.post(f"/api/v1/dossiers/{old['id']}/reconduire", json={"campaign_id": campaign["id"]})
    assert first.status_code == 201
    again = porteur.post(f"/api/v1/dossiers/{old['id']}/reconduire", json={"campaign_id": campaign["id"]})
    assert again.status_code == 409 and again.json()["detail"]["code"] == "deja_reconduit"

    instructeur = Actor(client, "instructeur@demo.aap.test")
    assert (
        instructeur.post(
            f"/api/v1/dossiers/{old['id']}/reconduire", json={"campaign_id": campaign["id"]}
        ).status_code
        == 403
    )
    assert porteur.post(f"/api/v1/dossiers/{old['id']}/reconduire", json={}).status_code == 422


def test_a_rejected_dossier_is_not_reconducted(client: TestClient, demo, session) -> None:  # type: ignore[no-untyped-def]
    """Only a funded action is renewed: the API refuses what the « Reconduire » button never offers."""
    from aap.models import Dossier

    porteur = Actor(client, "porteur@demo.aap.test")
    campaign = open_campaign(porteur)
    old = _conventioned(porteur)[0]
    session.get(Dossier, old["id"]).state = "rejete"  # last year's financers all refused it
    session.commit()

    response = porteur.post(f"/api/v1/dossiers/{old['id']}/reconduire", json={"campaign_id": campaign["id"]})
    assert response.status_code == 409, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "dossier_non_reconductible"
    assert "Rejeté" in detail["message"] and "financé" in detail["message"]
    renewed = porteur.get("/api/v1/dossiers", params={"campaign_id": campaign["id"]}).json()["items"]
    assert old["id"] not in {d["reconducted_from"] for d in renewed}  # no draft was made

    from tests.web.staff_helpers import web_login

    web_login(client, "porteur@demo.aap.test")
    page = client.get("/mes-dossiers")
    assert page.status_code == 200
    assert f'action="/dossiers/{old["id"]}/reconduire"' not in page.text
