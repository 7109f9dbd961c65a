"""The guichet unique as the porteur meets it: the published form, what saving refuses, what the dépôt asks."""

import jsonschema
from fastapi.testclient import TestClient

from aap.demo.loader import demo_actions
from tests.api.helpers import Actor, drafts, open_campaign
from tests.guichet.helpers import porteur_without_pieces


def test_the_published_form_is_json_schema_2020_12_and_the_demo_complete_drafts_fit_it(
    client: TestClient, demo
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    campaign = open_campaign(porteur)
    response = porteur.get(f"/api/v1/campaigns/{campaign['id']}/form")
    assert response.status_code == 200
    schema = response.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    complete = {
        a["answers"]["action"]["titre"]
        for a in demo_actions(campaign["year"])
        if a["completeness"] == "complete"
    }
    checked = 0
    for porteur_email in ("porteur@demo.aap.test", "porteur2@demo.aap.test"):
        actor = Actor(client, porteur_email)
        mine = actor.get("/api/v1/dossiers", params={"campaign_id": campaign["id"]}).json()["items"]
        for d in mine:  # the drafts, and the dossiers the demo already deposed
            if d["title"] in complete:
                errors = [
                    f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(d["answers"])
                ]
                assert errors == [], (d["title"], errors)
                checked += 1
    assert checked >= 4


def test_a_three_digit_siret_is_refused_with_a_french_message_naming_the_field(
    client: TestClient, demo
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    d = drafts(porteur, open_campaign(porteur)["id"])[0]
    response = porteur.patch(
        f"/api/v1/dossiers/{d['id']}", {"answers": {"organisation": {"siret": "123"}}}, d["version"]
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "reponses_invalides"
    [error] = detail["errors"]
    assert error["path"] == "organisation.siret"
    assert "SIRET" in error["message"] and "14 chiffres" in error["message"]
    after = porteur.get(f"/api/v1/dossiers/{d['id']}").json()
    assert after["version"] == d["version"] and after["answers"] == d["answers"]


def test_an_unknown_field_is_refused(client: TestClient, demo) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    d = drafts(porteur, open_campaign(porteur)["id"])[0]
    response = porteur.patch(
        f"/api/v1/dossiers/{d['id']}", {"answers": {"action": {"couleur_preferee": "bleu"}}}, d["version"]
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]["errors"]
    assert error["path"] == "action.couleur_preferee" and error["code"] == "unknown_field"
    assert "champ inconnu" in error["message"]


def test_an_empty_draft_cannot_be_deposed_and_the_refusal_lists_what_is_missing(
    client: TestClient, demo, db_engine
) -> None:
    newcomer = porteur_without_pieces(client, db_engine)
    campaign = open_campaign(newcomer)
    created = newcomer.post(f"/api/v1/campaigns/{campaign['id']}/dossiers")
    assert created.status_code == 201
    d = created.json()
    assert d["answers"]["organisation"]["nom"] == "Collectif des Hautes Plaines"  # prefilled from the profile

    refused = newcomer.fire(d["id"], "deposer")
    assert refused.status_code == 422
    errors = refused.json()["detail"]["errors"]
    fields = {e["field"] for e in errors}
    assert {
        "action.titre",
        "action.description",
        "action.date_debut",
        "budget.charges",
        "attestation.sur_l_honneur",
    } <= fields
    # every reason of an incomplete form has the code form_incomplete; the field says which answer or pièce
    assert {e["code"] for e in errors} == {"form_incomplete"}
    missing_pieces = {e["field"] for e in errors if e["field"].startswith("pieces.")}
    assert missing_pieces == {
        "pieces.statuts",
        "pieces.liste_dirigeants",
        "pieces.rib",
        "pieces.comptes_approuves",
        "pieces.rapport_activite",
    }
    assert all(e["message"] for e in errors)
    assert any(e["message"].startswith("Pièce justificative manquante : Statuts") for e in errors)
    still = newcomer.get(f"/api/v1/dossiers/{d['id']}").json()
    assert still["state"] == "brouillon" and still["version"] == d["version"]


def test_an_organisation_s_pieces_serve_its_new_dossier_without_being_sent_again(
    client: TestClient, demo
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    campaign = open_campaign(porteur)
    d = porteur.post(f"/api/v1/campaigns/{campaign['id']}/dossiers").json()
    errors = porteur.fire(d["id"], "deposer").json()["detail"]["errors"]
    assert errors and not [e for e in errors if e["field"].startswith("pieces.")]
    listing = porteur.get(f"/api/v1/dossiers/{d['id']}/attachments").json()
    required = [p for p in listing["pieces"] if p["required"]]
    assert len(required) == 5 and all(p["attachment"] for p in required)
    assert all(p["attachment"]["content_type"] == "application/pdf" for p in required)
