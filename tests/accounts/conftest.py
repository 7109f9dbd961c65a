"""Account tests: the app with a real SMTP server (aiosmtpd) behind AAP_SMTP_URL, so that the links a
person would receive are read from the messages that server accepted."""

import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from aap.accounts.service import create_user
from aap.models import Organisation, Territory, User
from aap.settings import Settings
from tests.notifications.conftest import SmtpServer

BASE = "http://testserver"
PASSWORD = "cinq pommes vertes au marché"  # accepted by the strength check
SIRET = "73282932000074"  # a valid SIRET (Luhn)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, smtp: SmtpServer) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        smtp_url=smtp.url,
        base_url=BASE,
        demo_password="demo",
    )


def mails_to(smtp: SmtpServer, address: str, rule: str | None = None) -> list[EmailMessage]:
    return [
        m for m in smtp.inbox.messages if m["To"] == address and (rule is None or m["X-Aap-Rule"] == rule)
    ]


def link_in(smtp: SmtpServer, msg: EmailMessage, path: str) -> str:
    """The token of the link to `path` in the message's plain text (what a person clicks)."""
    match = re.search(rf"{re.escape(BASE)}{path}/([A-Za-z0-9_\-]+)", smtp.inbox.text(msg))
    assert match, smtp.inbox.text(msg)
    return match.group(1)


def csrf_of(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def web_login(client: TestClient, email: str, password: str) -> None:
    response = client.post(
        "/connexion",
        data={"email": email, "password": password, "csrf": csrf_of(client, "/connexion")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def token(client: TestClient, email: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def porteur(session: Session, email: str, org: Organisation | None = None, name: str = "") -> User:
    user = create_user(
        session,
        email=email,
        password=PASSWORD,
        role="porteur",
        full_name=name,
        organisation_ids=(org.id,) if org else (),
    )
    session.commit()
    return user


def organisation(session: Session, name: str = "Les Jardins de Manosque", siret: str = SIRET) -> Organisation:
    org = Organisation(kind="association", name=name, siret=siret)
    session.add(org)
    session.commit()
    return org


def admin(session: Session, email: str = "admin@ville.test") -> User:
    territory = Territory(code="T1", name="Territoire")
    session.add(territory)
    session.flush()
    user = create_user(session, email=email, password=PASSWORD, role="admin", territory_id=territory.id)
    session.commit()
    return user


def read(session: Session, statement):  # type: ignore[no-untyped-def]
    """One value read in a short transaction of its own (SQLite's lock is let go at once)."""
    with Session(session.get_bind()) as s:
        return s.scalar(statement)
