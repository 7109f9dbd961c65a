"""The programme table: a row per programmed dossier, columns per financer, the same totals as the API."""

import csv
import io
from decimal import Decimal

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.financing.helpers import Walk, open_campaign, previous_campaign

AMOUNT_KINDS = (("demandé", "demande"), ("proposé", "propose"), ("accordé", "accorde"))


def _fr(text: str) -> Decimal:
    return Decimal(text.replace(",", ".")) if text else Decimal(0)


def _programmed(w: Walk, campaign_id: int) -> list[dict]:
    items = w.admin.get("/api/v1/dossiers", params={"campaign_id": campaign_id, "limit": 500}).json()["items"]
    return [d for d in items if d["state"] in ("programme", "conventionne", "bilan_depose", "cloture")]


def test_the_csv_has_a_row_per_programmed_dossier_and_the_enveloppes_totals(client: TestClient, demo) -> None:
    w = Walk(client)
    campaign = previous_campaign(w.admin)
    programmed = _programmed(w, campaign["id"])
    r = w.admin.get(f"/api/v1/campaigns/{campaign['id']}/programmation", params={"format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())  # BOM: French Excel reads UTF-8
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    header, *body, totals = table
    subtotals = [row for row in body if row[0].startswith("Sous-total")]
    body = [row for row in body if not row[0].startswith("Sous-total")]
    assert [row[0] for row in subtotals] == [f"Sous-total Manosque ({len(programmed)} dossiers)"]
    assert header[:9] == [
        "Numéro",
        "Porteur",
        "Action",
        "QPV",
        "Commune",
        "Orientation",
        "Budget total",
        "Avis du comité technique",
        "État",
    ]
    assert sorted(row[0] for row in body) == sorted(d["number"] for d in programmed)
    assert totals[0].startswith("Total")
    first = next(row for row in body if row[0] == programmed[0]["number"])
    assert first[1] == programmed[0]["organisation"]["name"] and first[2] == programmed[0]["title"]
    assert first[3].startswith("QN") and first[4] == "Manosque"
    assert first[7] == "Favorable"
    assert (
        first[8]
        == {"conventionne": "Conventionné", "bilan_depose": "Bilan déposé", "cloture": "Clôturé"}[
            programmed[0]["state"]
        ]
    )
    assert _fr(first[6]) > 0
    for code, e in w.enveloppes(campaign["id"]).items():
        for label, key in AMOUNT_KINDS[1:]:
            col = header.index(f"{code} {label}")
            assert _fr(totals[col]) == Decimal(e[key]), (code, label)
            assert sum(_fr(row[col]) for row in body) == _fr(totals[col])
            assert _fr(subtotals[0][col]) == _fr(totals[col])  # one commune: its subtotal is the total
    assert _fr(totals[header.index("Budget total")]) == sum(_fr(row[6]) for row in body)


def test_the_xlsx_has_typed_euro_cells_a_frozen_header_and_the_same_totals(client: TestClient, demo) -> None:
    w = Walk(client)
    campaign = previous_campaign(w.admin)
    programmed = _programmed(w, campaign["id"])
    r = w.agents["ETAT"].get(f"/api/v1/campaigns/{campaign['id']}/programmation", params={"format": "xlsx"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(values_only=True))
    header, *body, totals = rows
    body = [row for row in body if not str(row[0]).startswith("Sous-total")]
    etat_programmed = [d for d in programmed if any(c["financeur"] == "ETAT" for c in d["cofinancements"])]
    assert len(body) == len(etat_programmed)  # a financer sees the dossiers that solicit it
    col = header.index("ETAT accordé")
    cell = ws.cell(row=2, column=col + 1)
    assert isinstance(cell.value, int | float) and "€" in cell.number_format
    expected = Decimal(w.enveloppes(campaign["id"])["ETAT"]["accorde"])
    assert Decimal(str(totals[col])).quantize(Decimal("0.01")) == expected
    assert str(totals[0]).startswith("Total")


def test_the_json_table_and_the_state_filter(client: TestClient, demo) -> None:
    w = Walk(client)
    previous = previous_campaign(w.admin)
    data = w.instructeur.get(f"/api/v1/campaigns/{previous['id']}/programmation").json()
    assert data["total"] == len(data["items"]) == len(_programmed(w, previous["id"]))
    enveloppes = w.enveloppes(previous["id"])
    for f in data["financeurs"]:
        assert data["totaux"]["financements"][f["code"]]["accorde"] == enveloppes[f["code"]]["accorde"]
    row = data["items"][0]
    assert row["orientation_label"] and row["qpv_noms"] and row["budget_total"].count(".") == 1
    none = w.admin.get(f"/api/v1/campaigns/{previous['id']}/programmation", params={"state": "rejete"}).json()
    assert none["total"] == 0 and none["totaux"]["accorde"] == "0.00"
    current = open_campaign(w.admin)
    drafts = w.admin.get(
        f"/api/v1/campaigns/{current['id']}/programmation", params={"state": "brouillon", "format": "json"}
    ).json()
    assert drafts["total"] >= 3 and {i["state"] for i in drafts["items"]} == {"brouillon"}
    bad = w.admin.get(f"/api/v1/campaigns/{previous['id']}/programmation", params={"state": "nimporte"})
    assert bad.status_code == 422
    assert w.porteur.get(f"/api/v1/campaigns/{previous['id']}/programmation").status_code == 403


def test_the_csv_reads_the_dossiers_page_by_page(client: TestClient, demo, db_engine) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from aap.financing import programmation
    from aap.models import User

    w = Walk(client)
    campaign = previous_campaign(w.admin)
    whole = w.admin.get(f"/api/v1/campaigns/{campaign['id']}/programmation", params={"format": "csv"}).content
    with Session(db_engine) as session:
        admin = session.scalar(select(User).where(User.email == "admin@demo.aap.test"))
        table = programmation.open_table(session, admin, campaign["id"], programmation.DEFAULT_STATES)
        paged = b"".join(programmation.csv_stream(session, admin, table, chunk=1))
    assert paged == whole
