"""Failed-login counters in the application's own database (table `login_counters`), so that every
worker process (`aap serve --workers N`) and every server sharing the database counts the same tries.

A storage of the maintained `limits` library (fixed windows): each counter is one row, raised by one
atomic upsert (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, on SQLite as on PostgreSQL), restarted
when its window has passed. The row's key is a hash of the library's key: no e-mail address nor
client address is stored. Each call is a short transaction of its own (or one per `batch()`), never
the request's: nothing is held while the password hash is checked.
"""

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from limits.storage import Storage
from sqlalchemy import Connection, Engine, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from aap.db import BEGIN_OPTION
from aap.models import LoginCounter

T = TypeVar("T")


def _row_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(Storage):
    STORAGE_SCHEME = None  # built with an engine (`aap.accounts.login.LoginLimiter`), not from a URI

    def __init__(self, engine: Engine):
        super().__init__()
        # SQLite: a plain BEGIN (a read takes no write lock; the upsert takes it for its own statement)
        self._engine = engine.execution_options(**{BEGIN_OPTION: "deferred"})
        self._local = threading.local()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The calls made inside share one transaction (one check, or one failed attempt's counters)."""
        with self._engine.begin() as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    def _run(self, work: Callable[[Connection], T]) -> T:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return work(conn)
        with self._engine.begin() as conn:
            return work(conn)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        table = LoginCounter.__table__
        insert = dialect.insert(table).values(key=_row_key(key), hits=amount, expires_at=now + expiry)
        passed = table.c.expires_at <= now

        upsert = insert.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "hits": case((passed, amount), else_=table.c.hits + amount),
                "expires_at": case((passed, now + expiry), else_=table.c.expires_at),
            },
        ).returning(table.c.hits)
        return int(self._run(lambda conn: conn.execute(upsert).scalar_one()))

    def _live(self, key: str) -> tuple[int, float] | None:
        query = select(LoginCounter.hits, LoginCounter.expires_at).where(
            LoginCounter.key == _row_key(key), LoginCounter.expires_at > time.time()
        )
        row = self._run(lambda conn: conn.execute(query).first())
        return (int(row.hits), float(row.expires_at)) if row else None

    def get(self, key: str) -> int:
        live = self._live(key)
        return live[0] if live else 0

    def get_expiry(self, key: str) -> float:
        live = self._live(key)
        return live[1] if live else time.time()

    def check(self) -> bool:
        try:
            self._run(lambda conn: conn.execute(select(1)).scalar_one())
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        return int(self._run(lambda conn: conn.execute(delete(LoginCounter)).rowcount))

    def clear(self, key: str) -> None:
        self._run(lambda conn: conn.execute(delete(LoginCounter).where(LoginCounter.key == _row_key(key))))

    def forget_expired(self) -> None:
        """Drops the rows whose window has passed (they count for nothing)."""
        now = time.time()
        self._run(lambda conn: conn.execute(delete(LoginCounter).where(LoginCounter.expires_at <= now)))
