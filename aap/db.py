"""Engine and sessions. SQLite (WAL, foreign keys enforced) by default, PostgreSQL via psycopg 3.

SQLite allows one writer at a time. Outside HTTP requests (CLI, cron) a transaction takes the write
lock at its BEGIN (`BEGIN IMMEDIATE`), as before. A request's session (`request_sessionmaker`) reads
without any lock (a deferred `BEGIN`) and takes the write lock only where a service says it will
write: its `SELECT … FOR UPDATE` (the row lock on PostgreSQL) or its first flush restarts a
transaction that has written nothing yet as `BEGIN IMMEDIATE`, so check-the-version-then-write stays
atomic and the lock is held only for the service's own statements, up to its commit. Waiting for the lock is bounded (`busy_timeout`), after which the request answers 503 with
`Retry-After` (see `aap.errors`), as does a saturated connection pool, after `pool_timeout` seconds.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from aap.settings import get_settings

BEGIN_OPTION = "aap_sqlite_begin"  # execution option: "immediate" (default) or "deferred"
_TX = "aap_tx"  # connection info: how the current transaction began and whether it wrote
_READS = ("SELECT", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "WITH", "EXPLAIN", "SAVEPOINT", "RELEASE")

# anyio runs FastAPI's sync endpoints on 40 threads: one connection for each, a few more for the cron
# and streamed exports; past that, waiting `POOL_TIMEOUT` seconds then 503 beats a 30 s stall.
POOL_SIZE = 40
POOL_OVERFLOW = 10
POOL_TIMEOUT = 5.0
# A PostgreSQL connection back from the pool is tested first (one round trip) only when it has been
# idle this long: one in constant use is alive, and testing it on every checkout cost two round trips
# per request (the auth's and the service's). Seconds.
PING_AFTER_IDLE = 5.0
# Bounded wait for SQLite's write lock, in ms: long for batch work, short for people.
BUSY_TIMEOUT_BATCH = 30_000
BUSY_TIMEOUT_REQUEST = 5_000


def normalize_url(url: str) -> str:
    """Let operators write `postgresql://`; we always drive PostgreSQL with psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(
    url: str,
    *,
    pool_size: int = POOL_SIZE,
    pool_timeout: float = POOL_TIMEOUT,
    max_overflow: int = POOL_OVERFLOW,
) -> Engine:
    from aap.security import column_limits

    column_limits.install()  # the same refusals on SQLite as on PostgreSQL, before either sees them
    url = normalize_url(url)
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
            pool = {}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # pysqlite would BEGIN on its own at the first write; we emit every BEGIN ourselves (_begin).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_BATCH}")
            cur.execute("PRAGMA foreign_keys=ON")
            # switching to WAL needs an exclusive lock: only the first connection of a file does it
            if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            # a request's session (`request_sessionmaker`) and a long read (a streamed export asks for
            # `aap_read_only`) begin with a plain BEGIN: a WAL snapshot that never blocks writers
            options = conn.get_execution_options()
            deferred = options.get(BEGIN_OPTION) == "deferred" or bool(options.get("aap_read_only"))
            busy = BUSY_TIMEOUT_REQUEST if deferred else BUSY_TIMEOUT_BATCH
            conn.info[_TX] = {"immediate": not deferred, "wrote": False}
            conn.exec_driver_sql(f"PRAGMA busy_timeout={busy}")
            conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

        @event.listens_for(engine, "before_cursor_execute")
        def _note_writes(conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
            tx = conn.info.get(_TX)
            if tx is not None and not tx["wrote"] and not statement.lstrip()[:10].upper().startswith(_READS):
                tx["wrote"] = True

        return engine
    # the connection given back last goes out first: the few a steady load keeps busy stay warm, with
    # their statements prepared and planned once (`aap.access_log.end_request`); the others sit idle
    engine = create_engine(url, pool_use_lifo=True, **pool)
    _ping_when_idle(engine)
    if engine.dialect.driver == "psycopg":
        from aap import pg_cursor

        pg_cursor.install(engine)  # result columns described only when read (`aap.pg_cursor`)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections idle `PING_AFTER_IDLE` seconds or more: a server
    restarted meanwhile (or a connection cut by a firewall) costs no request an error, the pool opens a
    new connection instead (it retries a checkout that raises `DisconnectionError`)."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record):  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):  # type: ignore[no-untyped-def]
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
            return  # a new connection, or one in use a moment ago
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"connexion perdue pendant son repos : {error}") from error


def _take_write_lock(session: Session) -> bool:
    """Restarts a request's transaction that has only read so far as `BEGIN IMMEDIATE`; True if it did."""
    conn = session.connection()
    tx: dict[str, Any] | None = conn.info.get(_TX)
    if tx is None or tx["immediate"] or tx["wrote"]:
        return False
    conn.exec_driver_sql("ROLLBACK")
    conn.exec_driver_sql("BEGIN IMMEDIATE")
    tx["immediate"] = True
    return True


def take_write_lock(session: Session) -> bool:
    """For writers outside the ORM's flush (the access log's rows): the same lock a flush takes."""
    return _take_write_lock(session)


def _lock_before_writing(state: ORMExecuteState) -> None:
    """A `SELECT … FOR UPDATE` (the service will check then write: what it reads from here on is fresh
    and stays so until it commits) or a bulk INSERT/UPDATE/DELETE takes the write lock first."""
    locking_read = state.is_select and getattr(state.statement, "_for_update_arg", None) is not None
    writes = locking_read or state.is_insert or state.is_update or state.is_delete
    restarted = writes and _take_write_lock(state.session)
    if restarted and locking_read:  # rows read before the lock may be stale: the locked query reloads them
        state.update_execution_options(populate_existing=True)


def _lock_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """The first flush of a transaction that only read so far: take the lock, then write. Reads before
    it without FOR UPDATE get what PostgreSQL's READ COMMITTED gives them, and the version checks
    (FOR UPDATE) stay atomic; SQLite never has to refuse the write for a stale snapshot."""
    _take_write_lock(session)


def request_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions for HTTP requests: reads take no lock on SQLite; see the module docstring."""
    if engine.dialect.name != "sqlite":
        return sessionmaker(bind=engine, expire_on_commit=False)
    factory = sessionmaker(
        bind=engine.execution_options(**{BEGIN_OPTION: "deferred"}), expire_on_commit=False
    )
    event.listen(factory, "do_orm_execute", _lock_before_writing)
    event.listen(factory, "before_flush", _lock_before_flush)
    return factory


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Every request a worker admits (`limit_concurrency`) holds a connection from its authentication to
    # the end of its service (`aap.deps`), waiting for a thread included, and one whose endpoint is done
    # keeps it until the event loop closes its session: a burst must not leave the next requests
    # waiting `POOL_TIMEOUT` for one (at 200 requests/s on two cores, a whole limit's worth of requests
    # got no answer for 5 s), and connections are kept between bursts (opening one costs PostgreSQL a
    # process). Past the limit: 503 at once.
    size = max(settings.threads, settings.limit_concurrency or 0)
    return make_engine(settings.effective_database_url, pool_size=size, max_overflow=POOL_OVERFLOW)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
