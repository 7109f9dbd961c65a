"""The programme by commune: a Commune column, ?commune=, subtotals per commune and the grand total."""

import csv
import io
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine

from tests.conftest import login
from tests.territories.helpers import PASSWORD, load_metro, new_dossier


def _fr(text: str) -> Decimal:
    return Decimal(text.replace(",", ".")) if text else Decimal(0)


def _setup(db_engine: Engine, today: date):  # type: ignore[no-untyped-def]
    metro = load_metro(db_engine, today, validation="par_commune")
    kw = {"state": "avise", "avis": "favorable", "orientation": "1.1"}
    one = new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@metro.test",
        qpv=["QN02601X"],
        financements={"ETAT": "4000.00"},
        title="Loriol : accès aux droits",
        **kw,
    )
    two = new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@metro.test",
        qpv=["QN02602X"],
        financements={"MONTELIMAR": "2500.00", "ETAT": "1000.00"},
        title="Pracomtal : chantier",
        **kw,
    )
    both = new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@metro.test",
        qpv=["QN02601X", "QN02603X"],
        financements={"ETAT": "500.00", "LORIOL": "700.00"},
        title="Entre Loriol et Nocaze",
        **kw,
    )
    return metro, one, two, both


def _csv(client: TestClient, headers: dict[str, str], campaign_id: int, **params: str) -> list[list[str]]:
    r = client.get(
        f"/api/v1/campaigns/{campaign_id}/programmation", headers=headers, params={"format": "csv", **params}
    )
    assert r.status_code == 200, r.text
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))


def test_the_programme_has_a_commune_column_a_subtotal_per_commune_and_the_grand_total(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    metro, one, two, both = _setup(db_engine, demo)
    admin = login(client, "admin@metro.test", PASSWORD)
    header, *rows = _csv(client, admin, metro.campaign_id)
    body = [r for r in rows if r[0].endswith(tuple("0123456789"))]
    sub = {r[4]: r for r in rows if r[0].startswith("Sous-total")}
    total = rows[-1]
    commune = header.index("Commune")
    assert {r[0]: r[commune] for r in body} == {
        one.number: "Loriol-sur-Drôme",
        two.number: "Montélimar",
        both.number: "Loriol-sur-Drôme, Montélimar",
    }
    assert rows[-3][0].startswith("Sous-total") and rows[-2][0].startswith("Sous-total")  # before the total
    assert sub["Loriol-sur-Drôme"][0] == "Sous-total Loriol-sur-Drôme (2 dossiers)"
    assert sub["Montélimar"][0] == "Sous-total Montélimar (2 dossiers)"
    etat, loriol, montelimar = (header.index(f"{c} demandé") for c in ("ETAT", "LORIOL", "MONTELIMAR"))
    assert [_fr(sub["Loriol-sur-Drôme"][c]) for c in (etat, loriol, montelimar)] == [4500, 700, 0]
    assert [_fr(sub["Montélimar"][c]) for c in (etat, loriol, montelimar)] == [1500, 700, 2500]
    assert total[0] == "Total (3 dossiers)"
    assert [_fr(total[c]) for c in (etat, loriol, montelimar)] == [5500, 700, 2500]  # each dossier once
    assert _fr(total[header.index("Total demandé")]) == Decimal("8700")


def test_one_communes_programme_in_csv_and_xlsx(client: TestClient, db_engine: Engine, demo: date) -> None:
    metro, one, two, both = _setup(db_engine, demo)
    admin = login(client, "admin@metro.test", PASSWORD)
    header, *rows = _csv(client, admin, metro.campaign_id, commune="26166")
    assert [r[0] for r in rows] == [
        one.number,
        both.number,
        "Sous-total Loriol-sur-Drôme (2 dossiers)",
        "Total (2 dossiers)",
    ]
    etat = header.index("ETAT demandé")
    assert _fr(rows[-2][etat]) == _fr(rows[-1][etat]) == Decimal("4500")

    r = client.get(
        f"/api/v1/campaigns/{metro.campaign_id}/programmation",
        headers=admin,
        params={"format": "xlsx", "commune": "26198"},
    )
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    values = list(ws.iter_rows(values_only=True))
    assert [v[0] for v in values[1:]] == [
        two.number,
        both.number,
        "Sous-total Montélimar (2 dossiers)",
        "Total (2 dossiers)",
    ]
    col = values[0].index("MONTELIMAR demandé")
    cell = ws.cell(row=len(values) - 1, column=col + 1)
    assert cell.value == 2500 and "€" in cell.number_format

    data = client.get(f"/api/v1/campaigns/{metro.campaign_id}/programmation", headers=admin).json()
    assert [(s["commune"], s["dossiers"], s["demande"]) for s in data["sous_totaux_communes"]] == [
        ("26166", 2, "5200.00"),
        ("26198", 2, "4700.00"),
    ]
    unknown = client.get(
        f"/api/v1/campaigns/{metro.campaign_id}/programmation", headers=admin, params={"commune": "04112"}
    )
    assert unknown.status_code == 422 and unknown.json()["detail"]["code"] == "commune_inconnue"


def test_a_communes_agent_programme_holds_every_dossier_of_its_qpv(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    metro, one, two, both = _setup(db_engine, demo)
    loriol = login(client, "loriol@metro.test", PASSWORD)
    _header, *rows = _csv(client, loriol, metro.campaign_id)
    assert [r[0] for r in rows if not r[0].startswith(("Sous-total", "Total"))] == [one.number, both.number]
