"""How one worker process serves: as many requests at once as it has threads (`AAP_THREADS`), each
with its own database connection from a pool of that size (`aap.db.get_engine`).

FastAPI runs the (synchronous) endpoints in anyio's thread pool, 40 threads by default; a pool of
database connections smaller than that makes threads wait on the pool, a larger one wastes
connections. Several processes (`aap serve --workers N`) multiply both."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI


def default_workers() -> int:
    """One worker per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    to_thread.current_default_thread_limiter().total_tokens = app.state.settings.threads
    yield
