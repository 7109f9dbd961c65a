"""The access log: who read sensitive data and who wrote anything, when, from where.

One place for every write: the request sessions (`install`) note each object a flush inserts, changes or
deletes, and each bulk statement, and write the log rows in the same transaction just before it commits,
so a write rolled back leaves no row. Reads of sensitive data (a pièce or a RIB downloaded, the
beneficiaries of a bilan or of a focus, an account's data) are noted by the service that authorises the
read (`read`), and written when the request commits or, for a request that only reads, when it ends
(`end_request`).

Who and from where come from the request: `aap.deps.get_db` puts the route and the client's address in
the session's `info`, `aap.deps.current_user_optional` the caller (`begin_request`, `set_actor`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from aap.clock import now
from aap.db import take_write_lock
from aap.models import AccessLog

_CONTEXT = "aap_access"  # session.info: {"route", "ip", "user_id", "role"}
_WRITES = "aap_access_writes"  # (kind, object_id) noted in the current transaction
_READS = "aap_access_reads"  # (kind, object_id) read, written at commit or at the end of the request
_SKIPPED = {AccessLog.__tablename__}


def begin_request(session: Session, route: str, ip: str | None) -> None:
    session.info[_CONTEXT] = {
        "route": route[:300],
        "ip": (ip or "")[:64] or None,
        "user_id": None,
        "role": None,
    }


def set_actor(session: Session, user_id: int | None, role: str | None) -> None:
    context = session.info.get(_CONTEXT)
    if context is not None:
        context["user_id"], context["role"] = user_id, role


def read(session: Session, kind: str, object_id: Any) -> None:
    """A read of sensitive data, by the request's caller (nothing outside a request: CLI, cron, tests)."""
    if _CONTEXT in session.info:
        reads: list[tuple[str, str | None]] = session.info.setdefault(_READS, [])
        entry = (kind, None if object_id is None else str(object_id))
        if entry not in reads:
            reads.append(entry)


def _note_write(session: Session, kind: str, object_id: Any) -> None:
    if kind in _SKIPPED or _CONTEXT not in session.info:
        return
    writes: dict[tuple[str, str | None], None] = session.info.setdefault(_WRITES, {})
    writes[(kind, None if object_id is None else "/".join(str(v) for v in object_id))] = None


def _identity(obj: Any) -> tuple[Any, ...] | None:
    identity = inspect(obj).identity
    return tuple(identity) if identity else None


def _after_flush(session: Session, _context: Any) -> None:
    if _CONTEXT not in session.info:
        return
    for obj in list(session.new) + list(session.deleted):
        _note_write(session, inspect(obj).mapper.local_table.name, _identity(obj))  # type: ignore[union-attr]
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            _note_write(session, inspect(obj).mapper.local_table.name, _identity(obj))  # type: ignore[union-attr]


def _bulk_statement(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and _CONTEXT in state.session.info:
        table = getattr(state.statement, "table", None)
        if table is not None and getattr(table, "name", None):
            _note_write(state.session, table.name, None)


def _rows(session: Session, entries: list[tuple[str, str | None]], action: str) -> list[dict[str, Any]]:
    context = session.info[_CONTEXT]
    at = now()
    return [
        {
            "at": at,
            "user_id": context["user_id"],
            "role": context["role"],
            "action": action,
            "kind": kind,
            "object_id": object_id,
            "route": context["route"],
            "ip": context["ip"],
        }
        for kind, object_id in entries
    ]


def _before_commit(session: Session) -> None:
    if _CONTEXT not in session.info:
        return
    session.flush()  # the last writes of the transaction are noted before their rows are written
    writes = list(session.info.pop(_WRITES, {}))
    reads = session.info.pop(_READS, [])
    rows = _rows(session, writes, "write") + _rows(session, reads, "read")
    if rows:
        take_write_lock(session)
        session.connection().execute(insert(AccessLog), rows)


def _after_rollback(session: Session) -> None:
    session.info.pop(_WRITES, None)  # the reads stay: they happened (`end_request`)


def has_pending_reads(session: Session) -> bool:
    return bool(session.info.get(_READS))


def end_request(session: Session) -> None:
    """The end of a request whose service went through. What its transaction wrote and did not commit
    is rolled back; then a COMMIT writes the request's pending reads, in a transaction of their own.

    A transaction that wrote nothing ends with that COMMIT too, where `Session.close` would roll it
    back: the same for the data, but psycopg forgets a connection's prepared statements at every
    ROLLBACK, so PostgreSQL planned a dossier read's statements again at every request (2.4 ms of its
    time, five times their execution)."""
    if session.info.get(_WRITES) or session.new or session.dirty or session.deleted:
        session.rollback()
    session.commit()  # `_before_commit` writes the reads


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "do_orm_execute", _bulk_statement)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_soft_rollback", lambda s, _t: _after_rollback(s))
