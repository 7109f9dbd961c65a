"""On PostgreSQL, a statement's result columns are described only when something reads them
(`aap.pg_cursor`): SQLAlchemy reading a dossier again makes no column object at all, and whoever does
read the description gets what psycopg itself would give, for the result it asked about."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from aap.dossiers.repository import get_dossier
from aap.models import Cofinancement, User
from tests.web.staff_helpers import INSTRUCTEUR


@pytest.fixture
def pg(db_engine: Engine) -> Iterator[Engine]:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("psycopg's cursors")
    yield db_engine


@pytest.fixture
def columns_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    made: list[int] = []
    init = psycopg.Column.__init__

    def counting(self: psycopg.Column, cursor: Any, index: int) -> None:
        made.append(index)
        init(self, cursor, index)

    monkeypatch.setattr(psycopg.Column, "__init__", counting)
    return made


def test_reading_a_dossier_again_describes_none_of_its_hundred_columns(
    pg: Engine, demo: date, columns_made: list[int]
) -> None:
    with Session(pg) as session:
        user = session.scalar(select(User).where(User.email == INSTRUCTEUR))
        with_lines = select(Cofinancement.dossier_id).distinct().order_by(Cofinancement.dossier_id)
        ids = list(session.scalars(with_lines.limit(2)))
        assert user is not None and len(ids) == 2
        get_dossier(session, user, ids[0])  # compiled and its result's shape kept by SQLAlchemy
        columns_made.clear()
        again = get_dossier(session, user, ids[1])

    assert again.id == ids[1] and again.cofinancements and again.organisation.name
    assert columns_made == []


def test_the_description_is_psycopg_s_for_the_result_it_was_taken_from(pg: Engine) -> None:
    query = "SELECT 1 AS un, 'deux'::text AS deux, now() AS trois"
    with pg.connect() as conn:
        plain = psycopg.Connection.connect(
            pg.url.render_as_string(hide_password=False).replace("+psycopg", "")
        )
        try:
            expected = [(c.name, c.type_code) for c in plain.execute(query).description or []]
        finally:
            plain.close()
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(query)
        described = cursor.description
        cursor.execute("SELECT 42 AS autre")  # the same cursor moves on before the columns are read
        assert described is not None and len(described) == 3
        assert [(c.name, c.type_code) for c in described] == expected
        assert described[1].name == "deux" and [c.name for c in described[1:]] == ["deux", "trois"]
        assert [c.name for c in cursor.description or []] == ["autre"]
        conn.execute(text("CREATE TEMPORARY TABLE t (x int)"))
        cursor.execute("INSERT INTO t VALUES (1)")
        assert cursor.description is None  # no rows, as psycopg says
