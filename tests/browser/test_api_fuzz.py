"""schemathesis throws generated requests at every operation of the published OpenAPI, as each kind of
caller: whatever it sends, the API never answers 500 (a refusal is fine, a crash is not)."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.mark.parametrize("email", ["porteur@demo.aap.test", "instructeur@demo.aap.test", "caf@demo.aap.test"])
def test_no_generated_request_makes_the_api_fail(live_server: str, email: str) -> None:
    token = httpx.post(
        f"{live_server}/api/v1/auth/token", data={"username": email, "password": "demo"}
    ).json()
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{live_server}/api/openapi.json",
         "-H", f"Authorization: Bearer {token['access_token']}",
         "--checks", "not_a_server_error", "--max-examples", "8", "--seed", "20261125",
         "--phases", "examples,coverage,fuzzing"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]
