"""Passes other domains add to the cron pass (avis reminders…), registered at the composition root.

Each takes a session and the pass's clock, records what is due (through the outbox, so a second pass
is a no-op), commits, and returns how many messages it recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

ScheduledPass = Callable[[Session, datetime], int]

PASSES: dict[str, ScheduledPass] = {}


def register(name: str, run: ScheduledPass) -> None:
    PASSES.setdefault(name, run)
