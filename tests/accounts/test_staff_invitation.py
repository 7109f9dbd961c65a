"""Staff invited by e-mail (API, admin page) and imported from a CSV (admin page, `aap admin import-staff`):
an account without usable password, a single-use expiring link read from a real SMTP inbox."""

import subprocess
import sys
from datetime import timedelta
from html import unescape
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from aap.accounts import links
from aap.accounts.service import create_user
from aap.clock import now
from aap.models import User
from aap.rules_files import parse_territory
from aap.territories.service import save_territory
from tests.accounts.conftest import PASSWORD, csrf_of, link_in, mails_to, read, token, web_login
from tests.territories.helpers import METROPOLE

ROOT = Path(__file__).resolve().parents[2]
NEW = "un-long-mot-de-passe"


def _admin(session: Session) -> User:
    territory = save_territory(session, parse_territory(METROPOLE, "metro"))
    session.flush()
    user = create_user(
        session, email="cheffe@metro.test", password=PASSWORD, role="admin", territory_id=territory.id
    )
    session.commit()
    return user


def _count_users(session: Session) -> int:
    return int(read(session, select(func.count()).select_from(User)))


def test_an_invited_instructeur_sets_a_password_logs_in_and_sees_the_instruction_page(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    _admin(session)
    invited = client.post(
        "/api/v1/users/invitations",
        json={"email": "Ines@Metro.test", "full_name": "Inès Roux", "role": "instructeur"},
        headers=token(client, "cheffe@metro.test", PASSWORD),
    )
    assert invited.status_code == 201, invited.text
    assert invited.json()["email"] == "ines@metro.test" and invited.json()["role"] == "instructeur"
    (message,) = mails_to(smtp, "ines@metro.test", "compte_invitation_equipe")
    raw = link_in(smtp, message, "/mot-de-passe")
    assert "7 jours" in smtp.inbox.text(message)
    # no password opens the account before the link is used
    for guess in ("", PASSWORD, NEW):
        assert (
            client.post(
                "/api/v1/auth/token", data={"username": "ines@metro.test", "password": guess}
            ).status_code
            != 200
        )

    page = client.get(f"/mot-de-passe/{raw}")
    assert page.status_code == 200 and "ines@metro.test" in page.text
    csrf = csrf_of(client, f"/mot-de-passe/{raw}")
    short = client.post(
        f"/mot-de-passe/{raw}", data={"password": "court", "confirmation": "court", "csrf": csrf}
    )
    assert short.status_code == 422 and "au moins 10 caractères" in unescape(short.text)
    done = client.post(
        f"/mot-de-passe/{raw}",
        data={"password": NEW, "confirmation": NEW, "csrf": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/connexion"

    web_login(client, "ines@metro.test", NEW)
    instruction = client.get("/instruction")
    assert instruction.status_code == 200 and "Inès Roux" in unescape(instruction.text)
    dead = client.get(f"/mot-de-passe/{raw}")
    assert dead.status_code == 404 and "déjà servi" in unescape(dead.text)
    token(client, "ines@metro.test", NEW)  # the password chosen still opens the account


def test_an_expired_invitation_link_is_dead(client: TestClient, session: Session, smtp) -> None:  # type: ignore[no-untyped-def]
    _admin(session)
    client.post(
        "/api/v1/users/invitations",
        json={
            "email": "agent@metro.test",
            "full_name": "Agent État",
            "role": "financeur",
            "financeur": "ETAT",
        },
        headers=token(client, "cheffe@metro.test", PASSWORD),
    )
    agent = session.scalar(select(User).where(User.email == "agent@metro.test"))
    assert agent is not None and agent.financeur is not None and agent.financeur.code == "ETAT"
    raw, _ = links.issue(session, links.STAFF_INVITATION, agent.id, now() - timedelta(days=8))
    session.commit()
    page = client.get(f"/mot-de-passe/{raw}")
    assert page.status_code == 404 and "expiré" in unescape(page.text)
    # the newer (expired) link replaced the one sent: that one is dead too
    sent = link_in(smtp, mails_to(smtp, "agent@metro.test")[0], "/mot-de-passe")
    assert client.get(f"/mot-de-passe/{sent}").status_code == 404


def test_invitation_refusals_are_french_with_code_and_path(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    _admin(session)
    headers = token(client, "cheffe@metro.test", PASSWORD)
    refused = client.post(
        "/api/v1/users/invitations",
        json={"email": "cheffe@metro.test", "full_name": "", "role": "financeur", "financeur": "CAF"},
        headers=headers,
    )
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert detail["code"] == "invitation_invalide"
    found = {(e["path"], e["code"]) for e in detail["errors"]}
    assert found == {
        ("email", "email_deja_utilise"),
        ("full_name", "required"),
        ("financeur", "financeur_inconnu"),
    }
    bad_role = client.post(
        "/api/v1/users/invitations",
        json={"email": "x@metro.test", "full_name": "X", "role": "porteur"},
        headers=headers,
    )
    assert bad_role.status_code == 422
    (error,) = bad_role.json()["detail"]["errors"]
    assert (
        error["path"] == "role"
        and error["code"] == "role_invalide"
        and "Rôle « porteur » inconnu" in error["message"]
    )
    assert smtp.inbox.messages == []
    assert _count_users(session) == 1


def test_the_admin_page_invites_and_imports_a_csv_all_or_nothing(
    client: TestClient, session: Session, smtp
) -> None:  # type: ignore[no-untyped-def]
    _admin(session)
    web_login(client, "cheffe@metro.test", PASSWORD)
    csrf = csrf_of(client, "/admin/utilisateurs")
    invited = client.post(
        "/admin/utilisateurs/invitations",
        data={"csrf": csrf, "email": "partenaire@metro.test", "full_name": "CAF", "role": "partenaire"},
        follow_redirects=False,
    )
    assert invited.status_code == 303
    assert mails_to(smtp, "partenaire@metro.test", "compte_invitation_equipe")
    twice = client.post(
        "/admin/utilisateurs/invitations",
        data={"csrf": csrf, "email": "partenaire@metro.test", "full_name": "CAF", "role": "partenaire"},
    )
    assert twice.status_code == 422
    assert "Un compte existe déjà avec cette adresse électronique." in unescape(twice.text)
    assert len(mails_to(smtp, "partenaire@metro.test")) == 1

    bad = (
        "email;nom;role;financeur\n"
        "a@metro.test;Alice;instructeur;\n"
        "pas-une-adresse;Bob;instructeur;\n"
        "c@metro.test;Chloé;financeur;INCONNU\n"
    ).encode()
    refused = client.post(
        "/admin/utilisateurs/import", data={"csrf": csrf}, files={"fichier": ("equipe.csv", bad, "text/csv")}
    )
    assert refused.status_code == 422
    text = unescape(refused.text)
    assert "Le fichier n'a pas été importé" in text
    assert "Ligne 3, colonne « email »" in text and "Ligne 4, colonne « financeur »" in text
    assert "Ligne 2" not in text
    assert read(session, select(User.id).where(User.email == "a@metro.test")) is None
    assert not mails_to(smtp, "a@metro.test")

    good = (
        "\ufeffemail,nom,role,financeur\nA@metro.test,Alice,instructeur,\nd@metro.test,Denis,financeur,ETAT\n"
    )
    done = client.post(
        "/admin/utilisateurs/import",
        data={"csrf": csrf},
        files={"fichier": ("equipe.csv", good.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "2 invitation(s) envoyée(s)" in unescape(client.get("/admin/utilisateurs").text)
    for address in ("a@metro.test", "d@metro.test"):
        (message,) = mails_to(smtp, address, "compte_invitation_equipe")
        assert client.get(f"/mot-de-passe/{link_in(smtp, message, '/mot-de-passe')}").status_code == 200


def _cli(engine: Engine, tmp_path: Path, smtp_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "AAP_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "AAP_DATA_DIR": str(tmp_path),
        "AAP_SECRET_KEY": "test-secret",
        "AAP_BASE_URL": "http://testserver",
        "AAP_SMTP_URL": smtp_url,
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-m", "aap.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_the_import_staff_command(
    client: TestClient, session: Session, db_engine: Engine, tmp_path: Path, smtp
) -> None:  # type: ignore[no-untyped-def]
    _admin(session)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email;nom;role\nx@metro.test;;instructeur\ny@metro.test;Yves;chef\nz@metro.test;Zoé;admin;en trop\n",
        encoding="utf-8",
    )
    refused = _cli(db_engine, tmp_path, smtp.url, "admin", "import-staff", str(bad), "--territory", "metro")
    assert refused.returncode == 1
    assert "Ligne 2, colonne « nom »" in refused.stderr and "Ligne 3, colonne « role »" in refused.stderr
    assert "Ligne 4 : plus de valeurs que de colonnes" in refused.stderr
    assert _count_users(session) == 1

    good = tmp_path / "equipe.csv"
    good.write_text(
        "\ufeffemail;nom;role;financeur\nines@metro.test;Inès Roux;instructeur;\n", encoding="utf-8"
    )
    dry = _cli(
        db_engine, tmp_path, smtp.url, "admin", "import-staff", str(good), "--territory", "metro", "--dry-run"
    )
    assert dry.returncode == 0, dry.stderr
    assert "rien n'a été écrit" in dry.stdout and _count_users(session) == 1 and smtp.inbox.messages == []

    done = _cli(db_engine, tmp_path, smtp.url, "admin", "import-staff", str(good), "--territory", "metro")
    assert done.returncode == 0, done.stderr
    assert "ines@metro.test (instructeur)" in done.stdout
    (message,) = mails_to(smtp, "ines@metro.test", "compte_invitation_equipe")
    raw = link_in(smtp, message, "/mot-de-passe")
    page = client.get(f"/mot-de-passe/{raw}")
    assert page.status_code == 200 and "ines@metro.test" in page.text
    unknown = _cli(
        db_engine, tmp_path, smtp.url, "admin", "import-staff", str(good), "--territory", "nulle-part"
    )
    assert unknown.returncode == 1 and "inconnu" in unknown.stderr
