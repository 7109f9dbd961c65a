"""A lean HTTP/1.1 client for the open-loop load: keep-alive connections on loopback, requests written
as bytes, answers read by their `Content-Length`.

The load generator shares the machine with the server and the database; httpx's client spends about
2.5 ms of CPU per request, as much as a third of what the server spends on a dossier read, and that CPU
is taken from the server it measures. This one spends a tenth of that, as a load tool written in C would.
It speaks only what the benchmark needs: one request at a time per connection, answers with a length.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from json import dumps
from typing import Any
from urllib.parse import urlencode, urlsplit


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Answer] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._answer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connexion fermée par le serveur ({exc or 'fin'})"))

    def _answer(self) -> None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None or self.waiter.done():
            return
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", ""):
            self.waiter.set_exception(ValueError("réponse en morceaux : non prise en charge ici"))
            return
        length = int(headers.get("content-length", "0"))
        if len(self.buffer) < end + 4 + length:
            return
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        if headers.get("connection", "").lower() == "close":
            self.closed = True
        self.waiter.set_result(Answer(int(lines[0].split(" ", 2)[1]), headers, body))

    async def exchange(self, request: bytes) -> Answer:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        try:
            return await self.waiter
        finally:
            self.waiter = None


class Client:
    """Keep-alive connections to one server, opened as needed and reused when idle."""

    def __init__(self, base: str, headers: dict[str, str], timeout: float):
        url = urlsplit(base)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.authority = f"{self.host}:{self.port}"
        self.headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.timeout = timeout
        self.idle: list[_Connection] = []
        self.open: list[_Connection] = []

    def encode(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> bytes:
        """A request's bytes, from httpx's arguments of the same names."""
        target = url + ("?" + urlencode(params) if params else "")
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        body = b"" if json is None else dumps(json).encode()
        kind = "Content-Type: application/json\r\n" if json is not None else ""
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: {self.authority}\r\n{self.headers}{extra}{kind}"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    async def _connection(self) -> _Connection:
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed:
                return connection
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(_Connection, self.host, self.port)
        self.open.append(connection)
        return connection

    async def request(self, raw: bytes) -> Answer:
        """One exchange within the timeout (connection included); a connection that timed out is
        closed, never reused with an answer still on its way."""
        connection: _Connection | None = None

        async def exchange() -> Answer:
            nonlocal connection
            connection = await self._connection()
            return await connection.exchange(raw)

        try:
            answer = await asyncio.wait_for(exchange(), self.timeout)
        except BaseException:
            if connection is not None and connection.transport is not None:
                connection.transport.close()
            raise
        assert connection is not None
        if not connection.closed:
            self.idle.append(connection)
        return answer

    def close(self) -> None:
        for connection in self.open:
            if connection.transport is not None:
                connection.transport.close()
