"""Delivery from the outbox: leases between passes, refusals, growing delays, no server configured."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from aap.models import Notification
from aap.settings import Settings
from notifications.cron import run_pass
from notifications.delivery import LEASE, parse_smtp_url, retry_delay
from notifications.outbox import Message, record
from tests.notifications.conftest import SmtpServer

NOW = datetime(2027, 1, 20, 7, 0, tzinfo=UTC)


def queue(engine: Engine, *recipients: str, at: datetime = NOW) -> None:
    factory = sessionmaker(bind=engine)
    with factory() as s:
        record(
            s,
            [
                Message(
                    key=f"test:{r}",
                    rule="test",
                    audience="porteurs",
                    recipient=r,
                    subject=f"Objet {r}",
                    body_text="Bonjour",
                    body_html="<p>Bonjour</p>",
                )
                for r in recipients
            ],
            at,
        )
        record(
            s,
            [
                Message(
                    key=f"test:{recipients[0]}",
                    rule="test",
                    audience="porteurs",
                    recipient="x@y.test",
                    subject="doublon",
                    body_text="",
                    body_html=None,
                )
            ],
            at,
        )  # same key: ignored
        s.commit()


def rows(engine: Engine) -> dict[str, Notification]:
    with Session(engine) as s:
        return {n.recipient: n for n in s.scalars(select(Notification))}


def test_a_message_claimed_by_a_pass_that_died_waits_for_its_lease_then_goes_out_once(
    db_engine: Engine, settings: Settings, smtp: SmtpServer
) -> None:
    queue(db_engine, "a@demo.test", "b@demo.test")
    with db_engine.begin() as conn:  # a pass claimed a@… then crashed before sending it
        conn.execute(
            Notification.__table__.update()
            .where(Notification.recipient == "a@demo.test")
            .values(claim_token="dead-pass", claimed_until=NOW + LEASE)
        )
    live = settings.model_copy(update={"smtp_url": smtp.url})

    run_pass(db_engine, live, NOW + timedelta(minutes=1))
    assert [m["To"] for m in smtp.inbox.messages] == ["b@demo.test"]
    assert rows(db_engine)["a@demo.test"].status == "pending"

    run_pass(db_engine, live, NOW + LEASE + timedelta(minutes=1))
    assert sorted(m["To"] for m in smtp.inbox.messages) == ["a@demo.test", "b@demo.test"]
    run_pass(db_engine, live, NOW + LEASE + timedelta(minutes=30))
    assert len(smtp.inbox.messages) == 2
    assert {n.status for n in rows(db_engine).values()} == {"sent"}


def test_refusals_permanent_fail_at_once_temporary_retry_with_growing_delays(
    db_engine: Engine, settings: Settings, smtp: SmtpServer
) -> None:
    queue(db_engine, "refuse@demo.test", "later@demo.test", "ok@demo.test")
    live = settings.model_copy(update={"smtp_url": smtp.url})
    summary = run_pass(db_engine, live, NOW)
    state = rows(db_engine)
    assert state["refuse@demo.test"].status == "failed" and "550" in (
        state["refuse@demo.test"].last_error or ""
    )
    later = state["later@demo.test"]
    assert later.status == "pending" and later.attempts == 1
    assert later.next_attempt_at is not None and later.next_attempt_at >= NOW + retry_delay(1)
    assert state["ok@demo.test"].status == "sent"
    assert summary.delivery.sent == 1 and summary.delivery.failed == 1 and summary.delivery.deferred == 1
    assert retry_delay(1) < retry_delay(2) < retry_delay(3)

    run_pass(db_engine, live, NOW + timedelta(seconds=30))  # too early for the retry
    assert rows(db_engine)["later@demo.test"].attempts == 1


def test_without_smtp_url_messages_are_recorded_and_stay_pending(
    db_engine: Engine, settings: Settings
) -> None:
    queue(db_engine, "a@demo.test")
    summary = run_pass(db_engine, settings, NOW)
    assert rows(db_engine)["a@demo.test"].status == "pending"
    assert summary.delivery.skipped_no_smtp and "AAP_SMTP_URL non défini" in summary.text()


def test_a_message_pending_for_a_month_is_not_sent_late(
    db_engine: Engine, settings: Settings, smtp: SmtpServer
) -> None:
    queue(db_engine, "old@demo.test", at=NOW - timedelta(days=31))
    run_pass(db_engine, settings.model_copy(update={"smtp_url": smtp.url}), NOW)
    old = rows(db_engine)["old@demo.test"]
    assert old.status == "failed" and "périmé" in (old.last_error or "") and not smtp.inbox.messages


def test_smtp_urls() -> None:
    assert parse_smtp_url("smtp://127.0.0.1:2525").port == 2525
    target = parse_smtp_url("smtps://user%40x:p%3Ass@mail.example.test")
    assert (target.tls, target.port, target.username, target.password) == ("ssl", 465, "user@x", "p:ss")
    assert parse_smtp_url("smtp+starttls://mail.example.test").port == 587
