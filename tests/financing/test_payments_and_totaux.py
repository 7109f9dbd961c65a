"""Payments never exceed what was accorded; the dashboards' totals and delays."""

from datetime import date, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient

from tests.financing.helpers import Walk, previous_campaign, to_avise


def _conventioned(w: Walk) -> tuple[dict, dict]:
    campaign = previous_campaign(w.admin)
    d = w.admin.get("/api/v1/dossiers", params={"campaign_id": campaign["id"]}).json()["items"][0]
    return d, d["cofinancements"][0]


def test_payments_are_recorded_listed_and_never_exceed_the_accorded_amount(client: TestClient, demo) -> None:
    w = Walk(client)
    d, line = _conventioned(w)
    code, accorde = line["financeur"], Decimal(line["montant_accorde"])
    agent = w.agents[code]
    url = f"/api/v1/dossiers/{d['id']}/cofinancements/{code}/paiements"
    today = date.today().isoformat()
    avance = (accorde / 2).quantize(Decimal("0.01"))

    # the demo paid an avance of half the subsidy after the convention
    r = agent.get(url)
    assert r.status_code == 200, r.text
    assert r.json()["paye"] == f"{avance:.2f}" and r.json()["reste_a_payer"] == f"{accorde - avance:.2f}"
    assert (
        r.json()["items"][0]["kind"] == "avance" and r.json()["items"][0]["delai_depuis_decision_jours"] > 0
    )

    too_much = agent.post(url, json={"kind": "solde", "date": today, "montant": str(accorde - avance + 1)})
    assert too_much.status_code == 422
    assert too_much.json()["detail"]["errors"][0]["code"] == "paiement_above_accorde"
    assert "il reste" in too_much.json()["detail"]["message"]

    future = agent.post(
        url, json={"kind": "solde", "date": (date.today() + timedelta(days=3)).isoformat(), "montant": "1"}
    )
    assert future.status_code == 422 and future.json()["detail"]["errors"][0]["code"] == "date_future"

    solde = w.admin.post(url, json={"kind": "solde", "date": today, "montant": str(accorde - avance)})
    assert solde.status_code == 201, solde.text
    assert solde.json()["reste_a_payer"] == "0.00"
    after = agent.post(url, json={"kind": "avance", "date": today, "montant": "0.01"})
    assert after.status_code == 422
    assert {e["code"] for e in after.json()["detail"]["errors"]} >= {"solde_already_paid"}

    shown = w.porteur.get(f"/api/v1/dossiers/{d['id']}").json()
    shown_line = next(c for c in shown["cofinancements"] if c["financeur"] == code)
    assert [(p["kind"], p["montant"]) for p in shown_line["paiements"]] == [
        ("avance", f"{avance:.2f}"),
        ("solde", f"{accorde - avance:.2f}"),
    ]
    assert shown_line["montant_paye"] == f"{accorde:.2f}"

    other = next(c for c in w.agents if c != code)
    assert w.agents[other].post(url, json={"kind": "avance", "date": today, "montant": "1"}).status_code in (
        403,
        404,
    )
    assert w.porteur.post(url, json={"kind": "avance", "date": today, "montant": "1"}).status_code == 403
    # the instructeur may record payments (issue 15), but never above what was accorded
    assert w.instructeur.post(url, json={"kind": "avance", "date": today, "montant": "1"}).status_code == 422


def test_a_dossier_is_paid_only_once_conventioned(client: TestClient, demo) -> None:
    w = Walk(client)
    d = to_avise(w)
    line = d["cofinancements"][0]
    w.decide(d["id"], line["financeur"], "accorde", line["montant_demande"])
    r = w.agents[line["financeur"]].post(
        f"/api/v1/dossiers/{d['id']}/cofinancements/{line['financeur']}/paiements",
        json={"kind": "avance", "date": date.today().isoformat(), "montant": "100"},
    )
    assert r.status_code == 409


def test_the_totals_by_financer_orientation_and_qpv_with_the_delays(client: TestClient, demo) -> None:
    w = Walk(client)
    d, line = _conventioned(w)
    code = line["financeur"]
    campaign = previous_campaign(w.admin)
    paid_before: dict[str, Decimal] = {}
    paid_lines = 0
    for dossier in w.admin.get("/api/v1/dossiers", params={"campaign_id": campaign["id"]}).json()["items"]:
        for c in dossier["cofinancements"]:
            paid_before[c["financeur"]] = paid_before.get(c["financeur"], Decimal(0)) + Decimal(
                c["montant_paye"]
            )
            paid_lines += Decimal(c["montant_paye"]) > 0
    r = w.agents[code].post(
        f"/api/v1/dossiers/{d['id']}/cofinancements/{code}/paiements",
        json={"kind": "solde", "date": date.today().isoformat(), "montant": "1000"},
    )
    assert r.status_code == 201, r.text
    t = w.instructeur.get(f"/api/v1/campaigns/{campaign['id']}/totaux").json()
    enveloppes = w.enveloppes(campaign["id"])
    by_financeur = {f["financeur"]: f for f in t["financeurs"]}
    for f_code, e in enveloppes.items():
        assert by_financeur[f_code]["accorde"] == e["accorde"]
    assert Decimal(by_financeur[code]["paye"]) == paid_before[code] + 1000
    assert Decimal(t["total"]["paye"]) == sum(paid_before.values()) + 1000
    total_accorde = sum(Decimal(e["accorde"]) for e in enveloppes.values())
    assert Decimal(t["total"]["accorde"]) == total_accorde
    assert sum(Decimal(o["accorde"]) for o in t["orientations"]) == total_accorde  # one orientation each
    assert all(o["label"] for o in t["orientations"] if o["orientation"])
    assert t["qpv"] and all(q["qpv"].startswith("QN") and q["name"] for q in t["qpv"])
    assert (
        sum(Decimal(q["accorde"]) for q in t["qpv"]) >= total_accorde
    )  # a dossier counts in each of its QPV
    delais = t["delais"]
    assert (
        delais["depot_decision"]["median_jours"] > 0
        and delais["depot_decision"]["dossiers"] == t["total"]["dossiers"]
    )
    assert delais["decision_convention"]["median_jours"] == 23  # the demo conventions 23 days after deciding
    assert (
        delais["decision_premier_paiement"]["dossiers"] == paid_lines > 0
    )  # one per paid line: the demo's avances
    assert w.porteur.get(f"/api/v1/campaigns/{campaign['id']}/totaux").status_code == 403
