"""Logging in, with limits: wrong passwords cost growing waits per account and per client address.

Failed attempts count (successes do not: an office behind one address logs in all day); a success
clears its account's counters. Attempts running at the same moment may slip past a limit by at most
the number of server threads. The answer is the same whether the account exists or not,
limits included. The password hash is verified outside any database transaction: nothing is held
while argon2 works. Counters are fixed windows of the maintained `limits` library, kept by default in
the application's database (`AAP_LOGIN_LIMITS_STORAGE=database`, `aap.accounts.login_counters`), so
that every worker process and every server on that database counts the same tries; `memory://`
(one process only) or `redis://…` may be chosen instead.
"""

import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from aap.accounts.login_counters import DatabaseStorage
from aap.accounts.security import verify_password
from aap.accounts.service import normalize_email
from aap.models import User
from aap.ratelimit import RateLimited

# Growing waits: a few typos cost a minute, a guessing script soon waits hours.
ACCOUNT_LIMITS = "5/minute;10 per 15 minutes;20/hour;50/day"
CLIENT_LIMITS = "30/minute;200/hour;1000/day"


class TooManyAttempts(RateLimited):
    code = "trop_de_tentatives"


@dataclass(frozen=True)
class Attempt:
    email: str
    password: str
    client: str


DATABASE = "database"  # the counters in the application's database


class LoginLimiter:
    def __init__(self, storage_uri: str = DATABASE, engine: Engine | None = None):
        if storage_uri == DATABASE:
            if engine is None:
                raise ValueError("les compteurs de connexion en base demandent la base (engine)")
            self._storage: DatabaseStorage | None = DatabaseStorage(engine)
            self._limiter = FixedWindowRateLimiter(self._storage)
        else:
            self._storage = None
            self._limiter = FixedWindowRateLimiter(storage_from_string(storage_uri))
        self._account = parse_many(ACCOUNT_LIMITS)
        self._client = parse_many(CLIENT_LIMITS)

    def _buckets(self, attempt: Attempt) -> list[tuple[RateLimitItem, str, str]]:
        email = normalize_email(attempt.email)
        return [(item, "compte", email) for item in self._account] + [
            (item, "client", attempt.client) for item in self._client
        ]

    def _batch(self) -> AbstractContextManager[None]:
        """One short transaction for the counters of one step (database storage)."""
        return self._storage.batch() if self._storage is not None else nullcontext()

    def check(self, attempt: Attempt) -> None:
        """Refuses (429, `Retry-After`) while any limit of the account or of the address is reached."""
        with self._batch():
            waits = [
                self._limiter.get_window_stats(item, kind, key).reset_time - time.time()
                for item, kind, key in self._buckets(attempt)
                if not self._limiter.test(item, kind, key)
            ]
        if waits:
            wait = max(1, int(max(waits)) + 1)
            raise TooManyAttempts(
                "Trop de tentatives de connexion : par sécurité, attendez "
                f"{_duration(wait)} avant de réessayer.",
                headers={"Retry-After": str(wait)},
            )

    def failed(self, attempt: Attempt) -> None:
        with self._batch():
            for item, kind, key in self._buckets(attempt):
                self._limiter.hit(item, kind, key)
            if self._storage is not None:
                self._storage.forget_expired()

    def succeeded(self, attempt: Attempt) -> None:
        email = normalize_email(attempt.email)
        with self._batch():
            for item in self._account:
                self._limiter.clear(item, "compte", email)


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} secondes"
    if seconds < 7200:
        return f"{seconds // 60} minutes"
    return f"{seconds // 3600} heures"


def log_in(session: Session, limiter: LoginLimiter, attempt: Attempt) -> User | None:
    """The active account with these credentials, else None (same answer and cost either way)."""
    limiter.check(attempt)
    row = session.execute(
        select(User.id, User.password_hash, User.active).where(
            func.lower(User.email) == normalize_email(attempt.email)
        )
    ).first()
    session.commit()  # end the read: no transaction is open while the hash is verified
    ok = verify_password(row.password_hash if row else None, attempt.password)
    if row is None or not ok or not row.active:
        limiter.failed(attempt)
        return None
    limiter.succeeded(attempt)
    return session.get(User, row.id)
