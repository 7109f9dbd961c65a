"""The access log records the pages that use a link sent by e-mail, never the link's secret."""

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.models import AccessLog
from tests.accounts.conftest import csrf_of, link_in, mails_to, porteur

NEW = "sept tortues dansent la polka"


def test_a_reset_link_is_logged_without_its_token(client: TestClient, session: Session, smtp) -> None:  # type: ignore[no-untyped-def]
    porteur(session, "camille@jardins.test")
    client.post(
        "/mot-de-passe-oublie",
        data={"csrf": csrf_of(client, "/mot-de-passe-oublie"), "email": "camille@jardins.test"},
    )
    raw = link_in(smtp, mails_to(smtp, "camille@jardins.test")[0], "/reinitialiser")
    csrf = csrf_of(client, f"/reinitialiser/{raw}")
    assert client.post(f"/reinitialiser/{raw}", data={"csrf": csrf, "password": NEW}).status_code == 200
    session.expire_all()
    routes = set(session.scalars(select(AccessLog.route)))
    assert "POST /reinitialiser/{token}" in routes
    assert not [r for r in routes if raw in r]
