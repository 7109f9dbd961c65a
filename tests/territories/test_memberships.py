"""One person, several contracts: each request acts within the territory it names; nothing of the
other shows."""

import html
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.territories.memberships import add_membership
from tests.conftest import login
from tests.territories.helpers import PASSWORD, load_metro, new_dossier


def test_a_state_agent_and_a_shared_instructeur_work_in_two_territories_with_one_account(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    metro = load_metro(db_engine, demo)
    theirs = new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@metro.test",
        qpv=["QN02602X"],
        orientation="2",
        financements={"ETAT": "2000.00"},
        title="Pracomtal : médiation",
        state="depose",
    )
    with Session(db_engine) as s:
        add_membership(s, email="etat@demo.aap.test", territory="metro", role="financeur", financeur="ETAT")
        add_membership(s, email="instructeur@metro.test", territory="dlva", role="instructeur")
        s.commit()
    etat = login(client, "etat@demo.aap.test")
    in_metro = {**etat, "X-Aap-Territoire": "metro"}

    me = client.get("/api/v1/me", headers=etat).json()
    assert [(t["code"], t["role"], t["financeur"]) for t in me["territoires"]] == [
        ("dlva", "financeur", "ETAT"),
        ("metro", "financeur", "ETAT"),
    ]
    home = client.get("/api/v1/dossiers", headers=etat, params={"limit": 500}).json()["items"]
    assert home and theirs.id not in [d["id"] for d in home]
    there = client.get("/api/v1/dossiers", headers=in_metro).json()["items"]
    assert [d["id"] for d in there] == [theirs.id]  # only the metropolis, nothing of the demo
    assert {c["territory"] for c in client.get("/api/v1/campaigns", headers=in_metro).json()["items"]} == {
        "metro"
    }
    assert client.get(f"/api/v1/dossiers/{home[0]['id']}", headers=in_metro).status_code == 404
    assert client.get(f"/api/v1/dossiers/{theirs.id}", headers=etat).status_code == 404
    assert client.get("/api/v1/me", headers=in_metro).json()["financeur"]["name"] == "État (programme 147)"

    shared = login(client, "instructeur@metro.test", PASSWORD)
    in_dlva = {**shared, "X-Aap-Territoire": "dlva"}
    deposited = next(
        d for d in client.get("/api/v1/dossiers", headers=in_dlva, params={"state": "depose"}).json()["items"]
    )
    taken = client.post(
        f"/api/v1/dossiers/{deposited['id']}/transitions/prendre_en_instruction", headers=in_dlva
    )
    assert taken.status_code == 200, taken.text
    history = client.get(f"/api/v1/dossiers/{deposited['id']}/history", headers=in_dlva).json()["items"]
    assert (history[-1]["by"], history[-1]["role"]) == ("instructeur@metro.test", "instructeur")
    assert client.get(f"/api/v1/dossiers/{deposited['id']}", headers=shared).status_code == 404  # home: metro
    assert client.get("/api/v1/me", headers=shared).json()["role"] == "instructeur"

    nowhere = client.get(
        "/api/v1/dossiers", headers={**login(client, "ville@demo.aap.test"), "X-Aap-Territoire": "metro"}
    )
    assert nowhere.status_code == 403 and nowhere.json()["detail"]["code"] == "territoire_non_membre"


def test_a_person_of_two_contracts_chooses_the_territory_in_the_pages(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    """The header's selector, remembered in the session: the pages (and the API with the same cookie)
    act in the chosen contract; nothing of the other shows."""
    from aap.models import Dossier
    from tests.web.staff_helpers import web_login

    metro = load_metro(db_engine, demo)
    theirs = new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@metro.test",
        qpv=["QN02602X"],
        orientation="2",
        financements={"ETAT": "2000.00"},
        title="Pracomtal : médiation",
        state="depose",
    )
    with Session(db_engine) as s:
        add_membership(s, email="instructeur@metro.test", territory="dlva", role="instructeur")
        s.commit()
        ours = s.scalars(
            select(Dossier).where(Dossier.campaign_id != metro.campaign_id, Dossier.state == "depose")
        )
        demo_dossier = next(iter(ours))
        demo_id, demo_title = demo_dossier.id, demo_dossier.title

    csrf = web_login(client, "instructeur@metro.test", PASSWORD)
    home = client.get("/instruction")
    assert home.status_code == 200
    assert 'name="territoire"' in home.text  # the selector: two contracts
    assert "Contrat de ville de la Métropole du Val 2024-2030" in home.text
    assert "Contrat de ville DLVAgglo – Manosque 2024-2030" in home.text
    assert "Pracomtal : médiation" in home.text and demo_title not in html.unescape(home.text)
    assert client.get(f"/instruction/dossiers/{demo_id}").status_code == 404

    chosen = client.post("/territoire", data={"csrf": csrf, "territoire": "dlva"}, follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == "/instruction"
    there = client.get("/instruction")
    there_text = html.unescape(there.text)
    assert "Vous travaillez maintenant dans le contrat de ville « Contrat de ville DLVAgglo" in there_text
    assert demo_title in there_text and "Pracomtal : médiation" not in there_text
    assert client.get(f"/instruction/dossiers/{theirs.id}").status_code == 404
    assert client.get(f"/instruction/dossiers/{demo_id}").status_code == 200
    assert '<option value="dlva" selected>' in client.get("/instruction").text
    # the API with the same cookie acts in the same contract
    listed = client.get("/api/v1/dossiers", params={"limit": 500}).json()["items"]
    assert theirs.id not in {d["id"] for d in listed} and demo_id in {d["id"] for d in listed}

    refused = client.post("/territoire", data={"csrf": csrf, "territoire": "ailleurs"})
    assert refused.status_code == 403
    assert "ne travaille pas dans ce contrat de ville" in refused.text
    assert client.post("/territoire", data={"csrf": "x", "territoire": "metro"}).status_code == 403
    back = client.post("/territoire", data={"csrf": csrf, "territoire": "metro"})
    assert back.status_code == 200 and "Pracomtal : médiation" in back.text

    # one contract only: no selector
    web_login(client, "instructeur@demo.aap.test")
    assert 'name="territoire"' not in client.get("/instruction").text


def test_an_association_in_two_contracts_chooses_one_in_its_pages(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    """An association of the demo also files in the metropolis' call: by default its pages show both
    contracts; once it chooses one, its dossiers and calls of the other do not show."""
    from tests.web.staff_helpers import web_login

    metro = load_metro(db_engine, demo)
    there = new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@demo.aap.test",
        qpv=["QN02602X"],
        orientation="2",
        financements={"ETAT": "2000.00"},
        title="Pracomtal : atelier vélo",
    )
    csrf = web_login(client, "porteur@demo.aap.test")
    every = html.unescape(client.get("/mes-dossiers").text)
    assert 'name="territoire"' in every and "Tous mes contrats de ville" in every
    assert "Pracomtal : atelier vélo" in every
    home_titles = [
        d["title"]
        for d in client.get("/api/v1/dossiers", params={"limit": 500}).json()["items"]
        if d["id"] != there.id
    ]
    assert home_titles and home_titles[0] in every

    chosen = client.post("/territoire", data={"csrf": csrf, "territoire": "dlva"}, follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == "/mes-dossiers"
    dlva = html.unescape(client.get("/mes-dossiers").text)
    assert "Pracomtal : atelier vélo" not in dlva and home_titles[0] in dlva
    assert client.get(f"/dossiers/{there.id}").status_code == 404
    assert {c["territory"] for c in client.get("/api/v1/campaigns").json()["items"]} == {"dlva"}

    client.post("/territoire", data={"csrf": csrf, "territoire": "metro"})
    metro_page = html.unescape(client.get("/mes-dossiers").text)
    assert "Pracomtal : atelier vélo" in metro_page and home_titles[0] not in metro_page
    # acting in one contract, the account itself still changes: its name is saved
    renamed = client.post("/mon-compte/nom", data={"csrf": csrf, "full_name": "Awa Diallo-Martin"})
    assert renamed.status_code == 200 and "Awa Diallo-Martin" in renamed.text
    assert client.get("/api/v1/me").json()["name"] == "Awa Diallo-Martin"

    client.post("/territoire", data={"csrf": csrf, "territoire": ""})
    assert "Pracomtal : atelier vélo" in html.unescape(client.get("/mes-dossiers").text)

    # an association of one contract: no selector, and it cannot act in another
    web_login(client, "porteur2@demo.aap.test")
    assert 'name="territoire"' not in client.get("/mes-dossiers").text
    headers = {**login(client, "porteur2@demo.aap.test"), "X-Aap-Territoire": "metro"}
    refused = client.get("/api/v1/dossiers", headers=headers)
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "territoire_non_membre"
