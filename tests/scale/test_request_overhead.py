"""What every request pays besides its service. Its route is found in one flat list (`aap.routes`), and
its transaction ends (`aap.access_log.end_request`) with a COMMIT when it only read, so that PostgreSQL
keeps the connection's prepared statements and stops planning a dossier read at every request; what a
request changed and did not commit is never written by that COMMIT."""

from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from starlette.routing import Mount, Route

from aap import access_log
from aap.models import Dossier, User
from tests.api.helpers import Actor
from tests.web.staff_helpers import INSTRUCTEUR


def test_the_application_s_routes_are_one_flat_list(app: FastAPI) -> None:
    branches = [route for route in app.routes if not isinstance(route, (APIRoute, Route, Mount))]
    assert branches == []  # an included router would be walked whole, twice, by every request
    paths = {route.path for route in app.routes if isinstance(route, APIRoute)}
    assert {"/api/v1/health", "/api/v1/dossiers/{dossier_id}", "/instruction"} <= paths


def test_reading_a_dossier_again_and_again_uses_postgresql_s_prepared_plan(
    client: TestClient, demo: date, db_engine: Engine
) -> None:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    instructeur = Actor(client, INSTRUCTEUR)
    with db_engine.connect() as conn:
        dossier_id = conn.scalar(select(Dossier.id).where(Dossier.state == "depose").limit(1))
    for _ in range(15):  # psycopg prepares at the 6th; PostgreSQL tries its generic plan after 5 more
        assert instructeur.get(f"/api/v1/dossiers/{dossier_id}").status_code == 200
    # the pool hands out the connection given back last (LIFO): the one that served these reads
    with db_engine.connect() as conn:
        plans = conn.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE 'SELECT dossiers.id, dossiers.number%'"
            )
        ).all()
    assert plans, "the dossier's statement was not kept prepared between requests"
    assert sum(generic for generic, _ in plans) >= 1  # no more planning at each read


def _name(engine: Engine, email: str) -> str:
    with engine.connect() as conn:
        return conn.scalar(select(User.full_name).where(User.email == email)) or ""


@pytest.mark.parametrize("flushed", [False, True], ids=["changed", "flushed"])
def test_what_a_request_changed_and_did_not_commit_is_not_written(
    app: FastAPI, demo: date, db_engine: Engine, flushed: bool
) -> None:
    before = _name(db_engine, INSTRUCTEUR)
    session = app.state.sessionmaker()
    access_log.begin_request(session, "GET /essai", "127.0.0.1")
    try:
        user = session.scalar(select(User).where(User.email == INSTRUCTEUR))
        assert user is not None
        user.full_name = "Changé sans être enregistré"
        if flushed:
            session.flush()
        access_log.end_request(session)
    finally:
        session.close()
    assert _name(db_engine, INSTRUCTEUR) == before


def test_a_request_that_only_read_writes_nothing_and_logs_its_sensitive_reads(
    app: FastAPI, demo: date, db_engine: Engine
) -> None:
    session = app.state.sessionmaker()
    access_log.begin_request(session, "GET /essai", "127.0.0.1")
    try:
        user = session.scalar(select(User).where(User.email == INSTRUCTEUR))
        assert user is not None
        access_log.read(session, "users", user.id)
        access_log.end_request(session)
    finally:
        session.close()
    with db_engine.connect() as conn:
        logged = conn.execute(text("SELECT action, kind, route FROM access_log")).all()
    assert [tuple(row) for row in logged] == [("read", "users", "GET /essai")]
