"""Validation by commune: each commune validates its part at its own instance; its agents see its QPV."""

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from aap.models import Dossier
from tests.conftest import login
from tests.territories.helpers import PASSWORD, load_metro, new_dossier

LORIOL, MONTELIMAR = "26166", "26198"


def _setup(db_engine: Engine, today: date):  # type: ignore[no-untyped-def]
    validation = today + timedelta(days=100)
    metro = load_metro(
        db_engine,
        today,
        validation="par_commune",
        validations_communes={LORIOL: (validation - timedelta(days=5)).isoformat()},
    )
    kw = {"state": "avise", "avis": "favorable"}
    d1 = new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@metro.test",
        qpv=["QN02601X"],
        orientation="1.1",
        financements={"ETAT": "4000.00"},
        title="Loriol : accès aux droits",
        **kw,
    )
    d2 = new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@metro.test",
        qpv=["QN02602X"],
        orientation="2",
        financements={"MONTELIMAR": "2500.00", "ETAT": "1000.00"},
        title="Pracomtal : chantier jeunes",
        state="instruit",
    )
    d3 = new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@metro.test",
        qpv=["QN02603X", "QN02602X"],
        orientation="2",
        financements={"MONTELIMAR": "1500.00"},
        title="Nocaze : fête de quartier",
        **kw,
    )
    return metro, validation, d1, d2, d3


def test_a_communes_agent_sees_every_dossier_of_its_qpv_read_only(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    metro, _validation, d1, d2, d3 = _setup(db_engine, demo)
    loriol = login(client, "loriol@metro.test", PASSWORD)
    montelimar = login(client, "montelimar@metro.test", PASSWORD)
    seen = client.get("/api/v1/dossiers", headers=loriol).json()
    assert [d["id"] for d in seen["items"]] == [d1.id]  # it asks Loriol for nothing
    assert client.get(f"/api/v1/dossiers/{d2.id}", headers=loriol).status_code == 404
    assert {d["id"] for d in client.get("/api/v1/dossiers", headers=montelimar).json()["items"]} == {
        d2.id,
        d3.id,
    }
    # read only: a decision on a line that does not exist for Loriol is refused, nothing changes
    refused = client.post(
        f"/api/v1/dossiers/{d1.id}/cofinancements/LORIOL/decision",
        headers=loriol,
        json={"decision": "accorde", "montant": "100.00"},
    )
    assert refused.status_code in (403, 404, 409, 422), refused.text
    assert [
        c["financeur"]
        for c in client.get(f"/api/v1/dossiers/{d1.id}", headers=loriol).json()["cofinancements"]
    ] == ["ETAT"]
    # the demo's commune agent sees nothing of the metropolis
    ville_demo = login(client, "ville@demo.aap.test")
    assert client.get(f"/api/v1/dossiers/{d1.id}", headers=ville_demo).status_code == 404


def test_each_commune_validates_its_part_then_the_programme_is_whole(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    metro, validation, d1, d2, d3 = _setup(db_engine, demo)
    admin = login(client, "admin@metro.test", PASSWORD)
    loriol = login(client, "loriol@metro.test", PASSWORD)
    montelimar = login(client, "montelimar@metro.test", PASSWORD)
    url = f"/api/v1/campaigns/{metro.campaign_id}"

    phase = client.get(url, headers=admin).json()
    assert phase["validation"] == "par_commune"
    waiting = phase["validation_communes"]["communes_a_valider"]
    assert [(c["insee"], c["validation_date"]) for c in waiting] == [
        (LORIOL, (validation - timedelta(days=5)).isoformat()),
        (MONTELIMAR, validation.isoformat()),
    ]
    assert phase["validation_communes"]["programme_complet"] is False

    communes = {c["insee"]: c for c in client.get(f"{url}/communes", headers=admin).json()["items"]}
    assert communes[LORIOL]["dossiers"] == 1 and communes[LORIOL]["demande"] == "4000.00"
    assert communes[MONTELIMAR]["dossiers"] == 2 and communes[MONTELIMAR]["dossiers_non_avises"] == 1
    assert communes[MONTELIMAR]["demande"] == "5000.00"
    assert {c["state"] for c in communes.values()} == {"a_valider"}

    assert client.post(f"{url}/communes/{LORIOL}/validation", headers=montelimar).status_code == 403
    ok = client.post(
        f"{url}/communes/{LORIOL}/validation", headers=loriol, json={"comment": "Conseil municipal"}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "validee" and ok.json()["validated_by"] == "loriol@metro.test"
    assert client.post(f"{url}/communes/{LORIOL}/validation", headers=admin).status_code == 409

    early = client.post(f"{url}/communes/{MONTELIMAR}/validation", headers=montelimar)
    assert early.status_code == 422
    assert [e["path"] for e in early.json()["detail"]["errors"]] == [f"dossiers.{d2.number}"]
    assert (
        client.get(url, headers=admin).json()["validation_communes"]["communes_a_valider"][0]["insee"]
        == MONTELIMAR
    )

    with Session(db_engine) as s:
        s.execute(update(Dossier).where(Dossier.id == d2.id).values(state="avise", avis="favorable"))
        s.commit()
    assert client.post(f"{url}/communes/{MONTELIMAR}/validation", headers=admin).status_code == 200
    whole = client.get(url, headers=admin).json()["validation_communes"]
    assert whole["communes_a_valider"] == [] and whole["programme_complet"] is True
    assert whole["communes_validees"] == [LORIOL, MONTELIMAR]


def test_a_campaign_validated_as_a_whole_has_no_commune_validation(client: TestClient, demo: date) -> None:
    admin = login(client, "admin@demo.aap.test")
    campaign = client.get("/api/v1/campaigns", headers=admin).json()["items"][0]
    assert campaign["validation"] == "globale" and campaign.get("validation_communes") is None
    refused = client.post(f"/api/v1/campaigns/{campaign['id']}/communes/04112/validation", headers=admin)
    assert refused.status_code == 409 and refused.json()["detail"]["code"] == "validation_globale"
