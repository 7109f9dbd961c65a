"""`conventionner` gives each financer that accorded money its convention or notification letter."""

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.api.helpers import drafts
from tests.financing.helpers import Walk, instruct, open_campaign, previous_campaign


def test_a_conventioned_dossier_has_a_notification_pdf_per_financer_below_the_threshold(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    campaign = previous_campaign(w.admin)
    d = w.porteur.get("/api/v1/dossiers", params={"campaign_id": campaign["id"]}).json()["items"][0]
    assert d["state"] in ("conventionne", "bilan_depose", "cloture")  # its bilan may be validated since
    docs = w.porteur.get(f"/api/v1/dossiers/{d['id']}/documents").json()
    accorded = {
        c["financeur"]: Decimal(c["montant_accorde"])
        for c in d["cofinancements"]
        if c["decision"] == "accorde"
    }
    assert {doc["financeur"] for doc in docs["items"]} == set(accorded)
    assert docs["total"] == len(accorded)
    assert all(v < Decimal(23000) for v in accorded.values())
    assert {doc["kind"] for doc in docs["items"]} == {"notification"}

    doc = docs["items"][0]
    pdf = w.porteur.get(f"/api/v1/dossiers/{d['id']}/documents/{doc['id']}")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) == doc["size"] > 1000

    agent = w.agents[doc["financeur"]]
    mine = agent.get(f"/api/v1/dossiers/{d['id']}/documents").json()["items"]
    assert [x["id"] for x in mine] == [doc["id"]]  # a financer sees its own letter only
    other_doc = next((x for x in docs["items"] if x["financeur"] != doc["financeur"]), None)
    if other_doc is not None:
        assert agent.get(f"/api/v1/dossiers/{d['id']}/documents/{other_doc['id']}").status_code == 404
    assert w.porteur2.get(f"/api/v1/dossiers/{d['id']}/documents").status_code == 404
    assert w.instructeur.get(f"/api/v1/dossiers/{d['id']}/documents/{doc['id']}").status_code == 200


def test_from_23000_euros_a_year_the_financer_sends_a_convention(client: TestClient, demo) -> None:
    w = Walk(client)
    campaign = open_campaign(w.porteur)
    draft = next(x for x in drafts(w.porteur, campaign["id"]) if x["title"] and len(x["cofinancements"]) >= 2)
    budget = draft["answers"]["budget"]
    financements = {**budget["financements"], "ETAT": "23000.00"}
    produits = sum((Decimal(p["montant"]) for p in budget.get("produits", [])), Decimal(0))
    total = produits + sum((Decimal(v) for v in financements.values() if v), Decimal(0))
    patch = {
        "answers": {
            "budget": {
                "financements": financements,
                "charges": [{"compte": "64", "libelle": "Salaires et charges", "montant": f"{total:.2f}"}],
            }
        }
    }
    r = w.porteur.patch(f"/api/v1/dossiers/{draft['id']}", patch, draft["version"])
    assert r.status_code == 200, r.text
    deposed = w.porteur.fire(draft["id"], "deposer")
    assert deposed.status_code == 200, deposed.text
    d = instruct(w, deposed.json())
    for line in d["cofinancements"]:
        assert w.decide(d["id"], line["financeur"], "accorde", line["montant_demande"]).status_code == 200
    conventioned = w.instructeur.fire(d["id"], "conventionner")
    assert conventioned.status_code == 200, conventioned.text

    docs = w.porteur.get(f"/api/v1/dossiers/{d['id']}/documents").json()["items"]
    kinds = {doc["financeur"]: doc["kind"] for doc in docs}
    assert kinds.pop("ETAT") == "convention"
    assert kinds and set(kinds.values()) == {"notification"}
    etat = w.agents["ETAT"].get(f"/api/v1/dossiers/{d['id']}/documents").json()["items"]
    assert [x["kind"] for x in etat] == ["convention"]
    pdf = w.agents["ETAT"].get(f"/api/v1/dossiers/{d['id']}/documents/{etat[0]['id']}")
    assert pdf.content.startswith(b"%PDF") and etat[0]["filename"].endswith(".pdf")
    # the instructeurs are told that a convention awaits signatures
    notes = w.instructeur.get(f"/api/v1/dossiers/{d['id']}/notifications").json()["items"]
    to_sign = [n for n in notes if n["rule"] == "convention_a_signer"]
    assert "instructeur@demo.aap.test" in {n["recipient"] for n in to_sign}
    assert all("convention à faire signer" in n["subject"] for n in to_sign)


def test_the_convention_carries_the_legal_mentions_and_the_amount(
    client: TestClient, demo, db_engine
) -> None:
    from aap.financing import documents
    from aap.models import Dossier

    w = Walk(client)
    campaign = previous_campaign(w.admin)
    with Session(db_engine) as session:
        dossier = session.scalar(
            select(Dossier).where(Dossier.campaign_id == campaign["id"]).order_by(Dossier.id)
        )
        line = next(c for c in dossier.cofinancements if c.decision == "accorde")
        total = documents.accorded_in_year(
            session, dossier.organisation_id, line.financeur_id, dossier.campaign.year
        )
        ctx = documents.context(session, dossier, line, "convention", total, dossier.conventionne_at)
        convention = documents.render_html("convention", ctx)
        letter = documents.render_html("notification", ctx)
    amount = f"{line.montant_accorde:,.2f}".replace(",", "\u202f").replace(".", ",")
    assert "loi n° 2000-321 du 12 avril 2000" in convention and "article 10" in convention
    assert "Cerfa n° 15059" in convention and amount in convention
    assert dossier.number in convention and dossier.organisation.name in convention
    assert "23 000 €" in letter and amount in letter and "deux mois" in letter
