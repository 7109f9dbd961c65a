"""Reasons a payment must wait, registered by the domains that hold them (a bilan not yet validated, a
CPO year whose previous bilan is pending…), so the payment service needs to know none of them.

A guard returns the reasons it blocks the payment for ([] when it does not); the payment service
answers 409 with every reason. Guards are registered at the composition root (`aap/wiring.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from aap.models import Cofinancement, Dossier, User
from workflows.reasons import Reason


@dataclass(frozen=True)
class PaymentAttempt:
    session: Session
    user: User
    dossier: Dossier
    line: Cofinancement
    kind: str  # 'avance' or 'solde'
    paid_on: date
    now: datetime


PaymentGuard = Callable[[PaymentAttempt], list[Reason]]


class PaymentGuards:
    def __init__(self) -> None:
        self._guards: dict[str, PaymentGuard] = {}

    def add(self, name: str, guard: PaymentGuard) -> None:
        self._guards.setdefault(name, guard)

    def reasons(self, attempt: PaymentAttempt) -> list[Reason]:
        return [reason for guard in self._guards.values() for reason in guard(attempt)]

    def names(self) -> list[str]:
        return list(self._guards)


GUARDS = PaymentGuards()
