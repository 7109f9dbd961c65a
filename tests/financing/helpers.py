"""Steps the financing tests share: walk an open-campaign draft to `avise` through the API."""

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import AGENTS, Actor, complete_draft, open_campaign, previous_campaign

__all__ = ["AGENTS", "Actor", "Walk", "instruct", "open_campaign", "previous_campaign", "to_avise"]


class Walk:
    """The demo's people, logged in once."""

    def __init__(self, client: TestClient):
        self.client = client
        self.porteur = Actor(client, "porteur@demo.aap.test")
        self.porteur2 = Actor(client, "porteur2@demo.aap.test")
        self.instructeur = Actor(client, "instructeur@demo.aap.test")
        self.admin = Actor(client, "admin@demo.aap.test")
        self.agents = {code: Actor(client, email) for code, email in AGENTS.items()}

    def dossier(self, did: int) -> dict[str, Any]:
        return self.instructeur.get(f"/api/v1/dossiers/{did}").json()

    def enveloppes(self, campaign_id: int) -> dict[str, dict[str, Any]]:
        items = self.admin.get(f"/api/v1/campaigns/{campaign_id}/enveloppes").json()["items"]
        return {e["financeur"]: e for e in items}

    def decide(self, did: int, code: str, decision: str, montant: Any = None, motif: str | None = None):  # type: ignore[no-untyped-def]
        body: dict[str, Any] = {"decision": decision}
        if montant is not None:
            body["montant"] = str(montant)
        if motif is not None:
            body["motif"] = motif
        return self.agents[code].post(f"/api/v1/dossiers/{did}/cofinancements/{code}/decision", json=body)


def instruct(w: Walk, d: dict[str, Any], ratio: Decimal = Decimal("1")) -> dict[str, Any]:
    """A deposed dossier instructed (proposals at `ratio` of each request) and given a favourable avis:
    every financer may now decide."""
    did = d["id"]
    assert w.instructeur.fire(did, "prendre_en_instruction").status_code == 200
    for line in d["cofinancements"]:
        amount = (Decimal(line["montant_demande"]) * ratio).quantize(Decimal("0.01"))
        r = w.instructeur.post(
            f"/api/v1/dossiers/{did}/cofinancements/{line['financeur']}/proposition",
            json={"montant": str(amount)},
        )
        assert r.status_code == 200, r.text
    assert w.instructeur.fire(did, "terminer_instruction").status_code == 200
    r = w.instructeur.fire(did, "rendre_avis", avis="favorable")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "avise"
    return r.json()


def to_avise(w: Walk, porteur: Actor | None = None, ratio: Decimal = Decimal("1")) -> dict[str, Any]:
    """A complete demo draft of `porteur` deposed, instructed and avisé."""
    return instruct(w, complete_draft(porteur or w.porteur), ratio)
