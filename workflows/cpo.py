"""The CPO (convention pluriannuelle d'objectifs): one table of transitions, who fires them, their checks.

projet → (each signing financer signs its yearly amounts) → signee once all have signed → active when
its first year starts → echue after its last year; or resiliee, with its reason, before it ends.
Like `workflows.dossier`: pure (no clock, no database), every reason at once, the Machine built once
from the table and reused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from workflows.labels import CPO_EVENT_LABELS
from workflows.machine import SYSTEM, Lifecycle, TransitionRefused, TransitionSpec, row
from workflows.reasons import Reason

__all__ = [
    "CONDITIONS",
    "LIFECYCLE",
    "HISTORY_LABELS",
    "INITIAL_STATE",
    "MAX_YEARS",
    "MIN_YEARS",
    "STATES",
    "STATE_LABELS",
    "TRANSITIONS",
    "CpoFacts",
    "TransitionRefused",
    "available",
    "check_amount",
    "check_proposal",
    "end_of",
    "evaluate",
    "fire",
    "mermaid",
    "renewal_due",
    "time_driven",
]

STATES: tuple[str, ...] = ("projet", "signee", "active", "echue", "resiliee")
INITIAL_STATE = "projet"
TERMINAL_STATES = frozenset({"echue", "resiliee"})
STATE_LABELS: dict[str, str] = {
    "projet": "En projet (signatures attendues)",
    "signee": "Signée",
    "active": "En cours",
    "echue": "Échue",
    "resiliee": "Résiliée",
}
MIN_YEARS, MAX_YEARS = 2, 4
RENEWAL_NOTICE = timedelta(days=183)  # « dans les 6 mois »


FINANCEUR = frozenset({"financeur"})
INSTRUCTEUR = frozenset({"instructeur", "admin"})


# fmt: off
TRANSITIONS: tuple[TransitionSpec, ...] = (
    # name        from                           to          by           button label                      conditions
    row("signer",   "projet",                      "projet",   FINANCEUR,   "Signer la CPO",                  "signs_for_itself", "is_signatory", "not_signed_yet", "amounts_signed"),
    row("conclure", "projet",                      "signee",   SYSTEM,      "Conclure (toutes signatures)",   "all_signed"),
    row("activer",  "signee",                      "active",   SYSTEM,      "Commencer la première année",    "first_year_started"),
    row("echoir",   "active",                      "echue",    SYSTEM,      "Arriver à échéance",             "last_year_ended"),
    row("resilier", ("projet", "signee", "active"), "resiliee", INSTRUCTEUR, "Résilier la CPO",                "motif_given"),
)
# fmt: on
# how the CPO's history names each step: the transition's button, and the steps that are not transitions
HISTORY_LABELS: dict[str, str] = {t.name: t.label for t in TRANSITIONS} | CPO_EVENT_LABELS


@dataclass
class CpoFacts:
    """What the checks look at, gathered by the service. `planned` maps each signing financer's code to
    its yearly amounts (in the order of `annees`); `signer` is the caller's own financer code and
    `payload` what the caller sent (`financeur`, `montants`, `motif`)."""

    now: datetime
    annees: list[int] = field(default_factory=list)
    planned: dict[str, list[Decimal]] = field(default_factory=dict)
    signed: set[str] = field(default_factory=set)
    signer: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


# --- amounts and proposals ----------------------------------------------------------------------


def check_amount(value: object, where: str) -> tuple[Decimal | None, list[Reason]]:
    """An amount in euros: a decimal string or number, two decimals at most, never negative."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return None, [Reason("montant_invalide", "Montant attendu (par exemple « 5000.00 »).", where)]
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None, [Reason("montant_invalide", "Montant attendu (par exemple « 5000.00 »).", where)]
    if not amount.is_finite():
        return None, [Reason("montant_invalide", "Montant attendu (par exemple « 5000.00 »).", where)]
    reasons = []
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        reasons.append(Reason("montant_decimales", "Deux décimales au plus (des centimes).", where))
    if amount < 0:
        reasons.append(Reason("montant_negatif", "Un montant ne peut pas être négatif.", where))
    if amount >= Decimal("1e12"):
        reasons.append(Reason("montant_trop_grand", "Montant trop grand.", where))
    return (None if reasons else amount.quantize(Decimal("0.01"))), reasons


def check_years(annees: object) -> list[Reason]:
    if not isinstance(annees, list) or not all(
        isinstance(a, int) and not isinstance(a, bool) for a in annees
    ):
        return [
            Reason("annees_invalides", "Les années sont une liste d'années (ex. [2027, 2028]).", "annees")
        ]
    reasons = []
    if not MIN_YEARS <= len(annees) <= MAX_YEARS:
        reasons.append(
            Reason(
                "annees_nombre",
                f"Une CPO dure de {MIN_YEARS} à {MAX_YEARS} ans ({len(annees)} année(s) indiquée(s)).",
                "annees",
            )
        )
    if annees and annees != list(range(annees[0], annees[0] + len(annees))):
        reasons.append(
            Reason(
                "annees_non_consecutives",
                "Les années d'une CPO se suivent, sans trou ni répétition (ex. 2027, 2028, 2029) : "
                f"reçu {', '.join(str(a) for a in annees)}.",
                "annees",
            )
        )
    if any(not 2000 <= a <= 2100 for a in annees):
        reasons.append(Reason("annees_hors_limites", "Année hors limites (2000 à 2100).", "annees"))
    return reasons


def check_proposal(
    annees: object, financeurs: object, known: Sequence[str]
) -> tuple[dict[str, list[Decimal]], list[Reason]]:
    """The planned amounts of a proposed CPO, per financer and year, and every reason it is wrong."""
    reasons = check_years(annees)
    count = len(annees) if isinstance(annees, list) else 0
    planned: dict[str, list[Decimal]] = {}
    if not isinstance(financeurs, Mapping) or not financeurs:
        reasons.append(
            Reason(
                "financeurs_requis",
                "Indiquez au moins un financeur signataire et ses montants.",
                "financeurs",
            )
        )
        return planned, reasons
    for code, amounts in financeurs.items():
        where = f"financeurs.{code}"
        if code not in known:
            reasons.append(
                Reason(
                    "financeur_inconnu",
                    f"Le financeur « {code} » n'est pas un financeur du territoire.",
                    where,
                )
            )
            continue
        if not isinstance(amounts, list):
            reasons.append(Reason("montants_invalides", "Une liste de montants, un par année.", where))
            continue
        if count and len(amounts) != count:
            reasons.append(
                Reason(
                    "montants_nombre",
                    f"Un montant par année : {count} attendu(s), {len(amounts)} reçu(s).",
                    where,
                )
            )
        values = []
        for i, raw in enumerate(amounts):
            amount, wrong = check_amount(raw, f"{where}.{i}")
            reasons.extend(wrong)
            if amount is not None:
                values.append(amount)
        planned[code] = values
    return planned, reasons


def end_of(annees: Sequence[int]) -> date:
    return date(annees[-1], 12, 31)


def renewal_due(state: str, annees: Sequence[int], today: date) -> bool:
    """A CPO still running that ends within six months: time to decide whether to renew it."""
    return state in ("signee", "active") and bool(annees) and today >= end_of(annees) - RENEWAL_NOTICE


# --- named checks -------------------------------------------------------------------------------

Check = Callable[[CpoFacts], list[Reason]]


def _who(facts: CpoFacts) -> str | None:
    asked = facts.payload.get("financeur")
    return asked if isinstance(asked, str) and asked else facts.signer


def _signs_for_itself(facts: CpoFacts) -> list[Reason]:
    asked = facts.payload.get("financeur")
    if asked not in (None, "") and asked != facts.signer:
        return [
            Reason(
                "autre_financeur",
                f"Un financeur ne signe que pour lui-même : vous ne pouvez pas signer pour « {asked} ».",
                "financeur",
            )
        ]
    return []


def _is_signatory(facts: CpoFacts) -> list[Reason]:
    who = _who(facts)
    if who not in facts.planned:
        return [
            Reason(
                "non_signataire", f"Le financeur « {who} » n'est pas signataire de cette CPO.", "financeur"
            )
        ]
    return []


def _not_signed_yet(facts: CpoFacts) -> list[Reason]:
    who = _who(facts)
    if who in facts.signed:
        return [Reason("deja_signee", f"Le financeur « {who} » a déjà signé cette CPO.", "financeur")]
    return []


def _amounts_signed(facts: CpoFacts) -> list[Reason]:
    """The agent signs the yearly amounts it sees: when it sends them, they must be the planned ones."""
    sent = facts.payload.get("montants")
    who = _who(facts)
    if sent is None or who not in facts.planned:
        return []
    expected = facts.planned[who]
    if not isinstance(sent, list) or len(sent) != len(expected):
        return [Reason("montants_differents", "Les montants signés ne sont pas ceux de la CPO.", "montants")]
    reasons = []
    for i, (raw, planned) in enumerate(zip(sent, expected, strict=True)):
        amount, wrong = check_amount(raw, f"montants.{i}")
        reasons.extend(wrong)
        if amount is not None and amount != planned:
            year = facts.annees[i] if i < len(facts.annees) else i
            reasons.append(
                Reason(
                    "montants_differents",
                    f"Le montant signé pour {year} ({amount:.2f} €) n'est pas celui de la CPO ({planned:.2f} €).",
                    f"montants.{i}",
                )
            )
    return reasons


def _all_signed(facts: CpoFacts) -> list[Reason]:
    return [
        Reason("signature_attendue", f"Le financeur « {code} » n'a pas encore signé.", f"financeurs.{code}")
        for code in facts.planned
        if code not in facts.signed
    ]


def _first_year_started(facts: CpoFacts) -> list[Reason]:
    if facts.annees and facts.now.date() >= date(facts.annees[0], 1, 1):
        return []
    first = facts.annees[0] if facts.annees else "?"
    return [Reason("pas_commencee", f"La CPO ne commence qu'en {first}.")]


def _last_year_ended(facts: CpoFacts) -> list[Reason]:
    if facts.annees and facts.now.date() > end_of(facts.annees):
        return []
    return [Reason("pas_terminee", "La dernière année de la CPO n'est pas terminée.")]


def _motif_given(facts: CpoFacts) -> list[Reason]:
    motif = facts.payload.get("motif") or facts.payload.get("comment")
    if isinstance(motif, str) and motif.strip():
        return []
    return [Reason("motif_requis", "Indiquez le motif de la résiliation.", "motif")]


CONDITIONS: dict[str, Check] = {
    "signs_for_itself": _signs_for_itself,
    "is_signatory": _is_signatory,
    "not_signed_yet": _not_signed_yet,
    "amounts_signed": _amounts_signed,
    "all_signed": _all_signed,
    "first_year_started": _first_year_started,
    "last_year_ended": _last_year_ended,
    "motif_given": _motif_given,
}

# --- the machine, built once --------------------------------------------------------------------

LIFECYCLE: Lifecycle[CpoFacts] = Lifecycle(
    STATES, INITIAL_STATE, TERMINAL_STATES, TRANSITIONS, CONDITIONS, STATE_LABELS, of_a="une CPO"
)
spec = LIFECYCLE.spec
available = LIFECYCLE.available
mermaid = LIFECYCLE.mermaid


def evaluate(name: str, state: str, role: str, facts: CpoFacts) -> list[Reason]:
    """Every reason `name` cannot happen now; raises for unknown / forbidden / wrong state, and when a
    financer would sign for another one."""
    found = LIFECYCLE.evaluate(name, state, role, facts)
    if any(r.code == "autre_financeur" for r in found):
        raise TransitionRefused("forbidden", name, [r for r in found if r.code == "autre_financeur"])
    return found


def fire(name: str, state: str, role: str, facts: CpoFacts) -> str:
    """The state after `name`, moved by the (shared) Machine; raises `TransitionRefused` with every reason."""
    return LIFECYCLE.move(name, state, facts, evaluate(name, state, role, facts))


def time_driven(state: str, facts: CpoFacts) -> list[str]:
    """The automatic transitions now due (the cron pass and the signature fire them as `system`)."""
    return LIFECYCLE.due(state, facts)
