"""A programmed or conventioned dossier becomes a CPO, signed by each of its financers; bad input is
refused with a French reason and a stable code, and nothing of a refused CPO is written."""

from decimal import Decimal

from fastapi.testclient import TestClient

from tests.accessible_pdf import fonts
from tests.cpo.helpers import (
    Walk,
    conventioned_with_two_financers,
    open_campaign,
    previous_campaign,
    propose,
    signed_cpo,
)


def test_a_conventioned_dossier_becomes_a_three_year_cpo_signed_by_two_financers(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    dossier = conventioned_with_two_financers(w)
    first = previous_campaign(w.admin)["year"]
    r = propose(w, dossier)
    assert r.status_code == 201, r.text
    cpo = r.json()
    assert cpo["state"] == "projet" and cpo["dossier_origine"] == dossier["id"]
    assert [a["annee"] for a in cpo["annees"]] == [first, first + 1, first + 2]
    assert cpo["annees"][0]["dossier_id"] == dossier["id"]  # last year is the dossier it came from
    assert cpo["annees"][1]["dossier_id"] is None
    codes = [s["financeur"] for s in cpo["signataires"]]
    assert len(codes) == 2
    assert [f["prevu"] for f in cpo["annees"][2]["financeurs"]] == ["4000.00", "4000.00"]
    assert cpo["transitions"] == ["resilier"]  # for the instructeur

    first_agent, second_agent = (w.agents[c] for c in codes)
    assert "signer" in first_agent.get(f"/api/v1/cpos/{cpo['id']}").json()["transitions"]
    r = first_agent.post(f"/api/v1/cpos/{cpo['id']}/transitions/signer", json={"montants": ["4000.00"] * 3})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "projet" and "signer" not in r.json()["transitions"]
    again = first_agent.post(f"/api/v1/cpos/{cpo['id']}/transitions/signer")
    assert again.status_code == 422 and again.json()["detail"]["errors"][0]["code"] == "deja_signee"

    r = second_agent.post(f"/api/v1/cpos/{cpo['id']}/transitions/signer")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "active"  # all signed, and its first year has begun
    history = [e["transition"] for e in w.admin.get(f"/api/v1/cpos/{cpo['id']}/history").json()["items"]]
    assert history == ["proposer", "signer", "signer", "conclure", "activer"]

    # each side sees it: the porteur its organisation's, each financer the ones it signs
    mine = {c["id"] for c in w.porteur.get("/api/v1/cpos").json()["items"]}
    assert cpo["id"] in mine and cpo["id"] not in {
        c["id"] for c in w.porteur2.get("/api/v1/cpos").json()["items"]
    }
    listed = w.admin.get("/api/v1/cpos", params={"state": "active", "financeur": codes[0]}).json()["items"]
    assert cpo["id"] in {c["id"] for c in listed}
    other = next(a for c, a in w.agents.items() if c not in codes)
    assert other.get(f"/api/v1/cpos/{cpo['id']}").status_code == 404

    pdf = w.admin.get(f"/api/v1/cpos/{cpo['id']}/convention.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert any("DejaVu" in name for name in fonts(pdf.content))  # the bundled Unicode font is embedded


def test_the_cpo_is_proposed_only_by_staff_on_a_programmed_or_conventioned_dossier(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    dossier = conventioned_with_two_financers(w)
    body = {"annees": [2030, 2031], "financeurs": {"ETAT": ["1.00", "1.00"]}}
    assert w.porteur.post(f"/api/v1/dossiers/{dossier['id']}/cpo", json=body).status_code in (403, 404)
    draft = w.porteur.get("/api/v1/dossiers", params={"state": "brouillon"}).json()["items"][0]
    r = w.instructeur.post(f"/api/v1/dossiers/{draft['id']}/cpo", json=body)
    assert r.status_code in (404, 409)
    assert propose(w, dossier).status_code == 201
    twice = propose(w, dossier)
    assert twice.status_code == 409 and twice.json()["detail"]["code"] == "deja_en_cpo"


def test_bad_years_and_amounts_are_refused_with_every_reason_and_nothing_is_written(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    dossier = conventioned_with_two_financers(w)
    before = w.admin.get("/api/v1/cpos").json()["total"]
    first = previous_campaign(w.admin)["year"]
    code = dossier["cofinancements"][0]["financeur"]
    cases = {
        "annees_non_consecutives": ([first, first + 2], {code: ["1.00", "1.00"]}),
        "annees_nombre": ([first], {code: ["1.00"]}),
        "montant_decimales": ([first, first + 1], {code: ["1.001", "1.00"]}),
        "montant_negatif": ([first, first + 1], {code: ["-5.00", "1.00"]}),
        "montants_nombre": ([first, first + 1], {code: ["1.00"]}),
        "financeur_inconnu": ([first, first + 1], {"NOPE": ["1.00", "1.00"]}),
    }
    for expected, (years, amounts) in cases.items():
        r = propose(w, dossier, years, amounts)
        assert r.status_code == 422, (expected, r.text)
        detail = r.json()["detail"]
        assert expected in {e["code"] for e in detail["errors"]}, (expected, detail)
        assert all(e["message"] and e["field"] for e in detail["errors"])
    five = propose(w, dossier, list(range(first, first + 5)), {code: ["1.00"] * 5})
    assert "annees_nombre" in {e["code"] for e in five.json()["detail"]["errors"]}
    assert "4 ans" in five.json()["detail"]["message"]
    assert w.admin.get("/api/v1/cpos").json()["total"] == before


def test_a_financer_signs_only_for_itself_and_only_its_amounts(client: TestClient, demo) -> None:
    w = Walk(client)
    r = propose(w, conventioned_with_two_financers(w))
    cpo = r.json()
    codes = [s["financeur"] for s in cpo["signataires"]]
    url = f"/api/v1/cpos/{cpo['id']}/transitions/signer"
    forged = w.agents[codes[0]].post(url, json={"financeur": codes[1]})
    assert forged.status_code == 403 and forged.json()["detail"]["code"] == "autre_financeur"
    wrong = w.agents[codes[0]].post(url, json={"montants": ["4000.00", "4000.00", "9999.00"]})
    assert wrong.status_code == 422
    assert "montants_differents" in {e["code"] for e in wrong.json()["detail"]["errors"]}
    outsider = next(c for c in w.agents if c not in codes)
    assert w.agents[outsider].post(url).status_code == 404  # not its CPO: it does not see it
    assert w.instructeur.post(url).status_code == 403
    after = w.admin.get(f"/api/v1/cpos/{cpo['id']}").json()
    assert after["state"] == "projet" and all(s["signe_le"] is None for s in after["signataires"])


def test_a_financer_cannot_plan_more_in_a_year_than_its_enveloppe_allows(client: TestClient, demo) -> None:
    w = Walk(client)
    dossier = conventioned_with_two_financers(w)
    before = w.admin.get("/api/v1/cpos").json()["total"]
    first = previous_campaign(w.admin)["year"]
    code = dossier["cofinancements"][0]["financeur"]
    enveloppe = Decimal(w.enveloppes(previous_campaign(w.admin)["id"])[code]["enveloppe"])
    r = propose(w, dossier, [first, first + 1], {code: [f"{enveloppe:.2f}", "1.00"]})
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]["errors"]
    assert errors[0]["code"] == "enveloppe_depassee" and errors[0]["field"] == f"financeurs.{code}.0"
    assert w.admin.get("/api/v1/cpos").json()["total"] == before


def test_a_cpo_is_resiliated_with_its_reason(client: TestClient, demo) -> None:
    w = Walk(client)
    cpo = signed_cpo(w)
    no_reason = w.instructeur.post(f"/api/v1/cpos/{cpo['id']}/transitions/resilier")
    assert no_reason.status_code == 422 and no_reason.json()["detail"]["errors"][0]["code"] == "motif_requis"
    r = w.instructeur.post(
        f"/api/v1/cpos/{cpo['id']}/transitions/resilier", json={"motif": "L'association a cessé l'action."}
    )
    assert r.status_code == 200 and r.json()["state"] == "resiliee"
    assert r.json()["motif_resiliation"] == "L'association a cessé l'action."
    assert [c["id"] for c in w.admin.get("/api/v1/cpos", params={"state": "resiliee"}).json()["items"]] == [
        cpo["id"]
    ]


def test_the_demo_holds_an_active_cpo_with_its_yearly_dossier_and_a_dossier_ready_for_one(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    [cpo] = w.porteur2.get("/api/v1/cpos", params={"state": "active"}).json()["items"]
    assert len(cpo["annees"]) == 3 and len(cpo["signataires"]) == 2
    assert all(s["signe_le"] for s in cpo["signataires"])
    this_year = cpo["annees"][1]
    assert this_year["annee"] == open_campaign(w.admin)["year"] and this_year["dossier_id"]
    yearly = w.porteur2.get(f"/api/v1/dossiers/{this_year['dossier_id']}").json()
    assert yearly["form"]["code"] == "cpo_annuel" and yearly["cpo_id"] == cpo["id"]
    assert yearly["campaign_id"] == open_campaign(w.admin)["id"] and yearly["state"] == "brouillon"
    ready = w.instructeur.get("/api/v1/dossiers", params={"state": "programme"}).json()["items"]
    assert ready
    years = [previous_campaign(w.admin)["year"] + i for i in range(3)]
    codes = [c["financeur"] for c in ready[0]["cofinancements"]][:2]
    r = w.instructeur.post(
        f"/api/v1/dossiers/{ready[0]['id']}/cpo",
        json={"annees": years, "financeurs": {c: ["1000.00"] * 3 for c in codes}},
    )
    assert r.status_code == 201, r.text
