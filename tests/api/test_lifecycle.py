"""The dossier's year over the HTTP API, each step by the role the contract names."""

from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.api.helpers import AGENTS, Actor, complete_draft, drafts, open_campaign, previous_campaign
from tests.bilans.helpers import fill


def test_a_dossier_goes_from_brouillon_to_cloture_with_complements_on_the_way(
    client: TestClient, demo
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    instructeur = Actor(client, "instructeur@demo.aap.test")
    d = complete_draft(porteur)  # deposes it
    assert d["state"] == "depose" and d["dates"]["deposited_at"]
    did = d["id"]
    assert "prendre_en_instruction" not in d["transitions"]

    assert instructeur.get(f"/api/v1/dossiers/{did}").json()["transitions"] == ["prendre_en_instruction"]
    assert instructeur.fire(did, "prendre_en_instruction").json()["state"] == "en_instruction"
    due = (date.today() + timedelta(days=10)).isoformat()
    r = instructeur.fire(
        did, "demander_complements", comment="Merci de joindre le budget détaillé.", due_date=due
    )
    assert r.status_code == 200, r.text
    assert r.json()["complements"] == {
        "message": "Merci de joindre le budget détaillé.",
        "due_date": due,
        "pieces": [],
    }
    assert porteur.fire(did, "completer", comment="Budget joint.").json()["state"] == "en_instruction"

    lines = instructeur.get(f"/api/v1/dossiers/{did}").json()["cofinancements"]
    assert len(lines) >= 2
    for line in lines:
        r = instructeur.post(
            f"/api/v1/dossiers/{did}/cofinancements/{line['financeur']}/proposition",
            json={"montant": line["montant_demande"]},
        )
        assert r.status_code == 200, r.text
    assert instructeur.fire(did, "terminer_instruction").json()["state"] == "instruit"
    assert instructeur.fire(did, "rendre_avis", avis="favorable").json()["state"] == "avise"

    for i, line in enumerate(lines):
        agent = Actor(client, AGENTS[line["financeur"]])
        r = agent.post(
            f"/api/v1/dossiers/{did}/cofinancements/{line['financeur']}/decision",
            json={"decision": "accorde", "montant": line["montant_demande"]},
        )
        assert r.status_code == 200, r.text
        expected = "programme" if i == len(lines) - 1 else "avise"
        assert r.json()["state"] == expected  # the last decision programs the dossier by itself

    assert instructeur.fire(did, "conventionner").json()["state"] == "conventionne"
    # the bilan is filed only complete (tests/bilans prove each refusal)
    assert porteur.fire(did, "deposer_bilan", comment="Bilan joint.").status_code == 422
    fill(porteur, did)
    assert porteur.fire(did, "deposer_bilan", comment="Bilan joint.").json()["state"] == "bilan_depose"
    told = instructeur.get(f"/api/v1/dossiers/{did}/notifications").json()["items"]
    assert "instructeur@demo.aap.test" in [n["recipient"] for n in told if n["rule"] == "bilan_recu"]
    assert instructeur.fire(did, "valider_bilan").json()["state"] == "cloture"

    steps = porteur.get(f"/api/v1/dossiers/{did}/history").json()["items"]
    transitions = [s["transition"] for s in steps if s["transition"] != "decision_financeur"]
    assert transitions == [
        "creer",
        "deposer",
        "prendre_en_instruction",
        "demander_complements",
        "completer",
        "terminer_instruction",
        "rendre_avis",
        "programmer",
        "conventionner",
        "deposer_bilan",
        "valider_bilan",
    ]
    by = {s["transition"]: s for s in steps}
    assert by["deposer"]["by"] == "porteur@demo.aap.test" and by["deposer"]["role"] == "porteur"
    assert by["demander_complements"]["by"] == "instructeur@demo.aap.test"
    assert by["demander_complements"]["comment"] == "Merci de joindre le budget détaillé."
    assert by["programmer"]["role"] == "system" and by["programmer"]["by"] is None
    assert by["rendre_avis"]["data"]["avis"] == "favorable"
    assert all(s["at"] for s in steps)
    assert [s["from"] for s in steps[1:]] == [s["to"] for s in steps[:-1]]


def test_each_refusal_kind_has_its_status_and_reasons(client: TestClient, demo) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    instructeur = Actor(client, "instructeur@demo.aap.test")
    d = complete_draft(porteur)
    did = d["id"]

    forbidden = porteur.fire(did, "prendre_en_instruction")
    assert forbidden.status_code == 403 and forbidden.json()["detail"]["code"] == "forbidden"
    wrong_state = porteur.fire(did, "deposer")
    assert wrong_state.status_code == 409 and "Déposé" in wrong_state.json()["detail"]["message"]
    unknown = instructeur.fire(did, "teleporter")
    assert unknown.status_code == 404

    instructeur.fire(did, "prendre_en_instruction")
    missing = instructeur.fire(did, "demander_complements")
    assert missing.status_code == 422
    codes = {e["code"] for e in missing.json()["detail"]["errors"]}
    assert codes == {"comment_required", "due_date_required"}
    bad_avis = instructeur.fire(did, "terminer_instruction")
    assert bad_avis.status_code == 422
    assert {e["code"] for e in bad_avis.json()["detail"]["errors"]} == {"montant_propose_missing"}


def test_an_empty_draft_cannot_be_deposed_and_the_refusal_lists_what_is_missing(
    client: TestClient, demo
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    campaign = open_campaign(porteur)
    created = porteur.post(f"/api/v1/campaigns/{campaign['id']}/dossiers", json={})
    assert created.status_code == 201
    new = created.json()
    assert new["state"] == "brouillon" and new["version"] == 1
    assert new["answers"]["organisation"]["siret"] == "44102356700015"  # prefilled from the profile
    refused = porteur.fire(new["id"], "deposer")
    assert refused.status_code == 422
    errors = refused.json()["detail"]["errors"]
    fields = {e["field"] for e in errors}
    assert "action.titre" in fields and len(errors) > 5
    assert all(e["message"] for e in errors)
    assert porteur.get(f"/api/v1/dossiers/{new['id']}").json()["state"] == "brouillon"


def test_a_stale_version_gets_412_and_saves_nothing(client: TestClient, demo) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    d = drafts(porteur, open_campaign(porteur)["id"])[0]
    url = f"/api/v1/dossiers/{d['id']}"
    first = porteur.patch(
        url, {"answers": {"action": {"lieux": "Maison de quartier des Serrets"}}}, d["version"]
    )
    assert first.status_code == 200, first.text
    assert first.json()["version"] == d["version"] + 1
    assert first.headers["ETag"] == f'"{d["version"] + 1}"'
    stale = porteur.patch(url, {"answers": {"action": {"lieux": "Ailleurs"}}}, f'"{d["version"]}"')
    assert stale.status_code == 412 and stale.json()["detail"]["code"] == "version_perimee"
    assert porteur.get(url).json()["answers"]["action"]["lieux"] == "Maison de quartier des Serrets"
    no_version = porteur.patch(url, {"answers": {"action": {"lieux": "Ailleurs"}}}, None)
    assert no_version.status_code == 428


def test_another_association_neither_sees_nor_reads_the_dossier(client: TestClient, demo) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    other = Actor(client, "porteur2@demo.aap.test")
    mine = drafts(porteur, open_campaign(porteur)["id"])
    theirs = other.get("/api/v1/dossiers").json()
    assert theirs["total"] >= 1
    assert not {d["id"] for d in mine} & {d["id"] for d in theirs["items"]}
    did = mine[0]["id"]
    for response in (
        other.get(f"/api/v1/dossiers/{did}"),
        other.get(f"/api/v1/dossiers/{did}/history"),
        other.patch(f"/api/v1/dossiers/{did}", {"answers": {}}, 1),
        other.fire(did, "abandonner"),
    ):
        assert response.status_code == 404


def test_financers_do_not_see_drafts_but_see_what_solicits_them(client: TestClient, demo) -> None:
    caf = Actor(client, "caf@demo.aap.test")
    seen = caf.get("/api/v1/dossiers").json()["items"]
    assert seen and all(d["state"] != "brouillon" for d in seen)
    assert all(any(line["financeur"] == "CAF" for line in d["cofinancements"]) for d in seen)


def test_a_closed_campaign_takes_no_new_dossier(client: TestClient, demo) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    closed = previous_campaign(porteur)
    r = porteur.post(f"/api/v1/campaigns/{closed['id']}/dossiers", json={})
    assert r.status_code == 422 and r.json()["detail"]["code"] == "depot_ferme"
    assert "ouvert du" in r.json()["detail"]["message"]


def test_list_paginates_and_filters(client: TestClient, demo) -> None:
    instructeur = Actor(client, "instructeur@demo.aap.test")
    everything = instructeur.get("/api/v1/dossiers").json()
    page = instructeur.get("/api/v1/dossiers", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == everything["total"] and len(page["items"]) == 2
    assert [d["id"] for d in page["items"]] == [d["id"] for d in everything["items"][1:3]]
    conventionnes = instructeur.get("/api/v1/dossiers", params={"state": "conventionne"}).json()
    assert conventionnes["total"] >= 2 and all(d["state"] == "conventionne" for d in conventionnes["items"])
    assert instructeur.get("/api/v1/dossiers", params={"limit": 501}).status_code == 422
    assert instructeur.get("/api/v1/dossiers", params={"state": "nimporte"}).status_code == 422


def test_the_lifecycle_diagram_is_drawn_from_the_machine(client: TestClient) -> None:
    text = client.get("/api/v1/lifecycle.mmd", params={"current": "instruit"}).text
    assert text.startswith("stateDiagram-v2")
    assert "non_depose" in text and "instruit" in text
