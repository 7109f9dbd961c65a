"""A lifecycle written as a table, shared by the dossier's and the CPO's.

Each row names a transition, the states it leaves, the state it reaches, the roles that fire it, its
French button and its named checks. `Lifecycle` builds the table's one `transitions` Machine (once:
building one costs milliseconds, and a bulk decision fires hundreds of transitions) and answers what
every lifecycle is asked: may this role fire this now (every reason at once), which state it leads to,
which buttons to show, the Mermaid picture. Pure: no clock, no database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from transitions import EventData, Machine

from workflows.reasons import Reason

__all__ = [
    "SYSTEM",
    "Lifecycle",
    "RefusalKind",
    "TransitionRefused",
    "TransitionSpec",
    "row",
]

SYSTEM = frozenset({"system"})  # automatic: only the system fires them
RefusalKind = Literal["unknown", "forbidden", "wrong_state", "conditions"]
F = TypeVar("F")


class TransitionRefused(Exception):
    """A refused transition; `kind` tells the HTTP layer which status to answer (404/403/409/422)."""

    def __init__(self, kind: RefusalKind, transition: str, reasons: list[Reason]) -> None:
        super().__init__(" ".join(r.message for r in reasons))
        self.kind: RefusalKind = kind
        self.transition = transition
        self.reasons = reasons


@dataclass(frozen=True)
class TransitionSpec:
    """One row of a lifecycle table. `label` is the French button text."""

    name: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    conditions: tuple[str, ...]
    automatic: bool
    label: str


def row(
    name: str, sources: str | tuple[str, ...], dest: str, roles: frozenset[str], label: str, *conditions: str
) -> TransitionSpec:
    """A table row; a transition only the system fires is automatic."""
    sources = (sources,) if isinstance(sources, str) else sources
    return TransitionSpec(name, sources, dest, roles, conditions, roles == SYSTEM, label)


class _Model:
    """A throwaway model: the Machine only needs somewhere to keep `state`."""

    state: str


class Lifecycle(Generic[F]):
    """The table of one kind of object, its named checks (each returns every reason it fails, [] when
    it passes) and its Machine. `of_a` completes « n'est pas possible pour … à l'état » (« un dossier »)."""

    def __init__(
        self,
        states: Sequence[str],
        initial: str,
        terminal: frozenset[str],
        transitions: Sequence[TransitionSpec],
        conditions: Mapping[str, Callable[[F], list[Reason]]],
        state_labels: Mapping[str, str],
        *,
        of_a: str,
    ) -> None:
        self.states = tuple(states)
        self.initial = initial
        self.terminal = terminal
        self.transitions = tuple(transitions)
        self.conditions = conditions
        self.state_labels = state_labels
        self.of_a = of_a
        self._by_name = {t.name: t for t in self.transitions}
        self.machine = self.build_machine(None)

    def _passes(self, condition: str) -> Callable[[EventData], bool]:
        return lambda event: not self.conditions[condition](event.kwargs["facts"])

    def build_machine(self, model: object, initial: str | None = None) -> Machine:
        """A `transitions` Machine built from the table; conditions expect a `facts=` keyword."""
        return Machine(
            model=model,
            states=list(self.states),
            transitions=[
                {
                    "trigger": t.name,
                    "source": list(t.sources),
                    "dest": t.dest,
                    "conditions": [self._passes(c) for c in t.conditions],
                }
                for t in self.transitions
            ],
            initial=initial or self.initial,
            auto_transitions=False,
            send_event=True,
        )

    def spec(self, name: str) -> TransitionSpec:
        """The table row for `name`; unknown names are refused like any other transition."""
        try:
            return self._by_name[name]
        except KeyError:
            raise TransitionRefused(
                "unknown", name, [Reason("unknown_transition", f"L'action « {name} » n'existe pas.")]
            ) from None

    def failing(self, t: TransitionSpec, facts: F) -> list[Reason]:
        """Every reason the checks of `t` find in `facts`."""
        return [reason for condition in t.conditions for reason in self.conditions[condition](facts)]

    def evaluate(self, name: str, state: str, role: str, facts: F) -> list[Reason]:
        """Every reason `name` cannot happen now ([] when it can).

        Raises `TransitionRefused` for an unknown transition, a role that may not fire it, or a state it
        does not start from, in that order; failing conditions are returned, not raised.
        """
        t = self.spec(name)
        if role not in t.roles:
            raise TransitionRefused(
                "forbidden", name, [Reason("forbidden", f"Votre rôle ne permet pas l'action « {t.label} ».")]
            )
        if state not in t.sources:
            label = self.state_labels.get(state, state)
            raise TransitionRefused(
                "wrong_state",
                name,
                [
                    Reason(
                        "wrong_state",
                        f"L'action « {t.label} » n'est pas possible pour {self.of_a} à l'état « {label} ».",
                    )
                ],
            )
        return self.failing(t, facts)

    def move(self, name: str, state: str, facts: F, reasons: list[Reason]) -> str:
        """The state after `name` from `state` (its `reasons`, found by the caller's evaluate, refuse it),
        moved by the table's one Machine; the model is not kept, so no lock is needed."""
        if reasons:
            raise TransitionRefused("conditions", name, reasons)
        model = _Model()
        model.state = state
        if not self.machine.events[name].trigger(model, facts=facts):
            raise TransitionRefused(
                "conditions", name, [Reason("conditions", "Les conditions ne sont pas remplies.")]
            )
        return model.state

    def available(self, state: str, role: str) -> list[str]:
        """The transitions `role` may offer as buttons in `state`, in table order (conditions not checked)."""
        return [
            t.name for t in self.transitions if not t.automatic and state in t.sources and role in t.roles
        ]

    def allowed_next(self, state: str) -> set[str]:
        """The states one transition away from `state`."""
        return {t.dest for t in self.transitions if state in t.sources}

    def due(self, state: str, facts: F) -> list[str]:
        """The automatic transitions from `state` whose checks all pass."""
        return [
            t.name
            for t in self.transitions
            if t.automatic and state in t.sources and not self.failing(t, facts)
        ]

    def mermaid(self, current: str | None = None) -> str:
        """A Mermaid ``stateDiagram-v2`` drawn from the Machine, `current` highlighted."""
        from workflows.diagram import machine_to_mermaid

        labels = {t.name: t.label + (" (automatique)" if t.automatic else "") for t in self.transitions}
        return machine_to_mermaid(
            self.machine, self.state_labels, labels, current=current, terminal=self.terminal
        )
