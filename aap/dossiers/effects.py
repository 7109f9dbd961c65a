"""What happens around a dossier's transition, as a table the other domains fill.

The dossier service fires a transition and records its history row; it does not know who reacts.
Each domain registers, at the composition root (`aap/wiring.py`):

- **effects**: run inside the transition's transaction once the state has changed and the history row
  exists (messages in the outbox, pièces linking, the convention documents, the CPO's bookkeeping…);
  `"*"` means every event, including the financers' decisions (`decision_financeur`);
- **after-commit effects**: heavy work (a PDF) run once the transition's transaction has committed, in a
  fresh session of their own, so the dossier's row lock is not held while it runs; queued in the
  session (`session.info`), dropped on rollback, and run by a SQLAlchemy `after_commit` listener. If
  the process dies in between, the effect's domain repairs it from the cron pass (idempotent);
- **preconditions**: extra reasons a transition is refused for (a bilan form not complete, a required
  pièce missing at dépôt…), gathered with the lifecycle's own conditions so the caller sees every
  reason at once (422);
- **answer checks**: extra field errors refusing a save of the answers (a pièce id that is not one of
  the organisation's files…), joined to the form's own errors (422, nothing saved).

The table is filled once per process; `wire()` in `aap/wiring.py` is idempotent.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from aap.models import Dossier, DossierEvent, User
from forms import FieldError, Form
from workflows.dossier import Reason

EVERY_EVENT = "*"
PENDING = "aap.after_commit"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransitionContext:
    """What an effect may look at and write through (the session is the transition's)."""

    session: Session
    dossier: Dossier
    event: DossierEvent
    user: User | None
    now: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    data_dir: Path | None = None


@dataclass(frozen=True)
class PreconditionContext:
    session: Session
    dossier: Dossier
    transition: str
    now: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AfterCommitContext:
    """What an after-commit effect gets: ids, not objects (its session is a fresh one, which it commits)."""

    session: Session
    dossier_id: int
    event_id: int
    transition: str
    user_id: int | None
    now: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    data_dir: Path | None = None


@dataclass(frozen=True)
class AnswersContext:
    """A save of the answers about to happen: `answers` are the merged ones, not yet written."""

    session: Session
    dossier: Dossier
    form: Form
    answers: dict[str, Any]


Effect = Callable[[TransitionContext], None]
AfterCommitEffect = Callable[[AfterCommitContext], None]
Precondition = Callable[[PreconditionContext], list[Reason]]
AnswersCheck = Callable[[AnswersContext], list[FieldError]]


class EffectsTable:
    """Per transition name, the effects to run and the preconditions to check, in registration order."""

    def __init__(self) -> None:
        self._effects: dict[str, list[tuple[str, Effect]]] = defaultdict(list)
        self._preconditions: dict[str, list[tuple[str, Precondition]]] = defaultdict(list)
        self._after_commit: dict[str, list[tuple[str, AfterCommitEffect]]] = defaultdict(list)
        self._answer_checks: list[tuple[str, AnswersCheck]] = []

    def on(self, transitions: str | Iterable[str], effect: Effect, *, name: str | None = None) -> None:
        """Run `effect` after each of `transitions` (or `"*"`: every event)."""
        label = name or getattr(effect, "__qualname__", repr(effect))
        for transition in [transitions] if isinstance(transitions, str) else transitions:
            if all(existing != label for existing, _ in self._effects[transition]):
                self._effects[transition].append((label, effect))

    def after_commit(
        self, transitions: str | Iterable[str], effect: AfterCommitEffect, *, name: str | None = None
    ) -> None:
        """Run `effect` once the transaction of each of `transitions` (or `"*"`) has committed."""
        label = name or getattr(effect, "__qualname__", repr(effect))
        for transition in [transitions] if isinstance(transitions, str) else transitions:
            if all(existing != label for existing, _ in self._after_commit[transition]):
                self._after_commit[transition].append((label, effect))

    def require(self, transition: str, precondition: Precondition, *, name: str | None = None) -> None:
        label = name or getattr(precondition, "__qualname__", repr(precondition))
        if all(existing != label for existing, _ in self._preconditions[transition]):
            self._preconditions[transition].append((label, precondition))

    def check_answers(self, check: AnswersCheck, *, name: str | None = None) -> None:
        """Run `check` on every save of a dossier's answers."""
        label = name or getattr(check, "__qualname__", repr(check))
        if all(existing != label for existing, _ in self._answer_checks):
            self._answer_checks.append((label, check))

    def run(self, ctx: TransitionContext) -> None:
        for _, effect in self._effects.get(ctx.event.transition, []) + self._effects.get(EVERY_EVENT, []):
            effect(ctx)
        later = self._after_commit.get(ctx.event.transition, []) + self._after_commit.get(EVERY_EVENT, [])
        if later:
            pending = ctx.session.info.setdefault(PENDING, [])
            for label, effect in later:
                pending.append((label, effect, _deferred(ctx)))

    def reasons(self, ctx: PreconditionContext) -> list[Reason]:
        found: list[Reason] = []
        for _, precondition in self._preconditions.get(ctx.transition, []):
            found.extend(precondition(ctx))
        return found

    def answer_errors(self, ctx: AnswersContext) -> list[FieldError]:
        return [error for _, check in self._answer_checks for error in check(ctx)]

    def describe(self) -> dict[str, list[str]]:
        """Which domain does what after which transition (for docs and tests)."""
        return {name: [label for label, _ in effects] for name, effects in sorted(self._effects.items())}

    def describe_after_commit(self) -> dict[str, list[str]]:
        return {name: [label for label, _ in fx] for name, fx in sorted(self._after_commit.items())}

    def clear(self) -> None:
        self._effects.clear()
        self._preconditions.clear()
        self._after_commit.clear()
        self._answer_checks.clear()


def _deferred(ctx: TransitionContext) -> dict[str, Any]:
    return {
        "dossier_id": ctx.dossier.id,
        "event_id": ctx.event.id,
        "transition": ctx.event.transition,
        "user_id": ctx.user.id if ctx.user else None,
        "now": ctx.now,
        "payload": dict(ctx.payload),
        "data_dir": ctx.data_dir or ctx.session.info.get("data_dir"),
    }


@sa_event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    """Each queued effect in its own session and transaction; a failure is logged, never raised (the
    transition has committed; the domain's repair pass makes up for it)."""
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    bind = session.get_bind()
    for label, effect, data in pending:
        with Session(bind=bind, expire_on_commit=False) as fresh:
            if fresh.get(DossierEvent, data["event_id"]) is None:
                continue  # rolled back after all (a savepoint): nothing to follow up
            try:
                effect(AfterCommitContext(session=fresh, **data))
                fresh.commit()
            except Exception:
                fresh.rollback()
                log.exception("after-commit effect %s failed for dossier %s", label, data["dossier_id"])


@sa_event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


TABLE = EffectsTable()
