"""Each financer decides alone, within the request and its enveloppe; the last decision programs."""

from decimal import Decimal

from fastapi.testclient import TestClient

from tests.api.helpers import complete_draft
from tests.financing.helpers import Walk, open_campaign, previous_campaign, to_avise


def test_last_years_enveloppes_equal_the_sum_of_its_decisions(client: TestClient, demo) -> None:
    w = Walk(client)
    campaign = previous_campaign(w.admin)
    listed = w.admin.get("/api/v1/dossiers", params={"campaign_id": campaign["id"], "limit": 500}).json()
    # conventioned, some bilans since filed or validated (the demo's year end), and one programmed
    # dossier the demo keeps ready to become a CPO
    funded = ("conventionne", "bilan_depose", "cloture", "programme")
    assert listed["total"] >= 3 and all(d["state"] in funded for d in listed["items"])
    decided: dict[str, Decimal] = {}
    for d in listed["items"]:
        for line in d["cofinancements"]:
            assert line["decision"] == "accorde"
            decided[line["financeur"]] = decided.get(line["financeur"], Decimal(0)) + Decimal(
                line["montant_accorde"]
            )
    enveloppes = w.enveloppes(campaign["id"])
    for code, e in enveloppes.items():
        assert Decimal(e["accorde"]) == decided.get(code, Decimal(0))
        assert Decimal(e["restant"]) == Decimal(e["enveloppe"]) - Decimal(e["accorde"])
        assert e["accorde"].count(".") == 1 and len(e["accorde"].split(".")[1]) == 2  # "1234.50"
    assert any(Decimal(e["accorde"]) > 0 for e in enveloppes.values())


def test_an_amount_above_the_request_or_above_what_is_left_is_refused_with_its_reason(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    d = to_avise(w)
    did, campaign_id = d["id"], d["campaign_id"]
    line = d["cofinancements"][0]
    code, demande = line["financeur"], Decimal(line["montant_demande"])

    above = w.decide(did, code, "accorde", demande + Decimal("0.01"))
    assert above.status_code == 422
    detail = above.json()["detail"]
    assert [e["code"] for e in detail["errors"]] == ["accorde_above_requested"]
    assert "dépasse le montant demandé" in detail["message"]

    # the admin brings the enveloppe down to what is accorded plus less than this request
    accorde = Decimal(w.enveloppes(campaign_id)[code]["accorde"])
    r = w.admin.client.put(
        f"/api/v1/campaigns/{campaign_id}/enveloppes/{code}",
        headers=w.admin.headers,
        json={"enveloppe": str(accorde + demande - 100), "comment": "arbitrage"},
    )
    assert r.status_code == 200, r.text
    over = w.decide(did, code, "accorde", demande)
    assert over.status_code == 422
    assert [e["code"] for e in over.json()["detail"]["errors"]] == ["enveloppe_exceeded"]
    assert "il reste" in over.json()["detail"]["message"]
    assert w.dossier(did)["cofinancements"][0]["decision"] is None  # nothing recorded

    ok = w.decide(did, code, "accorde", demande - 100)
    assert ok.status_code == 200, ok.text
    after = w.enveloppes(campaign_id)[code]
    assert Decimal(after["restant"]) == 0 and Decimal(after["accorde"]) == accorde + demande - 100


def test_a_proposal_above_the_request_is_refused(client: TestClient, demo) -> None:
    w = Walk(client)
    d = complete_draft(w.porteur)
    w.instructeur.fire(d["id"], "prendre_en_instruction")
    line = d["cofinancements"][0]
    r = w.instructeur.post(
        f"/api/v1/dossiers/{d['id']}/cofinancements/{line['financeur']}/proposition",
        json={"montant": str(Decimal(line["montant_demande"]) + 1)},
    )
    assert r.status_code == 422
    assert r.json()["detail"]["errors"][0]["code"] == "propose_above_requested"


def test_a_refusal_needs_its_motif_and_is_recorded_with_it(client: TestClient, demo) -> None:
    w = Walk(client)
    d = to_avise(w)
    did, code = d["id"], d["cofinancements"][0]["financeur"]
    no_motif = w.decide(did, code, "refuse")
    assert no_motif.status_code == 422
    assert no_motif.json()["detail"]["errors"][0]["code"] == "motif_required"
    r = w.decide(did, code, "refuse", motif="Action hors des priorités de l'année.")
    assert r.status_code == 200, r.text
    line = next(c for c in r.json()["cofinancements"] if c["financeur"] == code)
    assert (line["decision"], line["montant_accorde"], line["motif"]) == (
        "refuse",
        None,
        "Action hors des priorités de l'année.",
    )
    history = w.porteur.get(f"/api/v1/dossiers/{did}/history").json()["items"]
    event = next(e for e in history if e["transition"] == "decision_financeur")
    assert event["comment"] == "Action hors des priorités de l'année."
    assert event["data"]["financeur"] == code and event["data"]["decision"] == "refuse"
    again = w.decide(did, code, "accorde", "100")
    assert again.status_code == 422 and again.json()["detail"]["errors"][0]["code"] == "already_decided"


def test_the_dossier_waits_while_a_financer_has_not_decided_or_adjourned_and_the_last_programs_it(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    d = to_avise(w)
    did = d["id"]
    codes = [c["financeur"] for c in d["cofinancements"]]
    assert len(codes) >= 2
    first, *others = codes
    assert (
        w.decide(did, first, "accorde", d["cofinancements"][0]["montant_demande"]).json()["state"] == "avise"
    )
    adjourned = w.decide(did, others[-1], "ajourne", motif="En attente du vote du budget.")
    assert adjourned.json()["state"] == "avise"
    for code in others[:-1]:
        assert w.decide(did, code, "refuse", motif="Hors priorités.").json()["state"] == "avise"
    last = next(c for c in d["cofinancements"] if c["financeur"] == others[-1])
    final = w.decide(did, others[-1], "accorde", last["montant_demande"])
    assert final.status_code == 200, final.text
    assert final.json()["state"] == "programme"


def test_only_the_financers_own_agents_decide(client: TestClient, demo) -> None:
    w = Walk(client)
    d = to_avise(w)
    code = d["cofinancements"][0]["financeur"]
    other = next(c for c in w.agents if c != code)
    body = {"decision": "accorde", "montant": "10"}
    r = w.agents[other].post(f"/api/v1/dossiers/{d['id']}/cofinancements/{code}/decision", json=body)
    assert r.status_code in (403, 404)
    r = w.instructeur.post(f"/api/v1/dossiers/{d['id']}/cofinancements/{code}/decision", json=body)
    assert r.status_code == 403


def test_the_admin_sets_and_raises_an_enveloppe_and_each_change_is_recorded(client: TestClient, demo) -> None:
    w = Walk(client)
    campaign = previous_campaign(w.admin)
    cid = campaign["id"]
    before = w.enveloppes(cid)["ETAT"]
    url = f"/api/v1/campaigns/{cid}/enveloppes/ETAT"
    too_low = w.admin.client.put(
        url, headers=w.admin.headers, json={"enveloppe": str(Decimal(before["accorde"]) - 1)}
    )
    assert too_low.status_code == 422 and too_low.json()["detail"]["code"] == "enveloppe_sous_accorde"
    raised = w.admin.client.put(
        url, headers=w.admin.headers, json={"enveloppe": 90000.5, "comment": "crédits VVV"}
    )
    assert raised.status_code == 200, raised.text
    after = {e["financeur"]: e for e in raised.json()["items"]}["ETAT"]
    assert after["enveloppe"] == "90000.50"
    assert Decimal(after["restant"]) == Decimal("90000.50") - Decimal(before["accorde"])
    forbidden = w.instructeur.client.put(url, headers=w.instructeur.headers, json={"enveloppe": "1"})
    assert forbidden.status_code == 403

    history = w.agents["ETAT"].get(f"{url}/history").json()
    assert history["total"] == len(history["items"]) >= 2
    first, last = history["items"][0], history["items"][-1]
    assert first["old"] is None and first["new"] == before["enveloppe"]
    assert (last["old"], last["new"], last["by"], last["comment"]) == (
        before["enveloppe"],
        "90000.50",
        "admin@demo.aap.test",
        "crédits VVV",
    )
    assert w.porteur.get(f"{url}/history").status_code == 403
    assert w.admin.get(f"/api/v1/campaigns/{cid}/enveloppes/NOPE/history").status_code == 404
    assert open_campaign(w.admin)["id"] != cid
