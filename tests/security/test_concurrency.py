"""Many clients at once against a real server (uvicorn on a free port): reads never wait for the
write lock, a save holds it only for its own statements, a wait past its bound answers 503 with
`Retry-After`, never 500, and every save answered 200 is stored."""

import sqlite3
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, text

from aap.app import create_app
from aap.db import request_sessionmaker
from aap.settings import Settings
from bench.concurrency import lost_saves, run_clients, serve


@pytest.fixture
def live_base(db_engine: Engine, settings: Settings, demo: date) -> Iterator[str]:
    with serve(create_app(settings, db_engine)) as base:
        yield base


def test_sixty_clients_reading_and_saving_get_no_500_and_lose_no_save(live_base: str) -> None:
    tally = run_clients(live_base, clients=60, seconds=6)
    assert tally.unexpected == []
    # how much gets done depends on the machine (figures: `make bench`); that saves happen does not
    assert tally.counts["POST dossier 201"] > 0 and len(tally.saves) > 0, tally.counts
    assert lost_saves(live_base, tally) == []


def test_a_request_reads_while_another_holds_the_write_lock(db_engine: Engine, demo: date) -> None:
    """SQLite: a read of a request session neither takes nor waits for the write lock."""
    if db_engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    writer = sqlite3.connect(str(db_engine.url.database), timeout=0, isolation_level=None)
    reader = request_sessionmaker(db_engine)()
    try:
        with db_engine.connect() as holder:  # a long write transaction (BEGIN IMMEDIATE)
            holder.execute(text("UPDATE users SET full_name = full_name"))
            assert reader.execute(text("SELECT count(*) FROM users")).scalar_one() > 0
            reader.commit()
            holder.rollback()
        # a request's open read transaction keeps no one from writing (no wait: timeout 0)
        reader.execute(text("SELECT count(*) FROM dossiers")).scalar_one()
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE users SET full_name = full_name")
        writer.execute("COMMIT")
    finally:
        reader.close()
        writer.close()


def test_a_save_that_waits_too_long_for_the_lock_answers_503_with_retry_after(
    client, db_engine: Engine, demo: date
) -> None:  # type: ignore[no-untyped-def]
    from tests.api.helpers import Actor, drafts, open_campaign

    if db_engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    import aap.db

    porteur = Actor(client, "porteur@demo.aap.test")
    d = drafts(porteur, open_campaign(porteur)["id"])[0]
    saved_timeout = aap.db.BUSY_TIMEOUT_REQUEST
    aap.db.BUSY_TIMEOUT_REQUEST = 200
    try:
        with db_engine.connect() as holder:
            holder.execute(text("UPDATE users SET full_name = full_name"))  # holds the write lock
            read = porteur.get(f"/api/v1/dossiers/{d['id']}")
            assert read.status_code == 200  # reading is not held up
            busy = porteur.patch(
                f"/api/v1/dossiers/{d['id']}", {"answers": {"action": {"lieux": "Ici"}}}, d["version"]
            )
            holder.rollback()
    finally:
        aap.db.BUSY_TIMEOUT_REQUEST = saved_timeout
    assert busy.status_code == 503, busy.text
    assert busy.headers["Retry-After"] == "2"
    detail = busy.json()["detail"]
    assert detail["code"] == "serveur_occupe" and "rien n'a été enregistré" in detail["message"]
    # nothing was written: the same version saves now
    again = porteur.patch(
        f"/api/v1/dossiers/{d['id']}", {"answers": {"action": {"lieux": "Ici"}}}, d["version"]
    )
    assert again.status_code == 200


def test_a_saturated_pool_answers_503_at_once_not_after_30_seconds(
    engine: Engine, settings: Settings, db_engine: Engine, demo: date
) -> None:
    """Every connection taken: the next request waits `pool_timeout` (here 0.3 s), then 503."""
    from fastapi.testclient import TestClient

    from aap.db import make_engine

    small = make_engine(
        engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0, pool_timeout=0.3
    )
    app = create_app(settings, small)
    try:
        with TestClient(app) as client:
            from tests.conftest import login

            headers = login(client, "porteur@demo.aap.test")
            held = small.connect()  # the only connection
            try:
                busy = client.get("/api/v1/dossiers", headers=headers)
            finally:
                held.close()
            assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
            assert busy.json()["detail"]["code"] == "serveur_occupe"
            assert client.get("/api/v1/dossiers", headers=headers).status_code == 200
    finally:
        small.dispose()


def test_postgresql_refusing_a_connection_answers_503_not_500(
    db_engine: Engine, settings: Settings, demo: date
) -> None:
    """Workers × pool larger than PostgreSQL's `max_connections` (or a role's limit): the connection
    the server refuses is a 503 with Retry-After, nothing written, never a 500."""
    import os

    from fastapi.testclient import TestClient
    from sqlalchemy import make_url

    from aap.db import make_engine

    if db_engine.dialect.name != "postgresql":
        pytest.skip("the connection limit is PostgreSQL's")
    role = f"aap_sans_place_{os.environ.get('PYTEST_XDIST_WORKER', 'seul')}"
    with db_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        conn.execute(text(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0"))
    refused = make_engine(make_url(db_engine.url).set(username=role).render_as_string(hide_password=False))
    try:
        with TestClient(create_app(settings, refused), raise_server_exceptions=False) as client:
            r = client.post(
                "/api/v1/auth/token", data={"username": "porteur@demo.aap.test", "password": "demo"}
            )
        assert r.status_code == 503 and r.headers["Retry-After"] == "2", r.text
        assert r.json()["detail"]["code"] == "serveur_occupe"
        assert "n'accepte plus de nouvelle connexion" in r.json()["detail"]["message"]
    finally:
        refused.dispose()
        with db_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
