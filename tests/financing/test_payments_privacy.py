"""A financer reads the payments of its own lines only: not another financer's, neither through the
payments route, nor in the dossier, nor in the totals; the porteur and the instruction read them all.
The lines' decisions stay shared between the dossier's financers (as in the programme table)."""

from fastapi.testclient import TestClient

from tests.financing.helpers import Walk, previous_campaign


def _paid_dossier_with_two_lines(w: Walk) -> tuple[dict, dict, dict]:
    """A conventioned dossier of last year with a paid line and another financer's line."""
    campaign = previous_campaign(w.admin)
    for d in w.admin.get("/api/v1/dossiers", params={"campaign_id": campaign["id"], "limit": 200}).json()[
        "items"
    ]:
        paid = [c for c in d["cofinancements"] if c["paiements"]]
        others = [c for c in d["cofinancements"] if c["financeur"] not in {p["financeur"] for p in paid[:1]}]
        if paid and others:
            return d, paid[0], others[0]
    raise AssertionError("la démo n'a pas de dossier payé à deux financeurs")


def test_a_financer_does_not_read_another_financer_s_payments(client: TestClient, demo) -> None:
    w = Walk(client)
    d, paid, other = _paid_dossier_with_two_lines(w)
    payer, onlooker = w.agents[paid["financeur"]], w.agents[other["financeur"]]
    url = f"/api/v1/dossiers/{d['id']}/cofinancements/{paid['financeur']}/paiements"

    # the financer that paid, the porteur and the instruction read the payments
    for reader in (payer, w.porteur, w.instructeur, w.admin):
        r = reader.get(url)
        assert r.status_code == 200, r.text
        assert r.json()["items"] and r.json()["paye"] == paid["montant_paye"]

    # another financer of the same dossier sees the dossier, not what the first one paid
    refused = onlooker.get(url)
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "autre_financeur"
    assert "vos" in refused.json()["detail"]["message"] or "votre" in refused.json()["detail"]["message"]

    seen = onlooker.get(f"/api/v1/dossiers/{d['id']}")
    assert seen.status_code == 200
    line = next(c for c in seen.json()["cofinancements"] if c["financeur"] == paid["financeur"])
    assert line["paiements"] == [] and line["montant_paye"] is None
    assert line["decision"] == paid["decision"]  # decisions stay shared between co-financers
    own = next(c for c in seen.json()["cofinancements"] if c["financeur"] == other["financeur"])
    assert own["montant_paye"] is not None  # its own line's payments it reads

    listed = onlooker.get("/api/v1/dossiers", params={"campaign_id": d["campaign_id"], "limit": 200})
    for item in listed.json()["items"]:
        for c in item["cofinancements"]:
            if c["financeur"] != other["financeur"]:
                assert c["paiements"] == [] and c["montant_paye"] is None, (item["id"], c)

    # the totals: each financer's paid sum only to that financer (and to the instruction)
    totaux = onlooker.get(f"/api/v1/campaigns/{d['campaign_id']}/totaux").json()
    by_code = {f["financeur"]: f for f in totaux["financeurs"]}
    assert by_code[paid["financeur"]]["paye"] is None
    assert by_code[other["financeur"]]["paye"] is not None
    staff = w.instructeur.get(f"/api/v1/campaigns/{d['campaign_id']}/totaux").json()
    assert all(f["paye"] is not None for f in staff["financeurs"])
    assert next(f for f in staff["financeurs"] if f["financeur"] == paid["financeur"])["paye"] != "0.00"


def test_the_financer_page_shows_only_its_own_schedule(client: TestClient, demo) -> None:
    from tests.api.helpers import AGENTS
    from tests.web.staff_helpers import web_login

    w = Walk(client)
    d, paid, other = _paid_dossier_with_two_lines(w)
    web_login(client, AGENTS[other["financeur"]])
    page = client.get(f"/financeur/dossiers/{d['id']}")
    assert page.status_code == 200
    assert f"Échéancier de {paid['financeur_name']}" not in page.text
    assert "Échéancier et versements" in page.text
