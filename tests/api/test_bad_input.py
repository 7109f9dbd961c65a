"""Garbage in the URL gets a clear refusal, never a server error."""

import pytest
from fastapi.testclient import TestClient

from tests.conftest import login

HUGE = "3346190598569418775448004853760"


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/campaigns/{HUGE}",
        f"/api/v1/campaigns/{HUGE}/form",
        f"/api/v1/dossiers/{HUGE}",
        f"/api/v1/dossiers/{HUGE}/history",
        f"/api/v1/campaigns/{HUGE}/enveloppes",
    ],
)
def test_an_identifier_beyond_any_database_integer_is_refused_not_a_crash(
    client: TestClient, demo, path: str
) -> None:
    response = client.get(path, headers=login(client, "instructeur@demo.aap.test"))
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "nombre_hors_limites"


def test_a_malformed_multipart_upload_is_refused_with_its_reason(client: TestClient, demo) -> None:
    headers = login(client, "porteur@demo.aap.test")
    organisation = client.get("/api/v1/me", headers=headers).json()["organisation"]["id"]
    body = b'--XyZ\r\nContent-Disposition: form-data; name="kind"\r\r\n\r\nstatuts\r\n--XyZ--\r\n'
    response = client.post(
        f"/api/v1/organisations/{organisation}/pieces",
        content=body,
        headers={**headers, "Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "multipart_invalide"


def test_a_malformed_amount_is_refused_in_french(client: TestClient, demo) -> None:
    headers = login(client, "admin@demo.aap.test")
    campaign = client.get("/api/v1/campaigns", headers=headers).json()["items"][0]
    response = client.put(
        f"/api/v1/campaigns/{campaign['id']}/enveloppes/ETAT", json={"enveloppe": "beaucoup"}, headers=headers
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]["errors"]
    assert error["path"] == "enveloppe" and error["message"] == "montant attendu (par exemple « 1234.50 »)"
