"""A cofinancement line: one financer's part of a dossier, from the request to that financer's decision.

It has its own small machine beside the dossier's because each financer decides alone: the dossier only
moves (`dossier.after_decisions`) once every line is decided. Money is `Decimal`, never float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from transitions import Machine, MachineError

from workflows.money import format_euros
from workflows.reasons import Reason

__all__ = [
    "DECISIONS",
    "LINE_STATES",
    "LINE_TRANSITIONS",
    "NBSP",
    "LineTransition",
    "CONVENTION_THRESHOLD",
    "PAYMENT_KINDS",
    "check_decision",
    "check_payment",
    "decision_action",
    "document_kind",
    "check_proposition",
    "format_euros",
    "line_state",
    "line_state_after",
    "next_line_state",
]

LINE_STATES: tuple[str, ...] = ("sollicite", "propose", "accorde", "refuse", "ajourne")
DECISIONS: tuple[str, ...] = ("accorde", "refuse", "ajourne")
FINAL = frozenset({"accorde", "refuse"})  # an ajourne line waits to be decided again
CENT = Decimal("0.01")
NBSP = "\u00a0"  # no-break space: thousands separator and before "€", so an amount never wraps


@dataclass(frozen=True)
class LineTransition:
    name: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[str]


_INSTRUCTEUR = frozenset({"instructeur", "admin"})
_FINANCEUR = frozenset({"financeur"})
_DECIDABLE = ("propose", "ajourne")

# fmt: off
LINE_TRANSITIONS: tuple[LineTransition, ...] = (
    # name        from                                  to          by
    LineTransition("proposer", ("sollicite", "propose", "ajourne"), "propose",  _INSTRUCTEUR),
    LineTransition("accorder", _DECIDABLE,                          "accorde",  _FINANCEUR),
    LineTransition("refuser",  _DECIDABLE,                          "refuse",   _FINANCEUR),
    LineTransition("ajourner", _DECIDABLE,                          "ajourne",  _FINANCEUR),
)
# fmt: on
_ACTION_OF = {"accorde": "accorder", "refuse": "refuser", "ajourne": "ajourner"}


class _Line:
    state: str


@cache
def _line_machine() -> Machine:
    """Built once: a Machine costs milliseconds to build, a trigger microseconds."""
    return Machine(
        model=None,
        states=list(LINE_STATES),
        transitions=[
            {"trigger": t.name, "source": list(t.sources), "dest": t.dest} for t in LINE_TRANSITIONS
        ],
        initial=LINE_STATES[0],
        auto_transitions=False,
    )


def next_line_state(state: str, action: str) -> str:
    """The state after `action` (``proposer``, ``accorder``…), moved by a `transitions` Machine.

    Raises `transitions.MachineError` when the action is unknown or does not start from `state`."""
    machine = _line_machine()
    if action not in machine.events:
        raise MachineError(f"Unknown line action {action!r}.")
    line = _Line()
    line.state = state
    machine.events[action].trigger(line)
    return line.state


def line_state(montant_propose: Decimal | None, decision: str | None) -> str:
    """The line's state from what is stored about it."""
    if decision in DECISIONS:
        return str(decision)
    return "sollicite" if montant_propose is None else "propose"


def line_state_after(decision: str) -> str:
    """The line's state once `decision` is recorded."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    return decision


def _amount_problems(montant: Decimal, field: str) -> list[Reason]:
    if isinstance(montant, float) or not isinstance(montant, Decimal):
        raise TypeError("money must be Decimal, not float")
    if not montant.is_finite():
        return [Reason("montant_invalid", "Le montant n'est pas un nombre valide.", field)]
    if montant != montant.quantize(CENT, rounding=ROUND_HALF_UP):
        return [Reason("montant_precision", "Le montant ne peut pas avoir plus de deux décimales.", field)]
    return []


def check_proposition(
    montant_demande: Decimal, montant: Decimal, line_state: str | None = None
) -> list[Reason]:
    """Why the instructeur cannot propose `montant` on this line. Zero is allowed (proposing nothing).

    `line_state`, when given, refuses re-proposing on a line the financer has already settled."""
    if line_state in FINAL:
        return [Reason("already_decided", "Le financeur a déjà rendu sa décision sur cette ligne.")]
    reasons = _amount_problems(montant, "montant")
    if reasons:
        return reasons
    if montant < 0:
        reasons.append(Reason("montant_negative", "Le montant proposé ne peut pas être négatif.", "montant"))
    if montant > montant_demande:
        reasons.append(
            Reason(
                "propose_above_requested",
                f"Le montant proposé ({format_euros(montant)}) dépasse le montant demandé ({format_euros(montant_demande)}).",
                "montant",
            )
        )
    return reasons


def check_decision(
    line_state: str,
    montant_demande: Decimal,
    decision: str,
    montant: Decimal | None,
    motif: str | None,
    enveloppe_restant: Decimal,
) -> list[Reason]:
    """Every reason the financer cannot record `decision` on this line now.

    ``accorde`` needs an amount above zero, within the request and what is left of the enveloppe;
    ``refuse`` and ``ajourne`` need a motif. A line already accorde or refuse stays so."""
    if line_state in FINAL:
        return [Reason("already_decided", "Ce financeur a déjà rendu sa décision sur cette ligne.")]
    if line_state not in _DECIDABLE:
        return [Reason("not_proposed", "L'instruction n'a pas encore proposé de montant pour ce financeur.")]
    if decision not in DECISIONS:
        return [Reason("decision_invalid", "La décision doit être accordé, refusé ou ajourné.", "decision")]
    if decision != "accorde":
        if motif is None or not motif.strip():
            return [Reason("motif_required", "Le motif de la décision est obligatoire.", "motif")]
        return []
    if montant is None:
        return [Reason("montant_required", "Le montant accordé est obligatoire.", "montant")]
    reasons = _amount_problems(montant, "montant")
    if reasons:
        return reasons
    if montant <= 0:
        reasons.append(
            Reason("montant_not_positive", "Le montant accordé doit être supérieur à zéro.", "montant")
        )
    if montant > montant_demande:
        reasons.append(
            Reason(
                "accorde_above_requested",
                f"Le montant accordé ({format_euros(montant)}) dépasse le montant demandé ({format_euros(montant_demande)}).",
                "montant",
            )
        )
    if montant > enveloppe_restant:
        reasons.append(
            Reason(
                "enveloppe_exceeded",
                f"L'enveloppe ne permet pas d'accorder {format_euros(montant)} : "
                f"il reste {format_euros(max(enveloppe_restant, Decimal(0)))}.",
                "montant",
            )
        )
    return reasons


def decision_action(decision: str) -> str:
    """The line transition (``accorder``…) that records `decision`."""
    return _ACTION_OF[decision]


# --- what the financer sends once the dossier is conventionné ---------------------------------------

# Loi n° 2000-321 du 12 avril 2000, art. 10, and décret n° 2001-495: a written convention is due when
# the annual amount an authority grants an organisation passes 23 000 €. We ask for it from 23 000 €
# included (the issue says "reaches"; a convention where a letter would do is harmless, the reverse
# is not).
CONVENTION_THRESHOLD = Decimal("23000.00")


def document_kind(total_of_year: Decimal, under_cpo: bool = False) -> str:
    """``convention`` or ``notification``: what a financer sends for an accorded line.

    `total_of_year` is what this financer accorded this organisation for the year, this line included."""
    if isinstance(total_of_year, float):
        raise TypeError("money must be Decimal, not float")
    return "convention" if under_cpo or total_of_year >= CONVENTION_THRESHOLD else "notification"


# --- payments -----------------------------------------------------------------------------------

# The usual schedule: an avance at the convention's signature (or the notification), the solde once the
# compte rendu financier is accepted. Half and half unless a financer's file says otherwise (none does yet).
AVANCE_PART = Decimal("0.50")


def payment_schedule(
    montant_accorde: Decimal, kind: str, avance_part: Decimal = AVANCE_PART
) -> list[dict[str, Any]]:
    """The échéancier printed in the convention or letter: ``[{kind, label, montant}]`` summing to the grant."""
    if isinstance(montant_accorde, float):
        raise TypeError("money must be Decimal, not float")
    avance = (montant_accorde * avance_part).quantize(CENT, rounding=ROUND_HALF_UP)
    when = "à la signature de la convention" if kind == "convention" else "à la notification"
    return [
        {"kind": "avance", "label": f"Avance, {when}", "montant": avance},
        {
            "kind": "solde",
            "label": "Solde, après acceptation du compte rendu financier et du bilan",
            "montant": montant_accorde - avance,
        },
    ]


PAYMENT_KINDS: tuple[str, ...] = ("avance", "solde")


def check_payment(
    *,
    decision: str | None,
    montant_accorde: Decimal | None,
    paid_kinds: list[str],
    already_paid: Decimal,
    kind: str,
    montant: Decimal,
    paid_on: date,
    decided_on: date | None,
    today: date,
) -> list[Reason]:
    """Every reason a payment cannot be recorded on this line.

    Only an accorded line is paid; the total paid never exceeds the accorded amount; the solde is the
    last payment (nothing after it); a payment is dated between the decision and today."""
    if decision != "accorde" or montant_accorde is None:
        return [Reason("not_accorded", "Seule une subvention accordée peut être versée.")]
    if kind not in PAYMENT_KINDS:
        return [Reason("kind_invalid", "Le versement est une avance ou un solde.", "kind")]
    reasons = _amount_problems(montant, "montant")
    if reasons:
        return reasons
    if "solde" in paid_kinds:
        reasons.append(
            Reason("solde_already_paid", "Le solde a déjà été versé : la subvention est soldée.", "kind")
        )
    if montant <= 0:
        reasons.append(
            Reason("montant_not_positive", "Le montant versé doit être supérieur à zéro.", "montant")
        )
    elif already_paid + montant > montant_accorde:
        left = max(montant_accorde - already_paid, Decimal(0))
        reasons.append(
            Reason(
                "paiement_above_accorde",
                f"Le versement de {format_euros(montant)} dépasse ce qui reste à verser sur le montant "
                f"accordé de {format_euros(montant_accorde)} : il reste {format_euros(left)}.",
                "montant",
            )
        )
    if paid_on > today:
        reasons.append(Reason("date_future", "La date de versement ne peut pas être dans le futur.", "date"))
    if decided_on is not None and paid_on < decided_on:
        reasons.append(
            Reason("date_before_decision", "La date de versement précède la décision du financeur.", "date")
        )
    return reasons
