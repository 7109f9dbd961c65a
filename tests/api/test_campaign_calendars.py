"""Several calls run side by side in one contract, each on its own calendar type."""

from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from aap.campaigns.service import save_campaign
from aap.rules_files import parse_campaign_file
from tests.api.helpers import Actor

EXAMPLE = Path(__file__).resolve().parents[2] / "docs/examples/campaign.investissement.example.yaml"


def test_an_investment_call_runs_beside_the_annual_one_with_its_own_phases(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    with Session(db_engine) as session:
        save_campaign(session, parse_campaign_file(EXAMPLE), source=str(EXAMPLE))
        session.commit()
    admin = Actor(client, "admin@demo.aap.test")
    campaigns = {c["code"]: c for c in admin.get("/api/v1/campaigns").json()["items"]}
    invest = campaigns["dlva-2027-investissement"]
    assert invest["calendar"] == "investissement" and invest["completion_apres_cloture"] is True
    assert [f["code"] for f in invest["financeurs"]] == ["ETAT", "DLVA"]
    phases = [row["phase"] for row in invest["timeline"]]
    assert "programmation" in phases and "comite_technique" not in phases
    annual = next(c for c in campaigns.values() if c["depot_ouvert"])
    assert annual["calendar"] == "annuel"
    assert "comite_technique" in [row["phase"] for row in annual["timeline"]]
    assert sum(row["status"] == "en_cours" for row in annual["timeline"]) == 1
    assert invest["state"] in phases and annual["state"] == "depot"
