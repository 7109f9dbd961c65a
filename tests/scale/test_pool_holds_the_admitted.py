"""A worker's pool holds a connection for every request it admits: past `limit_concurrency` a request is
refused at once (503), below it none waits `POOL_TIMEOUT` seconds for a connection held by a request
waiting for a thread, or by a finished one until the event loop closes its session."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from aap.db import get_engine
from tests.settings_env import settings_from_env


@pytest.fixture
def served_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The settings `aap serve --workers N` gives each worker: 8 threads, 32 requests admitted."""
    with settings_from_env(
        monkeypatch,
        AAP_DATABASE_URL=f"sqlite:///{tmp_path / 'pool.sqlite3'}",
        AAP_DATA_DIR=str(tmp_path),
        AAP_THREADS="8",
        AAP_LIMIT_CONCURRENCY="32",
    ):
        yield


def test_every_admitted_request_gets_a_connection_at_once(served_settings: None) -> None:
    engine = get_engine()
    held = []
    try:
        held.extend(engine.pool.connect() for _ in range(32))  # no wait: a 33rd would be refused
        assert len(held) == 32
        assert engine.pool.size() == 32  # kept between bursts: none is closed and opened again
    finally:
        for connection in held:
            connection.close()
