"""Reading one dossier, as every read, autosave and transition does, reaches it and its lines through
indexes for every kind of viewer: no table that grows with the campaign is scanned, on either database
(a plan that scans the lines costs nothing on the demo and a second per read at national size)."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from aap.demo.volume import generate
from aap.dossiers.repository import get_dossier, list_dossiers
from aap.models import User
from tests.web.staff_helpers import INSTRUCTEUR

GROWING = ("dossiers", "cofinancements", "payments", "dossier_targets", "dossier_events", "memberships")
VIEWERS = (INSTRUCTEUR, "porteur@demo.aap.test", "etat@demo.aap.test", "ville@demo.aap.test")


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def scanned_tables(engine: Engine, statement: str, parameters: Any) -> set[str]:
    """The tables the database reads whole to answer `statement` (PostgreSQL with sequential scans
    discouraged, so that a scan means no index could serve, not that the test's tables are small)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            found = [re.match(r"SCAN (\w+)", row[3]) for row in rows]
            aliases = {m.group(1) for m in found if m}
        else:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
            aliases = set(re.findall(r"Seq Scan on (\w+)", plan))
    # an alias as SQLAlchemy writes it (cofinancements_1) names its table
    return {re.sub(r"_\d+$", "", alias) for alias in aliases}


@pytest.mark.parametrize("email", VIEWERS)
@pytest.mark.parametrize("lock", [False, True], ids=["read", "locked"])
def test_one_dossier_is_read_through_indexes_whoever_reads_it(
    db_engine: Engine, demo: date, email: str, lock: bool
) -> None:
    generate(db_engine, 120, 4, today=demo)
    with Session(db_engine) as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None
        page, total = list_dossiers(session, user, limit=1)
        assert total > 0, f"{email} sees no dossier"
        with captured(db_engine) as seen:
            dossier = get_dossier(session, user, page[0].id, lock=lock)
        assert dossier.id == page[0].id and dossier.cofinancements
        session.rollback()
    ((statement, parameters),) = seen  # the dossier, its organisation, campaign, lines and payments
    assert not set(GROWING) & scanned_tables(db_engine, statement, parameters), statement
