"""`aap admin create`: the first admin of a loaded territory, with a one-time link or a password on stdin."""

import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from aap.rules_files import parse_territory
from aap.territories.service import save_territory
from tests.territories.helpers import METROPOLE

ROOT = Path(__file__).resolve().parents[2]


def _cli(
    engine: Engine, tmp_path: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "AAP_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "AAP_DATA_DIR": str(tmp_path),
        "AAP_SECRET_KEY": "test-secret",
        "AAP_BASE_URL": "http://127.0.0.1:8000",
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-m", "aap.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def _load(engine: Engine) -> None:
    with Session(engine) as session:
        save_territory(session, parse_territory(METROPOLE, "metro"))
        session.commit()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_the_first_admin_sets_a_password_through_a_one_time_link(
    client: TestClient, db_engine: Engine, tmp_path: Path
) -> None:
    _load(db_engine)
    done = _cli(
        db_engine,
        tmp_path,
        "admin",
        "create",
        "--territory",
        "metro",
        "--email",
        "Cheffe@Metro.test",
        "--name",
        "Inès Roux",
    )
    assert done.returncode == 0, done.stderr
    assert "cheffe@metro.test" in done.stdout
    link = re.search(r"http://127\.0\.0\.1:8000(/mot-de-passe/\S+)", done.stdout)
    assert link, done.stdout
    path = link.group(1)
    # before the link is used, no password opens the account
    assert (
        client.post("/api/v1/auth/token", data={"username": "cheffe@metro.test", "password": ""}).status_code
        != 200
    )

    page = client.get(path)
    assert page.status_code == 200 and "cheffe@metro.test" in page.text
    mismatch = client.post(
        path, data={"password": "un-long-mot-de-passe", "confirmation": "autre", "csrf": _csrf(page.text)}
    )
    assert mismatch.status_code == 422 and "Les deux mots de passe diffèrent." in mismatch.text
    ok = client.post(
        path,
        data={
            "password": "un-long-mot-de-passe",
            "confirmation": "un-long-mot-de-passe",
            "csrf": _csrf(page.text),
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/connexion"
    token = client.post(
        "/api/v1/auth/token", data={"username": "cheffe@metro.test", "password": "un-long-mot-de-passe"}
    )
    assert token.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}).json()
    assert me["role"] == "admin"
    again = client.get(path)
    assert again.status_code == 404 and "déjà servi" in again.text


def test_a_password_on_stdin_and_the_refusals(client: TestClient, db_engine: Engine, tmp_path: Path) -> None:
    _load(db_engine)
    done = _cli(
        db_engine,
        tmp_path,
        "admin",
        "create",
        "--territory",
        "metro",
        "--email",
        "equipe@metro.test",
        "--password-stdin",
        stdin="mot-de-passe-solide\n",
    )
    assert done.returncode == 0, done.stderr
    assert "mot-de-passe/" not in done.stdout
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "equipe@metro.test", "password": "mot-de-passe-solide"}
        ).status_code
        == 200
    )
    refused = _cli(
        db_engine,
        tmp_path,
        "admin",
        "create",
        "--territory",
        "ailleurs",
        "--email",
        "equipe@metro.test",
        "--password-stdin",
        stdin="court\n",
    )
    assert refused.returncode == 1
    assert "territory: Territoire « ailleurs » inconnu" in refused.stderr
    assert "email: Un compte existe déjà" in refused.stderr
    assert "password: Le mot de passe doit compter au moins 10 caractères." in refused.stderr
