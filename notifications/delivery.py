"""Deliver what is pending in the outbox through AAP_SMTP_URL, safely from several passes at once.

1. **Claim** a batch under a lease: one `UPDATE … SET claim_token, claimed_until WHERE id IN (…) AND
   status = 'pending' AND (claimed_until IS NULL OR claimed_until < now) RETURNING id`, committed. Two
   passes racing for the same rows: PostgreSQL re-checks the WHERE once the first commits, SQLite
   serialises writers; either way a row is claimed by one pass only.
2. The pass sends each message, then **marks it sent right after the SMTP server's acceptance**, in its
   own commit (and only if it still holds the claim). Should half the lease go by (a slow server), it
   renews the lease of the rest of its batch before going on, and skips any row it no longer holds.
3. Failures: the server unreachable → the messages are released with a growing delay and stay
   `pending` (never `failed`: nothing is lost, a later pass sends them); a temporary refusal (4xx) →
   retried with growing delays, `failed` after MAX_ATTEMPTS; a permanent refusal (5xx) → `failed`.

The one window for a duplicate: the server accepted the message (end of DATA) and the process died
before its `sent` commit landed, a few milliseconds. The next pass, once the lease has run out, sends
it again. The Message-ID is derived from the outbox key, so such a copy carries the same Message-ID
as the first and mail clients and servers that deduplicate on it show it once.
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from aap.models import Notification
from aap.settings import Settings

BATCH = 50
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
SMTP_TIMEOUT = 20.0
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=1)
STALE_AFTER = timedelta(days=30)


def retry_delay(attempts: int) -> timedelta:
    """1 min, 3 min, 9 min, 27 min, then every hour: growing delays between attempts."""
    return min(BASE_DELAY * (3 ** max(attempts - 1, 0)), MAX_DELAY)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    expired: int = 0
    skipped_no_smtp: bool = False
    server_error: str | None = None
    pending_left: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    tls: str  # "none", "ssl" (smtps://) or "starttls" (smtp+starttls://)
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://[user:password@]host[:port]`, `smtps://…` (TLS, port 465), `smtp+starttls://…` (port 587)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    tls = {"smtp": "none", "smtps": "ssl", "smtp+starttls": "starttls"}.get(scheme)
    if tls is None or not parts.hostname:
        raise ValueError(f"AAP_SMTP_URL invalide : {url!r} (attendu : smtp://hôte:port)")
    default_port = {"none": 25, "ssl": 465, "starttls": 587}[tls]
    return SmtpTarget(
        parts.hostname,
        parts.port or default_port,
        tls,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def connect(target: SmtpTarget) -> smtplib.SMTP:
    if target.tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            target.host, target.port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT)
        if target.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if target.username:
        smtp.login(target.username, target.password or "")
    return smtp


def message_id(key: str, sender: str) -> str:
    """Stable per outbox key: a copy sent in the duplicate window has the same Message-ID."""
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "aap.local"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def build_email(row: Notification, settings: Settings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = row.recipient
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = message_id(row.key, settings.smtp_from) if row.key else make_msgid()
    msg["X-Aap-Key"] = row.key
    msg["X-Aap-Rule"] = row.rule
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    return msg


class _Pass:
    def __init__(
        self, factory: sessionmaker[Session], settings: Settings, now: datetime, audience: str | None = None
    ):
        self.audience = audience
        self.factory, self.settings = factory, settings
        self.started, self.t0 = now, time.monotonic()
        self.token = str(uuid.uuid4())
        self.report = DeliveryReport()
        self.smtp: smtplib.SMTP | None = None
        self.lease_until = now

    def clock(self) -> datetime:
        """The pass's `now`, moving on with real time while it delivers."""
        return self.started + timedelta(seconds=time.monotonic() - self.t0)

    def _write(self, fn: Callable[[Session], int]) -> int:
        with self.factory() as session:
            result = fn(session)
            session.commit()
            return result

    def claim(self) -> list[int]:
        now = self.clock()
        claimable = (
            Notification.status == "pending",
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
            or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        )
        if self.audience is not None:
            claimable = (*claimable, Notification.audience == self.audience)

        def do(session: Session) -> list[int]:
            candidates = list(
                session.scalars(
                    select(Notification.id).where(*claimable).order_by(Notification.id).limit(BATCH)
                )
            )
            if not candidates:
                return []
            claimed = session.scalars(
                update(Notification)
                .where(Notification.id.in_(candidates), *claimable)
                .values(claim_token=self.token, claimed_until=now + LEASE)
                .returning(Notification.id)
            )
            return sorted(claimed)

        with self.factory() as session:
            ids = do(session)
            session.commit()
        self.lease_until = now + LEASE
        return ids

    def _mine(self, notification_id: int):  # type: ignore[no-untyped-def]
        return update(Notification).where(
            Notification.id == notification_id,
            Notification.claim_token == self.token,
            Notification.status == "pending",
        )

    def renew(self, ids: list[int]) -> set[int]:
        """Extend the lease on the rows still to send; returns those this pass still holds."""
        until = self.clock() + LEASE

        def do(session: Session) -> set[int]:
            held = session.scalars(
                update(Notification)
                .where(
                    Notification.id.in_(ids),
                    Notification.claim_token == self.token,
                    Notification.status == "pending",
                )
                .values(claimed_until=until)
                .returning(Notification.id)
            )
            return set(held)

        with self.factory() as session:
            held = do(session)
            session.commit()
        self.lease_until = until
        return held

    def mark_sent(self, notification_id: int) -> None:
        self._write(
            lambda s: (
                s.execute(
                    self._mine(notification_id).values(
                        status="sent",
                        sent_at=self.clock(),
                        attempts=Notification.attempts + 1,
                        last_error=None,
                        claim_token=None,
                        claimed_until=None,
                    )
                ).rowcount
            )
        )  # type: ignore[attr-defined]

    def mark_retry(self, notification_id: int, attempts: int, error: str, *, may_fail: bool) -> None:
        attempts += 1
        failed = may_fail and attempts >= MAX_ATTEMPTS
        values = dict(
            attempts=attempts,
            last_error=error[:2000],
            claim_token=None,
            claimed_until=None,
            next_attempt_at=self.clock() + retry_delay(attempts),
        )
        if failed:
            values["status"] = "failed"
        self._write(lambda s: s.execute(self._mine(notification_id).values(**values)).rowcount)  # type: ignore[attr-defined]
        if failed:
            self.report.failed += 1
        else:
            self.report.deferred += 1

    def mark_failed(self, notification_id: int, attempts: int, error: str) -> None:
        self._write(
            lambda s: (
                s.execute(
                    self._mine(notification_id).values(
                        status="failed",
                        attempts=attempts + 1,
                        last_error=error[:2000],
                        claim_token=None,
                        claimed_until=None,
                    )
                ).rowcount
            )
        )  # type: ignore[attr-defined]
        self.report.failed += 1

    def release(self, ids: list[int]) -> None:
        """Give back claimed rows untouched (the pass stops): another pass may take them at once."""
        if ids:
            self._write(
                lambda s: (
                    s.execute(
                        update(Notification)
                        .where(Notification.id.in_(ids), Notification.claim_token == self.token)
                        .values(claim_token=None, claimed_until=None)
                    ).rowcount
                )
            )  # type: ignore[attr-defined]

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp = None

    def expire_stale(self) -> None:
        """A message still pending a month after it was recorded (e.g. the demo's history, or a server
        down for weeks) speaks of deadlines long past: it is marked failed, not sent."""
        cutoff = self.clock() - STALE_AFTER
        self.report.expired = self._write(
            lambda s: (
                s.execute(
                    update(Notification)
                    .where(
                        Notification.status == "pending",
                        Notification.created_at < cutoff,
                        or_(Notification.claimed_until.is_(None), Notification.claimed_until < self.clock()),
                    )
                    .values(
                        status="failed",
                        last_error="périmé : toujours en attente 30 jours après son enregistrement",
                        claim_token=None,
                        claimed_until=None,
                    )
                ).rowcount
            )
        )  # type: ignore[attr-defined]

    def run(self, target: SmtpTarget) -> DeliveryReport:
        self.expire_stale()
        try:
            while ids := self.claim():
                if not self._deliver_batch(target, ids):
                    break
        finally:
            self.close()
        return self.report

    def _deliver_batch(self, target: SmtpTarget, ids: list[int]) -> bool:
        """Send a claimed batch; False when the server is unreachable (the pass stops delivering)."""
        with self.factory() as session:
            rows = {r.id: r for r in session.scalars(select(Notification).where(Notification.id.in_(ids)))}
            session.expunge_all()
        lost: set[int] = set()
        for index, notification_id in enumerate(ids):
            row = rows[notification_id]
            try:
                if self.smtp is None:
                    self.smtp = connect(target)
            except (OSError, smtplib.SMTPException) as exc:
                self.report.server_error = f"serveur SMTP injoignable ({target.host}:{target.port}) : {exc}"
                self.mark_retry(notification_id, row.attempts, self.report.server_error, may_fail=False)
                self.release(ids[index + 1 :])
                return False
            if self.clock() > self.lease_until - LEASE / 2:
                # a slow server: renew the lease before it could run out (and drop what we lost)
                lost |= set(ids[index:]) - self.renew(ids[index:])
            if notification_id in lost:
                continue
            try:
                self.smtp.send_message(build_email(row, self.settings))
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                error = f"destinataire refusé : {exc.recipients}"
                if codes and all(code >= 500 for code in codes):
                    self.mark_failed(notification_id, row.attempts, error)
                else:
                    self.mark_retry(notification_id, row.attempts, error, may_fail=True)
            except smtplib.SMTPResponseException as exc:
                error = f"refus du serveur SMTP {exc.smtp_code} : {exc.smtp_error!r}"
                if exc.smtp_code >= 500:
                    self.mark_failed(notification_id, row.attempts, error)
                else:
                    self.mark_retry(notification_id, row.attempts, error, may_fail=True)
                    self.close()
            except (OSError, smtplib.SMTPException) as exc:
                # connection lost mid-way: did the server take it? We could not know; keep it pending.
                self.report.server_error = f"connexion SMTP interrompue : {exc}"
                self.mark_retry(notification_id, row.attempts, self.report.server_error, may_fail=False)
                self.release(ids[index + 1 :])
                self.close()
                return False
            else:
                self.mark_sent(notification_id)
                self.report.sent += 1
        return True


def count_pending(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Notification).where(Notification.status == "pending")
            )
            or 0
        )


def deliver(
    factory: sessionmaker[Session], settings: Settings, now: datetime, audience: str | None = None
) -> DeliveryReport:
    """Send what is pending and due; without AAP_SMTP_URL, nothing is sent (messages stay pending and
    are shown in the logs of their dossier and recipient). `audience` limits the pass to those messages
    (the account's links, sent right after the request that asked for them)."""
    if not settings.smtp_url:
        report = DeliveryReport(skipped_no_smtp=True)
    else:
        report = _Pass(factory, settings, now, audience).run(parse_smtp_url(settings.smtp_url))
    report.pending_left = count_pending(factory)
    return report
