"""The CPO pages: the admin's list with the gauge, the porteur's CPOs and years, the instructeur's
proposal form (errors shown at their fields, nothing written), the financer's signature."""

from datetime import date
from decimal import Decimal
from html import unescape

from fastapi.testclient import TestClient

from tests.web.staff_helpers import ADMIN, AGENTS, INSTRUCTEUR, csrf_of, web_login
from workflows.money import format_euros


def _demo_cpo_id(client: TestClient) -> int:
    items = client.get("/api/v1/cpos", params={"state": "active"}).json()["items"]
    return int(items[0]["id"])


def test_the_admin_list_shows_the_cpos_and_the_gauge_against_half(client: TestClient, demo: date) -> None:
    web_login(client, ADMIN)
    page = client.get("/cpo")
    assert page.status_code == 200
    text = unescape(page.text)
    assert 'id="jauge-cpo" role="img"' in text and 'class="target"' in text and "Objectif : 50 %" in text
    demo_cpo = client.get("/api/v1/cpos", params={"state": "active"}).json()["items"][0]
    assert demo_cpo["action"] in text and f'href="/cpo/{demo_cpo["id"]}"' in text and "En cours" in text
    # the row's planned, accorded and paid totals are the API's, summed over years and financers
    lines = [f for year in demo_cpo["annees"] for f in year["financeurs"]]
    for key in ("prevu", "accorde", "paye"):
        total = sum((Decimal(f[key]) for f in lines), Decimal("0.00"))
        assert demo_cpo["totaux"][key] == f"{total:.2f}"
        assert format_euros(total) in text
    assert demo_cpo["totaux"]["prevu"] != "0.00" and demo_cpo["totaux"]["paye"] != "0.00"
    previous = next(c for c in client.get("/api/v1/campaigns").json()["items"] if not c["depot_ouvert"])
    last_year = unescape(client.get(f"/cpo?campagne={previous['id']}").text)
    shares = {
        s["financeur"]: s for s in client.get(f"/api/v1/campaigns/{previous['id']}/totaux").json()["cpo"]
    }
    etat = shares["ETAT"]
    assert etat["actions_cpo"] == 1 and etat["montant_cpo"] != "0.00"
    # the page shows the API's figures
    share = Decimal(etat["montant_cpo"]) / Decimal(etat["montant_total"]) * 100
    assert f"{share:.1f} %" in last_year


def test_the_porteur_sees_its_cpo_and_its_years_and_the_other_porteur_does_not(
    client: TestClient, demo: date
) -> None:
    web_login(client, "porteur2@demo.aap.test")  # Les Passerelles: the demo's CPO
    cpo_id = _demo_cpo_id(client)
    listed = unescape(client.get("/cpo").text)
    assert f'href="/cpo/{cpo_id}"' in listed
    page = unescape(client.get(f"/cpo/{cpo_id}").text)
    assert 'id="annees-cpo"' in page and "Télécharger la convention (PDF)" in page
    assert "/transitions/signer" not in page and "/transitions/resilier" not in page
    yearly = client.get(f"/api/v1/cpos/{cpo_id}").json()["annees"][1]["dossier_id"]
    assert f'href="/dossiers/{yearly}"' in page
    form = unescape(client.get(f"/dossiers/{yearly}").text)  # the light form, not the guichet unique
    assert "Ce qui change cette année" in form and "Budget prévisionnel" not in form
    web_login(client, "porteur@demo.aap.test")
    assert f'href="/cpo/{cpo_id}"' not in client.get("/cpo").text
    assert client.get(f"/cpo/{cpo_id}").status_code == 404


def test_an_instructeur_proposes_a_cpo_and_each_financer_signs_it_in_the_pages(
    client: TestClient, demo: date
) -> None:
    token = web_login(client, INSTRUCTEUR)
    ready = client.get("/api/v1/dossiers", params={"state": "programme"}).json()["items"][0]
    form = client.get(f"/cpo/proposer/{ready['id']}")
    assert form.status_code == 200 and "Proposer la CPO" in form.text
    codes = [c["financeur"] for c in ready["cofinancements"]][:2]
    year = client.get(f"/api/v1/campaigns/{ready['campaign_id']}").json()["year"]
    data = {"csrf": token, "debut": str(year), "duree": "3"}
    for code in codes:
        data[f"signe-{code}"] = "on"
        for i in range(3):
            data[f"montant-{code}-{i}"] = "3000,00"
    bad = client.post(f"/cpo/proposer/{ready['id']}", data={**data, f"montant-{codes[0]}-1": "12,345"})
    assert bad.status_code == 422
    assert "Deux décimales au plus" in unescape(bad.text) and 'aria-invalid="true"' in bad.text
    before = client.get("/api/v1/cpos").json()["total"]
    good = client.post(f"/cpo/proposer/{ready['id']}", data=data, follow_redirects=False)
    assert good.status_code == 303, good.text
    assert client.get("/api/v1/cpos").json()["total"] == before + 1
    url = good.headers["location"]

    for code in codes:
        web_login(client, AGENTS[code])
        page = client.get(url).text
        assert "Signer la CPO" in page and "3\u202f000,00" in unescape(page)
        signed = client.post(
            url + "/transitions/signer",
            data={"csrf": csrf_of(page), "montants": ["3000.00"] * 3},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        assert "/transitions/signer" not in client.get(url).text
    assert "En cours" in unescape(client.get(url).text)  # both signed, its first year has begun
