"""The company registry lookup, against a local fake of the API « Recherche d'entreprises », and offline."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import Actor, drafts, open_campaign

HORIZON = {
    "siren": "441023567",
    "nom_complet": "ASSOCIATION HORIZON MANOSQUE",
    "nom_raison_sociale": "ASSOCIATION HORIZON MANOSQUE",
    "etat_administratif": "A",
    "siege": {
        "siret": "44102356700015",
        "adresse": "12 AVENUE DES SERRETS 04100 MANOSQUE",
        "numero_voie": "12",
        "type_voie": "AV",
        "libelle_voie": "DES SERRETS",
        "code_postal": "04100",
        "libelle_commune": "MANOSQUE",
        "etat_administratif": "A",
    },
    "matching_etablissements": [],
    "complements": {"est_association": True, "identifiant_association": "W041002345"},
}
BRANCH = {  # a company found through one of its secondary établissements
    "siren": "732829320",
    "nom_complet": "CENTRE SOCIAL LA MOURNIERE",
    "siege": {
        "siret": "73282932000017",
        "adresse": "1 RUE DU SIEGE 13001 MARSEILLE",
        "code_postal": "13001",
        "libelle_commune": "MARSEILLE",
    },
    "matching_etablissements": [
        {
            "siret": "73282932000074",
            "adresse": "5 PLACE DU MARCHE 04100 MANOSQUE",
            "code_postal": "04100",
            "libelle_commune": "MANOSQUE",
            "etat_administratif": "A",
        },
    ],
    "complements": {"est_association": False, "identifiant_association": None},
}


class FakeRegistry:
    def __init__(self) -> None:
        self.queries: list[str] = []
        self.mode = "ok"
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                q = parse_qs(url.query).get("q", [""])[0]
                registry.queries.append(q)
                if registry.mode == "down":
                    self._send(502, {"erreur": "Bad gateway"})
                elif registry.mode == "slow":
                    time.sleep(1.5)
                    self._send(200, {"results": []})
                elif url.path != "/search":
                    self._send(404, {"erreur": "not found"})
                else:
                    results = [
                        c
                        for c in (HORIZON, BRANCH)
                        if q in [c["siege"]["siret"]] + [e["siret"] for e in c["matching_etablissements"]]
                    ]
                    self._send(
                        200, {"results": results, "total_results": len(results), "page": 1, "per_page": 10}
                    )

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the « slow » registry)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def registry(app) -> Iterator[FakeRegistry]:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    app.state.settings = app.state.settings.model_copy(
        update={"registry_base_url": fake.url, "registry_timeout_seconds": 0.5}
    )
    yield fake
    fake.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_siret_prefills_the_name_and_address_from_the_registry(client: TestClient, demo, registry) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    response = porteur.get("/api/v1/registry/siret/441 023 567 00015")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "siret": "44102356700015",
        "siren": "441023567",
        "name": "ASSOCIATION HORIZON MANOSQUE",
        "address_line": "12 AVENUE DES SERRETS",
        "postal_code": "04100",
        "city": "MANOSQUE",
        "rna": "W041002345",
        "active": True,
        "source": "recherche-entreprises",
    }
    assert registry.queries == ["44102356700015"]

    branch = porteur.get("/api/v1/registry/siret/73282932000074").json()
    assert (branch["name"], branch["address_line"], branch["city"]) == (
        "CENTRE SOCIAL LA MOURNIERE",
        "5 PLACE DU MARCHE",
        "MANOSQUE",
    )
    assert "rna" not in branch


def test_an_invalid_siret_is_refused_before_any_call_and_an_unknown_one_is_404(
    client: TestClient, demo, registry
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    for wrong in ("123", "44102356700016", "4410235670001A"):
        response = porteur.get(f"/api/v1/registry/siret/{wrong}")
        assert response.status_code == 422
        assert response.json()["detail"]["errors"][0]["path"] == "siret"
        assert "14 chiffres" in response.json()["detail"]["message"]
    assert registry.queries == []
    unknown = porteur.get("/api/v1/registry/siret/35600000000048")
    assert unknown.status_code == 404 and unknown.json()["detail"]["code"] == "siret_introuvable"
    assert client.get("/api/v1/registry/siret/44102356700015").status_code == 401


def test_without_the_registry_the_lookup_says_so_and_the_form_works_as_before(
    client: TestClient, demo, registry, app
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    for mode in ("down", "slow"):
        registry.mode = mode
        response = porteur.get("/api/v1/registry/siret/44102356700015")
        assert response.status_code == 503, (mode, response.text)
        detail = response.json()["detail"]
        assert detail["code"] == "registre_indisponible" and "saisissez" in detail["message"]

    app.state.settings = app.state.settings.model_copy(
        update={"registry_base_url": f"http://127.0.0.1:{_closed_port()}"}
    )
    offline = porteur.get("/api/v1/registry/siret/44102356700015")
    assert offline.status_code == 503 and offline.json()["detail"]["code"] == "registre_indisponible"

    # the porteur types the identification itself
    d = drafts(porteur, open_campaign(porteur)["id"])[0]
    typed = {
        "organisation": {
            "nom": "Association Horizon Manosque",
            "siret": "44102356700015",
            "adresse": {"ligne": "12 avenue des Serrets", "code_postal": "04100", "commune": "Manosque"},
        }
    }
    assert porteur.patch(f"/api/v1/dossiers/{d['id']}", {"answers": typed}, d["version"]).status_code == 200
