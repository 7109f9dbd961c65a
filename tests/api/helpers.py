"""Small steps the API tests share: who acts, on which demo dossier."""

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import login

AGENTS = {
    "ETAT": "etat@demo.aap.test",
    "DLVA": "agglo@demo.aap.test",
    "MANOSQUE": "ville@demo.aap.test",
    "CAF": "caf@demo.aap.test",
}


class Actor:
    def __init__(self, client: TestClient, email: str, password: str = "demo"):
        self.client, self.email = client, email
        self.headers = login(client, email, password)

    def get(self, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url: str, json: Any = None, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return self.client.post(url, json=json, headers={**self.headers, **(headers or {})})

    def patch(self, url: str, json: Any, version: int | str | None):  # type: ignore[no-untyped-def]
        extra = {} if version is None else {"If-Match": str(version)}
        return self.client.patch(url, json=json, headers={**self.headers, **extra})

    def fire(self, dossier_id: int, name: str, **body: Any):  # type: ignore[no-untyped-def]
        return self.post(f"/api/v1/dossiers/{dossier_id}/transitions/{name}", json=body or None)


def open_campaign(actor: Actor) -> dict[str, Any]:
    return next(c for c in actor.get("/api/v1/campaigns").json()["items"] if c["depot_ouvert"])


def previous_campaign(actor: Actor) -> dict[str, Any]:
    return next(c for c in actor.get("/api/v1/campaigns").json()["items"] if not c["depot_ouvert"])


def drafts(actor: Actor, campaign_id: int) -> list[dict[str, Any]]:
    return actor.get("/api/v1/dossiers", params={"campaign_id": campaign_id, "state": "brouillon"}).json()[
        "items"
    ]


def complete_draft(porteur: Actor) -> dict[str, Any]:
    """A deposed dossier of this porteur in the open call: one of its complete demo drafts, deposed now,
    or else the one the demo deposed (Les Passerelles deposited theirs a week ago)."""
    campaign = open_campaign(porteur)
    for d in drafts(porteur, campaign["id"]):
        if d["title"] and all(line["montant_demande"] for line in d["cofinancements"]):
            schema_ok = porteur.fire(d["id"], "deposer")
            if schema_ok.status_code == 200:
                return schema_ok.json()
    deposed = porteur.get(
        "/api/v1/dossiers", params={"campaign_id": campaign["id"], "state": "depose"}
    ).json()
    if deposed["items"]:
        return deposed["items"][0]
    raise AssertionError("no complete draft in the demo")
