"""A real SMTP server (aiosmtpd) on 127.0.0.1, started by the tests, that can be stopped and restarted."""

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def later_the_same_day(moment: datetime, at_most: timedelta = timedelta(hours=3)) -> datetime:
    """A moment after `moment` on the same day of the cron pass, which counts days in UTC (halfway to
    that day's end at most): « three hours later » is the next day from 21:00 UTC."""
    midnight = datetime.combine(moment.date() + timedelta(days=1), time(), UTC)
    return moment + min(at_most, (midnight - moment) / 2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """Collects every message the server accepted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address.startswith("refuse"):
            return "550 5.1.1 Boîte inconnue"
        if address.startswith("later"):
            return "451 4.3.0 Réessayez plus tard"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def by_rule(self, rule: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["X-Aap-Rule"] == rule]

    def text(self, msg: EmailMessage) -> str:
        return msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]

    def html(self, msg: EmailMessage) -> str:
        return msg.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
