"""What the financers' documents say, in which font and on which day, and when they are made.

A porteur opens its letters as PDF and reads them (pypdf extracts the text a reader would see)."""

import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tests.financing.helpers import Walk, previous_campaign, to_avise
from tests.web.staff_helpers import web_login


def pdf_text(content: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def documents(actor: Any, did: int) -> dict[str, dict[str, Any]]:
    return {d["financeur"]: d for d in actor.get(f"/api/v1/dossiers/{did}/documents").json()["items"]}


def test_a_partial_grant_and_a_refusal_give_letters_naming_both_parties_with_schedule_budget_and_recourse(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    d = to_avise(w)
    representant = d["answers"]["organisation"]["representant"]
    lines = d["cofinancements"]
    assert len(lines) >= 2
    assert "ETAT" in {line["financeur"] for line in lines}
    refused = next(line["financeur"] for line in lines if line["financeur"] != "ETAT")
    granted = [line for line in lines if line["financeur"] != refused]
    r = w.decide(d["id"], refused, "refuse", motif="Action hors des priorités de l'œuvre du financeur")
    assert r.status_code == 200, r.text
    for line in granted:
        partial = (Decimal(line["montant_demande"]) / 2).quantize(Decimal("0.01"))
        assert w.decide(d["id"], line["financeur"], "accorde", partial).status_code == 200
    assert w.instructeur.fire(d["id"], "conventionner").status_code == 200

    docs = documents(w.porteur, d["id"])
    assert docs[refused]["kind"] == "refus"
    letter = pdf_text(w.porteur.get(f"/api/v1/dossiers/{d['id']}/documents/{docs[refused]['id']}").content)
    assert "décision de refus" in letter.lower()
    assert "l'œuvre du financeur" in letter  # the motif, « œ » printed as such
    assert "deux mois" in letter and "tribunal administratif" in letter and "recours gracieux" in letter

    etat = next(line for line in granted if line["financeur"] == "ETAT")
    granted_amount = (Decimal(etat["montant_demande"]) / 2).quantize(Decimal("0.01"))
    text = pdf_text(w.porteur.get(f"/api/v1/dossiers/{d['id']}/documents/{docs['ETAT']['id']}").content)
    assert docs["ETAT"]["kind"] == "notification"
    assert "Élodie Lœwenbrück" in text and "Préfète des Alpes-de-Haute-Provence" in text  # the signatory
    assert f"{representant['prenom']} {representant['nom']}" in text  # the legal representative
    assert "œuvre" in text and "€" in text and "?" not in text  # no letter replaced
    assert "Échéancier des versements" in text and "Avance" in text and "Solde" in text
    half = f"{granted_amount / 2:,.2f}".replace(",", " ").replace(".", ",")
    assert f"{half} €" in text  # the avance: half the grant
    assert "Total des charges" in text and "Total des produits" in text  # the annexed budget
    assert "Subvention État (programme 147)" in text


def test_the_notice_says_convention_only_for_a_convention(client: TestClient, demo) -> None:
    w = Walk(client)
    d = to_avise(w)
    for line in d["cofinancements"]:
        assert w.decide(d["id"], line["financeur"], "accorde", line["montant_demande"]).status_code == 200
    assert w.instructeur.fire(d["id"], "conventionner").status_code == 200
    assert {doc["kind"] for doc in documents(w.porteur, d["id"]).values()} == {"notification"}
    notes = w.instructeur.get(f"/api/v1/dossiers/{d['id']}/notifications").json()["items"]
    subjects = {n["subject"] for n in notes if n["rule"] == "convention_disponible"}
    assert subjects and all("notification" in s and "convention" not in s for s in subjects), subjects
    assert not [n for n in notes if n["rule"] == "convention_a_signer"]  # nothing to sign


def test_a_decision_at_00_49_in_paris_on_the_2nd_is_dated_the_2nd(
    client: TestClient, demo, db_engine
) -> None:
    from aap.financing import documents as docs
    from aap.models import Dossier

    campaign = previous_campaign(Walk(client).admin)
    with Session(db_engine) as session:
        dossier = session.scalar(
            select(Dossier).where(Dossier.campaign_id == campaign["id"]).order_by(Dossier.id)
        )
        line = next(c for c in dossier.cofinancements if c.decision == "accorde")
        line.decided_at = datetime(2026, 3, 1, 23, 49, tzinfo=UTC)  # 00:49 in Paris (UTC+1) on 2 March
        moment = datetime(2026, 3, 1, 23, 50, tzinfo=UTC)
        ctx = docs.context(session, dossier, line, "notification", Decimal("1000.00"), moment)
        assert ctx["decide_le"] == "02/03/2026" and ctx["date_document"] == "02/03/2026"
        assert "a décidé, le 02/03/2026" in docs.render_html("notification", ctx)
        dossier.campaign.territory.fuseau = "America/Cayenne"  # a territory whose file says so: UTC-3
        ctx = docs.context(session, dossier, line, "notification", Decimal("1000.00"), moment)
        assert ctx["decide_le"] == "01/03/2026"
        session.rollback()


def test_documents_are_made_after_the_commit_and_the_cron_pass_makes_a_lost_one(
    client: TestClient, demo, db_engine, settings
) -> None:
    from aap.dossiers.effects import TABLE
    from aap.financing.documents import DOCUMENT_KINDS
    from aap.models import Attachment, Dossier
    from notifications.cron import run_pass

    assert "financing.documents" not in TABLE.describe().get("conventionner", [])
    assert "financing.documents" in TABLE.describe_after_commit()["conventionner"]

    w = Walk(client)
    campaign = previous_campaign(w.admin)
    d = w.porteur.get(
        "/api/v1/dossiers", params={"campaign_id": campaign["id"], "state": "conventionne"}
    ).json()
    did = d["items"][0]["id"]
    before = documents(w.porteur, did)
    assert before
    with Session(db_engine) as session:  # the process died between the commit and the PDF
        session.execute(
            delete(Attachment).where(Attachment.dossier_id == did, Attachment.kind.in_(DOCUMENT_KINDS))
        )
        session.commit()
        assert session.get(Dossier, did).state == "conventionne"
    assert documents(w.porteur, did) == {}
    summary = run_pass(db_engine, settings, datetime.now(UTC), deliver_messages=False)
    assert summary.recorded["documents_manquants"] >= len(before)
    after = documents(w.porteur, did)
    assert {k: v["kind"] for k, v in after.items()} == {k: v["kind"] for k, v in before.items()}
    assert (
        run_pass(db_engine, settings, datetime.now(UTC), deliver_messages=False).recorded[
            "documents_manquants"
        ]
        == 0
    )  # nothing twice


def test_staff_open_every_document_from_their_pages(client: TestClient, demo) -> None:
    w = Walk(client)
    campaign = previous_campaign(w.admin)
    d = w.porteur.get(
        "/api/v1/dossiers", params={"campaign_id": campaign["id"], "state": "conventionne"}
    ).json()
    did = d["items"][0]["id"]
    all_docs = documents(w.porteur, did)
    web_login(client, "instructeur@demo.aap.test")
    page = client.get(f"/instruction/dossiers/{did}").text
    links = set(re.findall(rf'href="(/api/v1/dossiers/{did}/documents/\d+)"', page))
    assert links == {f"/api/v1/dossiers/{did}/documents/{doc['id']}" for doc in all_docs.values()}
    for link in links:
        assert client.get(link).content.startswith(b"%PDF")
    code, doc = next(iter(all_docs.items()))
    email = {"ETAT": "etat", "DLVA": "agglo", "MANOSQUE": "ville", "CAF": "caf"}[code]
    client.cookies.clear()
    web_login(client, f"{email}@demo.aap.test")
    page = client.get(f"/financeur/dossiers/{did}").text
    assert set(re.findall(rf'href="(/api/v1/dossiers/{did}/documents/\d+)"', page)) == {
        f"/api/v1/dossiers/{did}/documents/{doc['id']}"
    }  # its own letter, not the other financers'
