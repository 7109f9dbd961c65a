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


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("12.345", "montant_trop_de_decimales"),
        (12.345, "montant_trop_de_decimales"),
        ("-10", "montant_negatif"),
        ("1e3", "montant_exposant"),
        ("NaN", "montant_invalide"),
    ],
)
def test_an_amount_is_never_rounded_or_guessed(client: TestClient, demo, amount: object, code: str) -> None:
    """12.345 € was silently stored as 12.35 €: it is refused, with why, and nothing changes."""
    headers = login(client, "admin@demo.aap.test")
    campaign = client.get("/api/v1/campaigns", headers=headers).json()["items"][0]
    url = f"/api/v1/campaigns/{campaign['id']}/enveloppes/ETAT"
    response = client.put(url, json={"enveloppe": amount}, headers=headers)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]["errors"]
    assert error["path"] == "enveloppe" and error["code"] == code
    assert error["message"][0].isupper() or error["message"].startswith("montant")
    kept = client.put(url, json={"enveloppe": "12.34"}, headers=headers)
    assert kept.status_code == 200 and "12.34" in kept.text


def test_a_malformed_amount_is_refused_in_french(client: TestClient, demo) -> None:
    headers = login(client, "admin@demo.aap.test")
    campaign = client.get("/api/v1/campaigns", headers=headers).json()["items"][0]
    response = client.put(
        f"/api/v1/campaigns/{campaign['id']}/enveloppes/ETAT", json={"enveloppe": "beaucoup"}, headers=headers
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]["errors"]
    assert error["path"] == "enveloppe" and error["message"] == "montant attendu (par exemple « 1234.50 »)"
