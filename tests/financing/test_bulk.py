"""A financer records the comité's whole list at once: all or nothing, and never twice."""

from decimal import Decimal

from fastapi.testclient import TestClient

from tests.financing.helpers import Walk, to_avise


def _two_dossiers_and_a_common_financer(w: Walk) -> tuple[list[dict], str]:
    first, second = to_avise(w, w.porteur), to_avise(w, w.porteur2)
    common = [
        c["financeur"]
        for c in first["cofinancements"]
        if c["financeur"] in {x["financeur"] for x in second["cofinancements"]}
    ]
    assert common, "the demo's dossiers share a financer"
    return [first, second], common[0]


def _line(d: dict, code: str) -> dict:
    return next(c for c in d["cofinancements"] if c["financeur"] == code)


def test_one_wrong_decision_refuses_the_whole_list_and_names_its_index(client: TestClient, demo) -> None:
    w = Walk(client)
    (a, b), code = _two_dossiers_and_a_common_financer(w)
    agent = w.agents[code]
    body = {
        "items": [
            {"dossier_id": a["id"], "decision": "accorde", "montant": _line(a, code)["montant_demande"]},
            {
                "dossier_id": b["id"],
                "decision": "accorde",
                "montant": str(Decimal(_line(b, code)["montant_demande"]) + 1),
            },
            {"dossier_id": 999999, "decision": "refuse", "motif": "?"},
            {"dossier_id": a["id"], "decision": "refuse"},
        ]
    }
    r = agent.post(f"/api/v1/campaigns/{a['campaign_id']}/decisions", json=body)
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]["errors"]
    assert {(e["index"], e["code"]) for e in errors} == {
        (1, "accorde_above_requested"),
        (2, "dossier_introuvable"),
        (3, "dossier_en_double"),
    }
    assert all(e["message"] for e in errors)
    assert _line(w.dossier(a["id"]), code)["decision"] is None  # the valid first item was not recorded either


def test_a_retried_list_with_the_same_key_is_answered_again_without_deciding_twice(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    (a, b), code = _two_dossiers_and_a_common_financer(w)
    agent = w.agents[code]
    url = f"/api/v1/campaigns/{a['campaign_id']}/decisions"
    before = Decimal(w.enveloppes(a["campaign_id"])[code]["accorde"])
    body = {
        "items": [
            {"dossier_id": a["id"], "decision": "accorde", "montant": _line(a, code)["montant_demande"]},
            {"dossier_id": b["id"], "decision": "refuse", "motif": "Hors priorités."},
        ]
    }
    key = {"Idempotency-Key": "comite-2026-03-12-lot-1"}
    first = agent.post(url, json=body, headers=key)
    assert first.status_code == 200, first.text
    assert [(i["dossier_id"], i["decision"]) for i in first.json()["items"]] == [
        (a["id"], "accorde"),
        (b["id"], "refuse"),
    ]
    assert "Idempotent-Replayed" not in first.headers

    replay = agent.post(url, json=body, headers=key)
    assert replay.status_code == 200 and replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    # the same decisions written as numbers are the same request
    as_numbers = {
        "items": [{**body["items"][0], "montant": float(body["items"][0]["montant"])}, body["items"][1]]
    }
    assert agent.post(url, json=as_numbers, headers=key).json() == first.json()

    accorde = Decimal(w.enveloppes(a["campaign_id"])[code]["accorde"])
    assert accorde == before + Decimal(_line(a, code)["montant_demande"])  # counted once
    history = w.instructeur.get(f"/api/v1/dossiers/{a['id']}/history").json()["items"]
    assert (
        sum(1 for e in history if e["transition"] == "decision_financeur" and e["data"]["financeur"] == code)
        == 1
    )

    other = agent.post(url, json={"items": [body["items"][1]]}, headers=key)
    assert other.status_code == 422
    assert other.json()["detail"]["code"] == "idempotency_key_reused"
    assert "autre requête" in other.json()["detail"]["message"]

    without_key = agent.post(url, json=body)
    assert without_key.status_code == 422
    assert {e["code"] for e in without_key.json()["detail"]["errors"]} == {"already_decided"}


def test_bulk_decisions_share_the_enveloppe_and_are_for_financers_only(client: TestClient, demo) -> None:
    w = Walk(client)
    (a, b), code = _two_dossiers_and_a_common_financer(w)
    cid = a["campaign_id"]
    env = w.enveloppes(cid)[code]
    ma, mb = Decimal(_line(a, code)["montant_demande"]), Decimal(_line(b, code)["montant_demande"])
    # room for each alone, not for both
    w.admin.client.put(
        f"/api/v1/campaigns/{cid}/enveloppes/{code}",
        headers=w.admin.headers,
        json={"enveloppe": str(Decimal(env["accorde"]) + max(ma, mb))},
    )
    body = {
        "items": [
            {"dossier_id": a["id"], "decision": "accorde", "montant": str(ma)},
            {"dossier_id": b["id"], "decision": "accorde", "montant": str(mb)},
        ]
    }
    r = w.agents[code].post(f"/api/v1/campaigns/{cid}/decisions", json=body)
    assert r.status_code == 422
    assert [(e["index"], e["code"]) for e in r.json()["detail"]["errors"]] == [(1, "enveloppe_exceeded")]
    assert w.instructeur.post(f"/api/v1/campaigns/{cid}/decisions", json=body).status_code == 403
    assert w.agents[code].post(f"/api/v1/campaigns/{cid}/decisions", json={"items": []}).status_code == 422
