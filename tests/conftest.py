"""Fixtures: every database test runs on SQLite and, when AAP_TEST_POSTGRES_URL is set, on PostgreSQL."""

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from argon2 import profiles
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from aap.accounts import security
from aap.app import create_app
from aap.db import make_engine
from aap.migrate import upgrade
from aap.models import Base, Campaign, Territory
from aap.settings import Settings
from aap.wiring import wire

wire()  # the transition effects table, as the app and the CLI fill it
# the passwords the tests set are hashed with argon2's cheapest parameters: a login then costs
# microseconds, not 0.1 s of CPU, and the suite logs in thousands of times
security.use_parameters(profiles.CHEAPEST)

POSTGRES_URL = os.environ.get("AAP_TEST_POSTGRES_URL")


def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist, each worker its own PostgreSQL database (`aap_test_gw0`…), created once."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    server = make_url(url)
    name = f"{server.database}_{worker}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database per backend, shared by the session; each test starts from empty tables."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "aap.sqlite3"
        eng = make_engine(f"sqlite:///{path}")
    else:
        assert POSTGRES_URL
        eng = make_engine(_database_of_this_worker(POSTGRES_URL))
        with eng.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(eng)
    yield eng
    eng.dispose()


def truncate_all(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def db_engine(engine: Engine) -> Iterator[Engine]:
    truncate_all(engine)
    yield engine


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    s = sessionmaker(bind=db_engine, expire_on_commit=False)()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", secret_key="test-secret", demo_password="demo", smtp_url=None)


@pytest.fixture
def app(settings: Settings, db_engine: Engine):  # type: ignore[no-untyped-def]
    return create_app(settings=settings, engine=db_engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


class Snapshot:
    """The demo's rows (and files) taken once per database, restored before each test that wants it:
    loading the demo walks a whole year through the services, which is worth doing once, not 100 times."""

    def __init__(self, engine: Engine, data_dir: Path):
        with engine.connect() as conn:
            self.rows = {
                # in key order: a row referring to an earlier row of its table (a reconducted dossier)
                # is inserted after it, whatever order PostgreSQL keeps updated rows in
                t.name: [dict(r._mapping) for r in conn.execute(t.select().order_by(*t.primary_key.columns))]
                for t in Base.metadata.sorted_tables
            }
        self.data_dir = data_dir

    def restore(self, engine: Engine, data_dir: Path) -> None:
        with engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                if self.rows[table.name]:
                    conn.execute(table.insert(), self.rows[table.name])
            if engine.dialect.name == "postgresql":
                for table in Base.metadata.sorted_tables:
                    if "id" in table.c and self.rows[table.name]:
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f"(SELECT max(id) FROM {table.name}))"
                            )
                        )
        if self.data_dir.exists():
            shutil.copytree(self.data_dir, data_dir, dirs_exist_ok=True)


_snapshots: dict[str, tuple[date, Snapshot]] = {}


@pytest.fixture
def demo(db_engine: Engine, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> date:
    """The demo territory as `aap demo` loads it; returns the day it was built for."""
    from aap.demo.loader import load_demo

    today = date.today()
    key = db_engine.dialect.name
    if key not in _snapshots or _snapshots[key][0] != today:
        data_dir = tmp_path_factory.mktemp("demo-data")
        load_demo(db_engine, today=today, password=settings.demo_password, data_dir=data_dir)
        _snapshots[key] = (today, Snapshot(db_engine, data_dir))
        truncate_all(db_engine)
    _snapshots[key][1].restore(db_engine, settings.data_dir)
    return today


def login(client: TestClient, email: str, password: str = "demo") -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def campaign_elsewhere(session: Session, campaign: Campaign, code: str, fuseau: str) -> Campaign:
    """The same call for another contract, in the zone `fuseau` (`America/Cayenne`, `Pacific/Tahiti`…):
    its territory has no commune nor QPV of its own, enough for what the clock decides."""
    territory = Territory(code=code, name=f"Contrat de ville {code}", fuseau=fuseau)
    session.add(territory)
    session.flush()
    columns = ("code", "kind", "year", "title", "calendar", "dates", "depot_ouverture", "depot_cloture")
    copy = Campaign(
        territory_id=territory.id,
        form_code=campaign.form_code,
        form_version=campaign.form_version,
        **{name: getattr(campaign, name) for name in columns},
    )
    session.add(copy)
    session.flush()
    return copy
