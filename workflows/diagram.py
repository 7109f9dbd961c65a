"""Mermaid drawings read off a `transitions` Machine, so the picture users see cannot drift from the rules.

We write the Mermaid text ourselves rather than use the library's GraphMachine: it gives us French
labels, a stable output for tests, and the usual lowercase ``class`` statement for the current state.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from transitions import Machine

CURRENT_STYLE = "fill:#fde68a,stroke:#b45309,stroke-width:3px,font-weight:bold"
TERMINAL_STYLE = "fill:#f3f4f6,stroke:#6b7280,color:#374151"


def _text(label: str) -> str:
    """Mermaid labels may not hold ``"`` nor ``:`` (the edge-label separator)."""
    return label.replace('"', "'").replace(":", " -")


def machine_to_mermaid(
    machine: Machine,
    state_labels: Mapping[str, str],
    transition_labels: Mapping[str, str],
    current: str | None = None,
    terminal: Collection[str] = (),
) -> str:
    """Every state of `machine` with its label, every transition as an edge, `current` marked."""
    states = list(machine.states)
    if current is not None and current not in states:
        raise ValueError(f"unknown state {current!r}")
    lines = [
        "stateDiagram-v2",
        f"  classDef current {CURRENT_STYLE}",
        f"  classDef terminal {TERMINAL_STYLE}",
    ]
    lines += [f'  state "{_text(state_labels.get(s, s))}" as {s}' for s in states]
    lines.append(f"  [*] --> {machine.initial}")
    for name, event in machine.events.items():
        label = _text(transition_labels.get(name, name))
        for source, transitions in event.transitions.items():
            lines += [f"  {source} --> {t.dest} : {label}" for t in transitions]
    lines += [f"  {s} --> [*]" for s in states if s in terminal]
    ends = [s for s in states if s in terminal and s != current]
    if ends:
        lines.append(f"  class {','.join(ends)} terminal")
    if current is not None:
        lines.append(f"  class {current} current")
    return "\n".join(lines) + "\n"
