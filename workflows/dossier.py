"""The dossier lifecycle: one table of transitions, who may fire them, and the named checks they need.

The table is the single source of truth: the `transitions` Machine that moves a dossier, the buttons a
role sees (`available`) and the diagram shown to users (`mermaid`) are all built from it. Checks never
stop at the first failure, so a porteur sees every reason at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from workflows import depot
from workflows.labels import AVIS_LABELS, EVENT_LABELS, PAST_TRANSITION_LABELS
from workflows.machine import SYSTEM, Lifecycle, TransitionRefused, TransitionSpec, row
from workflows.reasons import Reason, fr_date

__all__ = [
    "AVIS",
    "CONDITIONS",
    "LIFECYCLE",
    "INITIAL_STATE",
    "ROLES",
    "STATES",
    "STATE_LABELS",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "EDITABLE_STATES",
    "HISTORY_LABELS",
    "PAST_HISTORY_LABELS",
    "PUBLIC_STATES",
    "CONVENTIONED_STATES",
    "CofinancementFact",
    "DossierFacts",
    "Reason",
    "TransitionRefused",
    "TransitionSpec",
    "after_decisions",
    "allowed_next",
    "available",
    "build_machine",
    "evaluate",
    "fire",
    "mermaid",
    "svg",
    "spec",
    "time_driven",
]

STATES: tuple[str, ...] = (
    "brouillon",
    "depose",
    "en_instruction",
    "complements_demandes",
    "instruit",
    "avise",
    "programme",
    "rejete",
    "conventionne",
    "bilan_depose",
    "cloture",
    "abandonne",
    "non_depose",
)
INITIAL_STATE = "brouillon"
TERMINAL_STATES = frozenset({"rejete", "cloture", "abandonne", "non_depose"})
# the porteur may still change the answers (a deposited dossier until instruction starts)
EDITABLE_STATES: tuple[str, ...] = ("brouillon", "depose", "complements_demandes")
# what the public may see: an action once programmed (the directory of funded actions), a financer's
# line once the convention or the notification is sent (the open data file)
PUBLIC_STATES: tuple[str, ...] = ("programme", "conventionne", "bilan_depose", "cloture")
CONVENTIONED_STATES: tuple[str, ...] = ("conventionne", "bilan_depose", "cloture")

STATE_LABELS: dict[str, str] = {
    "brouillon": "Brouillon",
    "depose": "Déposé",
    "en_instruction": "En instruction",
    "complements_demandes": "Compléments demandés",
    "instruit": "Instruit",
    "avise": "Avis rendu",
    "programme": "Programmé",
    "rejete": "Rejeté",
    "conventionne": "Conventionné",
    "bilan_depose": "Bilan déposé",
    "cloture": "Clôturé",
    "abandonne": "Abandonné",
    "non_depose": "Non déposé",
}

ROLES = frozenset({"porteur", "instructeur", "admin", "financeur", "system"})
AVIS = tuple(AVIS_LABELS)
DECIDED = frozenset({"accorde", "refuse"})
_AVIS_CHOICES = ", ".join(label.lower() for label in AVIS_LABELS.values())


PORTEUR = frozenset({"porteur"})
INSTRUCTEUR = frozenset({"instructeur", "admin"})  # admin may fire every instructeur transition
BEFORE_PROGRAMME = ("brouillon", "depose", "en_instruction", "complements_demandes", "instruit", "avise")


# fmt: off
TRANSITIONS: tuple[TransitionSpec, ...] = (
    # name                      from                    to                      by           button label                           conditions
    row("deposer",                "brouillon",            "depose",               PORTEUR,     "Déposer le dossier",                  "form_complete", "depot_window_open"),
    row("prendre_en_instruction", "depose",               "en_instruction",       INSTRUCTEUR, "Prendre en instruction"),
    row("demander_complements",   "en_instruction",       "complements_demandes", INSTRUCTEUR, "Demander des compléments",            "comment_given", "due_date_future"),
    row("completer",              "complements_demandes", "en_instruction",       PORTEUR,     "Transmettre les compléments"),
    row("terminer_instruction",   "en_instruction",       "instruit",             INSTRUCTEUR, "Terminer l'instruction",              "amounts_proposed"),
    row("rendre_avis",            "instruit",             "avise",                INSTRUCTEUR, "Rendre l'avis du comité technique",   "avis_valid"),
    row("programmer",             "avise",                "programme",            SYSTEM,      "Programmer",                          "all_decided_with_accord"),
    row("rejeter",                "avise",                "rejete",               SYSTEM,      "Rejeter",                             "all_decided_without_accord"),
    row("conventionner",          "programme",            "conventionne",         INSTRUCTEUR, "Conventionner"),
    row("deposer_bilan",          "conventionne",         "bilan_depose",         PORTEUR,     "Déposer le bilan",                    "bilan_complete"),
    row("renvoyer_bilan",         "bilan_depose",         "conventionne",         INSTRUCTEUR, "Renvoyer le bilan pour corrections",  "comment_given", "due_date_future"),
    row("valider_bilan",          "bilan_depose",         "cloture",              INSTRUCTEUR, "Valider le bilan"),
    row("abandonner",             BEFORE_PROGRAMME,       "abandonne",            PORTEUR,     "Abandonner le dossier"),
    row("expirer",                "brouillon",            "non_depose",           SYSTEM,      "Clore le brouillon non déposé",       "depot_window_closed"),
)

# how the history names each step: the transition's button, and the steps that are not transitions
HISTORY_LABELS: dict[str, str] = {t.name: t.label for t in TRANSITIONS} | EVENT_LABELS
# the porteur's history speaks in the past (« Dossier déposé »)
PAST_HISTORY_LABELS: dict[str, str] = HISTORY_LABELS | PAST_TRANSITION_LABELS
# fmt: on


@dataclass
class CofinancementFact:
    """What the lifecycle needs to know of one cofinancement line."""

    financeur: str
    montant_propose: Decimal | None = None
    decision: str | None = None  # None, 'accorde', 'refuse', 'ajourne'


@dataclass
class DossierFacts:
    """Everything the checks may look at, gathered by the service (the core reads no clock, no database).

    `payload` carries what the caller sent with the transition: `comment`, `due_date` (a date), `avis`.
    """

    now: datetime
    depot_ouverture: date | None = None
    depot_cloture: date | None = None
    extension_until: date | None = None
    form_errors: list[Reason] = field(default_factory=list)
    bilan_errors: list[Reason] = field(default_factory=list)
    # reasons the other domains found (their preconditions, registered in the effects table)
    extra_reasons: list[Reason] = field(default_factory=list)
    cofinancements: list[CofinancementFact] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)


# --- named checks -----------------------------------------------------------------------------------

Check = Callable[[DossierFacts], list[Reason]]


def _today(facts: DossierFacts) -> date:
    return facts.now.date()


def _extended(facts: DossierFacts) -> bool:
    return depot.extended(_today(facts), facts.extension_until)


def _form_complete(facts: DossierFacts) -> list[Reason]:
    return [Reason("form_incomplete", e.message, e.field) for e in facts.form_errors]


def _depot_window_open(facts: DossierFacts) -> list[Reason]:
    today = _today(facts)
    if _extended(facts):
        return []
    if not depot.depot_open(today, facts.depot_ouverture, None):
        return [
            Reason(
                "depot_not_open", f"Le dépôt des dossiers n'ouvre que le {fr_date(facts.depot_ouverture)}."
            )
        ]
    if depot.depot_closed(today, facts.depot_cloture):
        return [
            Reason("depot_closed", f"Le dépôt des dossiers a été clos le {fr_date(facts.depot_cloture)}.")
        ]
    return []


def _depot_window_closed(facts: DossierFacts) -> list[Reason]:
    if depot.depot_closed(_today(facts), facts.depot_cloture, facts.extension_until):
        return []
    return [Reason("depot_still_open", "Le dépôt des dossiers n'est pas encore clos.")]


def _comment_given(facts: DossierFacts) -> list[Reason]:
    comment = facts.payload.get("comment")
    if isinstance(comment, str) and comment.strip():
        return []
    return [Reason("comment_required", "Un message est obligatoire.", "comment")]


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _due_date_future(facts: DossierFacts) -> list[Reason]:
    raw = facts.payload.get("due_date")
    if raw is None or raw == "":
        return [Reason("due_date_required", "La date limite de réponse est obligatoire.", "due_date")]
    due = _as_date(raw)
    if due is None:
        return [
            Reason("due_date_invalid", "La date limite de réponse n'est pas une date valide.", "due_date")
        ]
    if due <= _today(facts):
        return [
            Reason(
                "due_date_not_future",
                "La date limite de réponse doit être postérieure à aujourd'hui.",
                "due_date",
            )
        ]
    return []


def _amounts_proposed(facts: DossierFacts) -> list[Reason]:
    if not facts.cofinancements:
        return [Reason("no_cofinancement", "Le dossier ne sollicite aucun financeur.", "cofinancements")]
    return [
        Reason(
            "montant_propose_missing",
            f"Aucun montant proposé pour le financeur {c.financeur}.",
            f"cofinancements.{c.financeur}.montant_propose",
        )
        for c in facts.cofinancements
        if c.montant_propose is None
    ]


def _avis_valid(facts: DossierFacts) -> list[Reason]:
    avis = facts.payload.get("avis")
    if avis is None or avis == "":
        return [Reason("avis_required", "L'avis du comité technique est obligatoire.", "avis")]
    if avis not in AVIS:
        return [Reason("avis_invalid", f"L'avis doit être : {_AVIS_CHOICES}.", "avis")]
    return []


def _bilan_complete(facts: DossierFacts) -> list[Reason]:
    return [Reason("bilan_incomplete", e.message, e.field) for e in facts.bilan_errors]


def _pending(facts: DossierFacts) -> list[Reason]:
    if not facts.cofinancements:
        return [Reason("no_cofinancement", "Le dossier ne sollicite aucun financeur.", "cofinancements")]
    return [
        Reason(
            "decision_pending",
            f"Le financeur {c.financeur} n'a pas encore décidé.",
            f"cofinancements.{c.financeur}",
        )
        for c in facts.cofinancements
        if c.decision not in DECIDED
    ]


def _has_accord(facts: DossierFacts) -> bool:
    return any(c.decision == "accorde" for c in facts.cofinancements)


def _all_decided_with_accord(facts: DossierFacts) -> list[Reason]:
    reasons = _pending(facts)
    if not reasons and not _has_accord(facts):
        reasons.append(Reason("no_accord", "Aucun financeur n'a accordé de subvention."))
    return reasons


def _all_decided_without_accord(facts: DossierFacts) -> list[Reason]:
    reasons = _pending(facts)
    if not reasons and _has_accord(facts):
        reasons.append(Reason("has_accord", "Au moins un financeur a accordé une subvention."))
    return reasons


CONDITIONS: dict[str, Check] = {
    "form_complete": _form_complete,
    "depot_window_open": _depot_window_open,
    "depot_window_closed": _depot_window_closed,
    "comment_given": _comment_given,
    "due_date_future": _due_date_future,
    "amounts_proposed": _amounts_proposed,
    "avis_valid": _avis_valid,
    "bilan_complete": _bilan_complete,
    "all_decided_with_accord": _all_decided_with_accord,
    "all_decided_without_accord": _all_decided_without_accord,
}


# --- the machine, built once from the table -------------------------------------------------------


LIFECYCLE: Lifecycle[DossierFacts] = Lifecycle(
    STATES, INITIAL_STATE, TERMINAL_STATES, TRANSITIONS, CONDITIONS, STATE_LABELS, of_a="un dossier"
)
build_machine = LIFECYCLE.build_machine
spec = LIFECYCLE.spec


# --- public API -----------------------------------------------------------------------------------


def evaluate(name: str, state: str, role: str, facts: DossierFacts) -> list[Reason]:
    """Every reason `name` cannot happen now ([] when it can), the other domains' reasons included.

    Raises `TransitionRefused` for an unknown transition, a role that may not fire it, or a state it
    does not start from, in that order; failing conditions are returned, not raised.
    """
    return LIFECYCLE.evaluate(name, state, role, facts) + list(facts.extra_reasons)


def fire(name: str, state: str, role: str, facts: DossierFacts) -> str:
    """The state after `name`, moved by the Machine; raises `TransitionRefused` with every reason."""
    return LIFECYCLE.move(name, state, facts, evaluate(name, state, role, facts))


available = LIFECYCLE.available


def after_decisions(decisions: list[str | None]) -> str | None:
    """Which automatic transition the financers' decisions call for, if any.

    Waits while a line is undecided or `ajourne`; with no line at all there is nothing to decide.
    """
    if not decisions or any(d not in DECIDED for d in decisions):
        return None
    return "programmer" if "accorde" in decisions else "rejeter"


def time_driven(state: str, facts: DossierFacts) -> list[str]:
    """The transitions the clock makes due (the cron pass fires them as `system`)."""
    if state == "brouillon" and not _depot_window_closed(facts):
        return ["expirer"]
    return []


allowed_next = LIFECYCLE.allowed_next


def svg(current: str | None = None) -> str:
    """The lifecycle drawn as SVG from the same table (`workflows/svg.py`), `current` highlighted."""
    from workflows.svg import Edge, lifecycle_svg

    edges = [
        Edge(source, t.dest, t.label + (" (automatique)" if t.automatic else ""))
        for t in TRANSITIONS
        for source in t.sources
    ]
    return lifecycle_svg(
        STATES,
        edges,
        STATE_LABELS,
        initial=INITIAL_STATE,
        current=current,
        terminal=TERMINAL_STATES,
        title="Les étapes d'un dossier"
        + (f" ; l'état actuel : « {STATE_LABELS.get(current, current)} »" if current else ""),
    )


mermaid = LIFECYCLE.mermaid
