"""The outbox: every message is a row under a unique key (rule, dossier, recipient, occurrence).

`record` is an insert-or-ignore (`INSERT … ON CONFLICT (key) DO NOTHING`, the same statement on SQLite
and PostgreSQL): two passes, or several at once, create a message once; the loser's insert is a no-op,
not an error that would roll back its transaction. It never commits: event messages ride in the
transaction of their transition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aap.models import Notification, NotificationDossier, NotificationPreference, User
from notifications.query import Recipient
from notifications.render import Rendered
from notifications.rules import Rule

CHUNK = 200  # rows per INSERT (SQLite allows 32 766 bound parameters)


@dataclass
class Message:
    key: str
    rule: str
    audience: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    user_id: int | None = None
    dossier_id: int | None = None
    deadline: date | None = None

    @classmethod
    def to_person(
        cls,
        rule: Rule,
        rendered: Rendered,
        *,
        key: str,
        person: Recipient,
        dossier_id: int,
        deadline: date | None,
    ) -> Message:
        """The message of `rule` about one dossier, rendered for one person."""
        return cls(
            key=key,
            rule=rule.code,
            audience=rule.audience,
            recipient=person.email,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            user_id=person.user_id,
            dossier_id=dossier_id,
            deadline=deadline,
        )

    def row(self, now: datetime) -> dict[str, Any]:
        return {
            "key": self.key,
            "rule": self.rule,
            "audience": self.audience,
            "recipient": self.recipient,
            "subject": self.subject,
            "body_text": self.body_text,
            "body_html": self.body_html,
            "user_id": self.user_id,
            "dossier_id": self.dossier_id,
            "deadline": self.deadline,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": None,
            "created_at": now,
        }


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(Notification)


def record(session: Session, messages: Sequence[Message], now: datetime) -> dict[str, int]:
    """Insert the messages whose key is new; returns {key: id} of those this call created."""
    created: dict[str, int] = {}
    for start in range(0, len(messages), CHUNK):
        rows = [m.row(now) for m in messages[start : start + CHUNK]]
        stmt: Insert = _insert(session).values(rows)
        stmt = stmt.on_conflict_do_nothing(index_elements=["key"])  # type: ignore[attr-defined]
        for row in session.execute(stmt.returning(Notification.id, Notification.key)):
            created[row.key] = row.id
    return created


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Keys already in the outbox (so a repeated pass does not even render them again)."""
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(
            session.scalars(select(Notification.key).where(Notification.key.in_(keys[start : start + 500])))
        )
    return found


def existing_item_keys(session: Session, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(
            session.scalars(
                select(NotificationDossier.item_key).where(
                    NotificationDossier.item_key.in_(keys[start : start + 500])
                )
            )
        )
    return found


def link_dossiers(session: Session, notification_id: int, items: Iterable[tuple[int, str, str]]) -> None:
    """The dossiers a digest lists: (dossier_id, rule, item_key)."""
    session.add_all(
        NotificationDossier(notification_id=notification_id, dossier_id=d, rule=rule, item_key=key)
        for d, rule, key in items
    )


def disabled(
    session: Session, rules: Iterable[str], user_ids: Iterable[int] | None = None
) -> set[tuple[int, str]]:
    """(user_id, rule) pairs turned off by their owner (only optional rules are ever asked)."""
    rules = list(rules)
    if not rules:
        return set()
    query = select(NotificationPreference.user_id, NotificationPreference.rule).where(
        NotificationPreference.rule.in_(rules), NotificationPreference.enabled.is_(False)
    )
    if user_ids is not None:
        ids = list(user_ids)
        if not ids:
            return set()
        query = query.where(NotificationPreference.user_id.in_(ids))
    return {(row.user_id, row.rule) for row in session.execute(query)}


def display_name(user: User) -> str:
    """« Samira Benali » from « Samira Benali », and nothing from a role label in parentheses."""
    return (user.full_name or "").split(" (")[0].strip()
