"""The one place the app reads the clock (the pure core never does: time is passed in)."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
