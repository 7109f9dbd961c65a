"""Campaign codes name a call within its territory; nothing of one territory reaches the other."""

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.models import Campaign
from tests.conftest import login
from tests.territories.helpers import PASSWORD, demo_open_campaign, load_metro, new_dossier


def _campaigns(client: TestClient, headers: dict[str, str], **params: str) -> list[dict]:  # type: ignore[type-arg]
    response = client.get("/api/v1/campaigns", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_campaign_file_of_another_territory_with_the_same_code_leaves_the_first_untouched(
    db_engine: Engine, demo: date
) -> None:
    with Session(db_engine) as s:
        demo_call = demo_open_campaign(s)
        before = (
            demo_call.id,
            demo_call.title,
            dict(demo_call.dates),
            [f.financeur.code for f in demo_call.financeurs],
        )
    metro = load_metro(db_engine, demo)
    with Session(db_engine) as s:
        same_code = list(s.scalars(select(Campaign).where(Campaign.code == metro.campaign_code)))
        assert len(same_code) == 2
        demo_call = s.get(Campaign, before[0])
        assert demo_call is not None
        assert demo_call.code == metro.campaign_code
        after = (
            demo_call.id,
            demo_call.title,
            dict(demo_call.dates),
            [f.financeur.code for f in demo_call.financeurs],
        )
    assert after == before
    assert metro.campaign_id != before[0]


def test_each_territorys_agents_see_only_their_own_campaign_and_dossiers(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    metro = load_metro(db_engine, demo)
    dossier = new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@metro.test",
        qpv=["QN02602X"],
        orientation="1.1",
        financements={"ETAT": "4000.00", "MONTELIMAR": "2000.00"},
        title="Ateliers du mercredi à Pracomtal",
        state="depose",
    )
    # numbered within its territory: the first of the metropolis, whatever the demo numbered
    assert dossier.number == f"{metro.year}-00001"

    etat_metro = login(client, "etat@metro.test", PASSWORD)
    etat_demo = login(client, "etat@demo.aap.test")
    admin_metro = login(client, "admin@metro.test", PASSWORD)
    admin_demo = login(client, "admin@demo.aap.test")

    for headers, territory in (
        (etat_metro, "metro"),
        (admin_metro, "metro"),
        (etat_demo, "dlva"),
        (admin_demo, "dlva"),
    ):
        calls = _campaigns(client, headers)
        assert calls and {c["territory"] for c in calls} == {territory}
    (metro_call,) = _campaigns(client, etat_metro)
    assert (
        metro_call["code"] == metro.campaign_code
        and metro_call["title"] == "Appel à projets de la Métropole du Val"
    )
    assert [f["code"] for f in metro_call["financeurs"]] == ["ETAT", "LORIOL", "MONTELIMAR"]

    for headers in (etat_metro, admin_metro):
        listed = client.get("/api/v1/dossiers", headers=headers).json()
        assert [d["id"] for d in listed["items"]] == [dossier.id] and listed["total"] == 1
    for headers in (etat_demo, admin_demo):
        listed = client.get("/api/v1/dossiers", headers=headers, params={"limit": 500}).json()
        assert dossier.id not in [d["id"] for d in listed["items"]]
        assert client.get(f"/api/v1/dossiers/{dossier.id}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/campaigns/{metro.campaign_id}", headers=headers).status_code == 404
    demo_ids = [
        d["id"]
        for d in client.get("/api/v1/dossiers", headers=admin_demo, params={"limit": 500}).json()["items"]
    ]
    assert demo_ids
    for did in demo_ids[:5]:
        assert client.get(f"/api/v1/dossiers/{did}", headers=etat_metro).status_code == 404
        assert client.get(f"/api/v1/dossiers/{did}", headers=admin_metro).status_code == 404


def test_a_porteur_lists_the_calls_of_its_territory_first_and_may_ask_for_one_territory(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    load_metro(db_engine, demo)
    porteur_metro = login(client, "porteur@metro.test", PASSWORD)
    porteur_demo = login(client, "porteur@demo.aap.test")
    assert _campaigns(client, porteur_metro)[0]["territory"] == "metro"
    assert _campaigns(client, porteur_demo)[0]["territory"] == "dlva"
    only_dlva = _campaigns(client, porteur_metro, territory="dlva")
    assert only_dlva and {c["territory"] for c in only_dlva} == {"dlva"}
    assert _campaigns(client, porteur_metro, territory="inconnu") == []
