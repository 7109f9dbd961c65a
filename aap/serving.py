"""How one worker process serves: as many requests at once as it has threads (`AAP_THREADS`), up to
`limit_concurrency` in progress (`ConcurrencyLimit`, 503 past it), each holding a database connection
(`aap.db.get_engine`: the pool keeps up to one per request admitted open).

FastAPI runs the (synchronous) endpoints in anyio's thread pool, resized here to `AAP_THREADS`. Several
processes (`aap serve --workers N`) multiply both."""

import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from anyio import to_thread
from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from aap.errors import RETRY_AFTER_SECONDS, Busy


class SocketConfig(uvicorn.Config):
    """uvicorn's settings, with a listening socket whose connections send without delay.

    With several workers, uvicorn binds the socket itself and hands it to each process; asyncio then
    leaves Nagle's algorithm on for the connections it accepts (it sets `TCP_NODELAY` only on sockets
    it made itself), and a response written in two parts (headers, then body) waits for the client's
    delayed acknowledgement: about 40 ms more per request. The option set on the listening socket is
    inherited by every connection it accepts."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def run_server(app: str, *, host: str, port: int, workers: int) -> None:
    """`uvicorn.run` for `aap serve`: one worker serves in this process; several share one socket
    (`SocketConfig`) under uvicorn's supervisor, which restarts a worker that dies."""
    from uvicorn.supervisors import Multiprocess

    config = SocketConfig(app, host=host, port=port, proxy_headers=True, workers=workers)
    server = uvicorn.Server(config=config)
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()


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


class ConcurrencyLimit:
    """Past `limit` requests in progress in this worker process (`aap serve --limit-concurrency`, by
    default 4 × `AAP_THREADS`), a request is answered at once: 503, `Retry-After`, a French message and
    the code `serveur_occupe`, as every other refusal (uvicorn's own limit answers an English text
    without `Retry-After`, and counts idle kept-alive connections)."""

    def __init__(self, app: ASGIApp, limit: int | None):
        self.app, self.limit = app, limit
        self.in_progress = 0  # one event loop per process: no lock needed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit is None:
            await self.app(scope, receive, send)
            return
        if self.in_progress >= self.limit:
            busy = Busy(
                "Le serveur est très sollicité : rien n'a été enregistré. "
                f"Réessayez dans {RETRY_AFTER_SECONDS} secondes.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await JSONResponse({"detail": busy.detail()}, status_code=503, headers=busy.headers)(
                scope, receive, send
            )
            return
        self.in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_progress -= 1
