"""A porteur who reads with a screen reader opens the financers' letters and conventions: each is a
tagged PDF (PDF/UA-1) in French, announced by its title, whose headings, paragraphs, lists and tables
(the payment schedule, the annexed budget) the reader walks through, in the bundled Unicode font."""

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accessible_pdf import accessible, fonts, plain, table_rows
from tests.financing.helpers import Walk, previous_campaign
from tests.financing.test_documents_content import documents


def _euros(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " €"  # as `plain` shows it


def test_the_notification_a_porteur_downloads_reads_as_headings_paragraphs_and_a_schedule_table(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    campaign = previous_campaign(w.admin)
    listed = w.porteur.get(
        "/api/v1/dossiers", params={"campaign_id": campaign["id"], "state": "conventionne"}
    ).json()["items"]
    d = w.porteur.get(f"/api/v1/dossiers/{listed[0]['id']}").json()
    code, doc = next(iter(documents(w.porteur, d["id"]).items()))
    assert doc["kind"] == "notification"
    line = next(c for c in d["cofinancements"] if c["financeur"] == code)
    content = w.porteur.get(f"/api/v1/dossiers/{d['id']}/documents/{doc['id']}").content

    pdf = accessible(content, f"Notification de subvention – {d['number']}")
    assert pdf.texts("H1") == ["Objet : notification d'attribution d'une subvention"]
    assert "Échéancier des versements" in pdf.texts("H2")
    granted = _euros(Decimal(line["montant_accorde"]))
    assert any(
        "a décidé" in p and granted in p and "mise en œuvre" in p for p in pdf.texts("P")
    )  # the decision is one paragraph, « œ » and « € » as themselves
    schedule = table_rows(pdf.all("Table")[0])
    assert schedule[0] == ["Versement", "Montant"]  # header cells (TH) first
    assert schedule[1][0].startswith("Avance") and schedule[2][0].startswith("Solde")
    assert schedule[-1] == ["Total", granted]
    assert {"THead", "TBody"} <= {e.role for e in pdf.all("Table")[0].walk()}
    assert d["organisation"]["name"] in pdf.text
    assert fonts(content) and all(fonts(content).values())  # every glyph embedded
    assert any("DejaVu" in name for name in fonts(content))


def test_the_convention_and_the_refusal_letter_are_tagged_with_articles_budget_tables_and_recourse_list(
    client: TestClient, demo, db_engine
) -> None:
    from aap.financing import documents
    from aap.models import Dossier

    campaign = previous_campaign(Walk(client).admin)
    with Session(db_engine) as session:
        dossier = session.scalar(
            select(Dossier).where(Dossier.campaign_id == campaign["id"]).order_by(Dossier.id)
        )
        line = next(c for c in dossier.cofinancements if c.decision == "accorde")
        line.motif = "Hors des priorités de l'œuvre commune"
        made = {}
        for kind in ("convention", "refus"):  # what the after-commit effect renders and stores
            ctx = documents.context(
                session, dossier, line, kind, Decimal("30000.00"), dossier.conventionne_at
            )
            html = documents.render_html(kind, ctx)
            made[kind] = (ctx, documents.render_pdf(html, ctx["title"], dossier.conventionne_at))
        number, organisation, financeur = dossier.number, dossier.organisation.name, line.financeur.name
        session.rollback()

    ctx, content = made["convention"]
    pdf = accessible(content, f"Convention d'attribution de subvention – {number} – {financeur}")
    assert pdf.texts("H1") == ["Convention d'attribution d'une subvention"]
    headings = pdf.texts("H2")
    assert headings[:2] == ["Article 1 – Objet", "Article 2 – Montant de la subvention"]
    assert "Échéancier des versements" in headings
    assert any(h.startswith("Annexe – budget prévisionnel") for h in headings)
    tables = [table_rows(t) for t in pdf.all("Table")]
    assert [t[0] for t in tables] == [
        ["Versement", "Montant"],
        ["Compte", "Charges", "Montant"],
        ["Compte", "Produits", "Montant"],
    ]
    assert tables[0][-1] == ["Total", plain(ctx["montant"])]
    assert tables[1][-1][1:] == ["Total des charges", plain(ctx["annexe"]["total_charges"])]
    assert tables[2][-1][1] == "Total des produits"
    assert any(organisation in p and "représentée par" in p for p in pdf.texts("P"))  # the parties
    assert "mettre en œuvre" in pdf.text and "€" in pdf.text

    _, content = made["refus"]
    pdf = accessible(content, f"Décision de refus de subvention – {number} – {financeur}")
    assert pdf.texts("H1") == ["Objet : décision de refus de subvention"]
    assert "Voies et délais de recours" in pdf.texts("H2")
    recourse = pdf.texts("LI")
    assert (
        len(recourse) == 3 and "recours gracieux" in recourse[0] and "tribunal administratif" in recourse[2]
    )
    assert any("Motif de la décision" in p and "l'œuvre commune" in p for p in pdf.texts("P"))
    assert organisation in pdf.text
