"""A person may turn off the optional reminders (`optional: true` in rules.yaml); never the event
messages (accusé de réception, compléments demandés, décision, convention) nor the overdue notices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.models import NotificationPreference, User
from notifications.rules import RulesFile, default_rules


class UnknownRule(LookupError):
    pass


class MandatoryRule(ValueError):
    def __init__(self, code: str, label: str):
        super().__init__(code)
        self.code, self.label = code, label


def _audiences(user: User) -> set[str]:
    if user.role == "porteur":
        return {"porteurs"}
    if user.role == "financeur":
        return {"financeurs"}
    if user.role == "partenaire":  # the avis asked of it: the requests, reminders and its digest
        return {"partenaires", "destinataire"}
    return {"instructeurs"}


def list_for(session: Session, user: User, rules: RulesFile | None = None) -> list[dict[str, Any]]:
    """The rules that speak to this person's role, whether each is on, and whether it may be turned off."""
    rules = rules or default_rules()
    off = set(
        session.scalars(
            select(NotificationPreference.rule).where(
                NotificationPreference.user_id == user.id, NotificationPreference.enabled.is_(False)
            )
        )
    )
    return [
        {
            "rule": r.code,
            "label": r.label,
            "optional": r.optional,
            "enabled": not (r.optional and r.code in off),
        }
        for r in rules.rules
        if r.audience in _audiences(user)
    ]


def set_for(
    session: Session, user: User, code: str, enabled: bool, rules: RulesFile | None = None
) -> dict[str, Any]:
    rules = rules or default_rules()
    rule = rules.get(code)
    if rule is None:
        raise UnknownRule(code)
    if not rule.optional and not enabled:
        raise MandatoryRule(code, rule.label)
    pref = session.get(NotificationPreference, (user.id, code))
    if pref is None:
        pref = NotificationPreference(user_id=user.id, rule=code, enabled=enabled)
        session.add(pref)
    else:
        pref.enabled = enabled
    session.commit()
    return {"rule": code, "label": rule.label, "optional": rule.optional, "enabled": enabled}
