"""The instruction's proposed amounts stay internal until the financers have decided."""

from datetime import date

from fastapi.testclient import TestClient

from tests.api.helpers import Actor, complete_draft
from tests.web.staff_helpers import INSTRUCTEUR


def test_the_porteur_sees_no_proposal_before_the_decisions(client: TestClient, demo: date) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    instructeur = Actor(client, INSTRUCTEUR)
    assert instructeur.fire(dossier["id"], "prendre_en_instruction").status_code == 200
    line = dossier["cofinancements"][0]
    proposed = instructeur.post(
        f"/api/v1/dossiers/{dossier['id']}/cofinancements/{line['financeur']}/proposition",
        json={"montant": "1000.00"},
    )
    assert proposed.status_code == 200, proposed.text

    seen_by_staff = instructeur.get(f"/api/v1/dossiers/{dossier['id']}").json()["cofinancements"]
    assert [c["montant_propose"] for c in seen_by_staff if c["financeur"] == line["financeur"]] == ["1000.00"]
    mine = porteur.get(f"/api/v1/dossiers/{dossier['id']}").json()["cofinancements"]
    assert all(c["montant_propose"] is None for c in mine)
    listed = porteur.get("/api/v1/dossiers", params={"state": "en_instruction"}).json()["items"]
    assert all(c["montant_propose"] is None for d in listed for c in d["cofinancements"])
