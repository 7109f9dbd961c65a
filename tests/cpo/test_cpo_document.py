"""The association reads its CPO with a screen reader: a tagged PDF (PDF/UA-1) in French, its parties a
list, its planned amounts a table whose header cells name the years and the financers."""

from decimal import Decimal

from fastapi.testclient import TestClient

from tests.accessible_pdf import accessible, fonts, table_rows
from tests.cpo.helpers import Walk


def test_the_cpo_convention_is_a_tagged_pdf_with_its_parties_and_its_amounts_table(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    [cpo] = w.porteur2.get("/api/v1/cpos", params={"state": "active"}).json()["items"]
    r = w.porteur2.get(f"/api/v1/cpos/{cpo['id']}/convention.pdf")
    assert r.status_code == 200

    pdf = accessible(r.content, f"Convention pluriannuelle d'objectifs n° {cpo['id']}")
    assert pdf.texts("H1") == ["Convention pluriannuelle d'objectifs (CPO)"]
    assert pdf.texts("H2")[:3] == ["Entre", "et", "Action"]
    parties = pdf.texts("LI")
    assert len(parties) == len(cpo["signataires"]) + 1
    assert all("signée le" in p for p in parties[:-1])  # both financers signed, each with its date
    assert cpo["organisation"]["name"] in parties[-1]

    [table] = pdf.all("Table")
    rows = table_rows(table)
    years = [str(a["annee"]) for a in cpo["annees"]]
    assert rows[0] == ["Financeur", *years]
    assert [row[0] for row in rows[1:]] == [*(s["financeur"] for s in cpo["signataires"]), "Total"]
    assert all(cell.endswith(" €") for row in rows[1:] for cell in row[1:])
    total_first_year = sum((Decimal(f["prevu"]) for f in cpo["annees"][0]["financeurs"]), Decimal(0))
    assert rows[-1][1] == f"{total_first_year:,.2f}".replace(",", " ").replace(".", ",") + " €"
    assert "sous réserve du vote des crédits" in pdf.text
    assert all(fonts(r.content).values()) and any("DejaVu" in f for f in fonts(r.content))
