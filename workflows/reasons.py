"""One shape for every refusal, so a page can list them all and a program can match on codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """Why something is refused: a stable snake_case `code` for programs, a French `message` for people.

    `field` points at the answer or date concerned (e.g. ``"budget.total"``, ``"depot_cloture"``) so a
    form can show the message next to it.
    """

    code: str
    message: str
    field: str | None = None


def fr_date(d: object) -> str:
    """A date as French people read it (``15/01/2025``), for messages."""
    return d.strftime("%d/%m/%Y") if hasattr(d, "strftime") else str(d)
