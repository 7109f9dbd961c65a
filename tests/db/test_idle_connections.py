"""A PostgreSQL connection that rested in the pool is tested before a request gets it: a server that
closed it meanwhile (a restart, a firewall) costs no request an error."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

import aap.db
from aap.db import make_engine


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
        conn.rollback()
    assert isinstance(pid, int)
    return pid


def _close_on_the_server(pid: int, other: Engine) -> None:
    with other.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}) is True
        conn.commit()


@pytest.fixture
def pg_engine(engine: Engine) -> Iterator[Engine]:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's file never closes a connection")
    small = make_engine(engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)
    yield small
    small.dispose()


def test_a_connection_closed_by_the_server_while_it_rested_is_replaced(
    pg_engine: Engine, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(pg_engine)
    _close_on_the_server(first, engine)
    monkeypatch.setattr(aap.db, "PING_AFTER_IDLE", 0.0)  # it has rested long enough to be tested

    with pg_engine.connect() as conn:  # no error: the pool opened another connection
        assert conn.scalar(text("SELECT 1")) == 1
        second = conn.scalar(text("SELECT pg_backend_pid()"))
    assert second != first


def test_a_connection_in_use_a_moment_ago_is_given_back_as_is(pg_engine: Engine) -> None:
    assert _backend_pid(pg_engine) == _backend_pid(pg_engine)  # the same server process, kept
