"""The annual report as a tagged PDF (PDF/UA-1): what the team reads with a screen reader has the same
figures as the JSON, in headings and tables (the charts are tables with bars for the eye)."""

from fastapi.testclient import TestClient

from tests.accessible_pdf import accessible, fonts, table_rows
from tests.bilans.helpers import Walk
from tests.financing.helpers import previous_campaign


def test_the_report_pdf_is_tagged_and_its_tables_say_what_the_json_says(client: TestClient, demo) -> None:
    from workflows.labels import BILAN_COUNT_LABELS

    w = Walk(client)
    campaign = previous_campaign(w.admin)
    url = f"/api/v1/campaigns/{campaign['id']}/rapport"
    data = w.admin.get(url).json()
    r = w.admin.get(url, params={"format": "pdf"})
    assert r.status_code == 200

    pdf = accessible(r.content, f"Rapport de suivi et de bilan — {campaign['title']}")
    assert pdf.texts("H1") == [f"Rapport de suivi et de bilan — {campaign['title']}"]
    assert pdf.texts("H2")[:3] == [
        "Les bilans",
        f"Les bénéficiaires ({data['beneficiaires']['total']} au total, selon les bilans déposés)",
        "Les montants : prévu et réalisé",
    ]
    tables = [table_rows(t) for t in pdf.all("Table")]
    assert tables[0] == [[label, str(data["bilans"][key])] for key, label in BILAN_COUNT_LABELS.items()]
    by_financer = next(t for t in tables if t[0] == ["Financeur", "Prévu", "Réalisé"])
    assert [row[0] for row in by_financer[1:]] == [f["name"] for f in data["montants"]["par_financeur"]]
    assert "€" in pdf.text
    contributions = data["focus"]["contributions"]
    assert {"Par financeur", "Par orientation (charges de l'action)"} <= set(pdf.texts("H3"))
    assert contributions and {c["theme"] for c in contributions} <= set(pdf.texts("H3"))
    assert all(fonts(r.content).values()) and any("DejaVu" in f for f in fonts(r.content))
