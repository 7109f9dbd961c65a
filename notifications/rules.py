"""The reminder rules as data (`rules.yaml`): parsed and validated with every error at its place, and
the pure arithmetic of *which occurrence is due today*. No database, no clock: `today` is passed in.

A scheduled rule hangs on an anchor date (a campaign date, the next campaign's date, or a dossier
date) and lists offsets in days (J-14 is -14, J+1 is 1). Occurrence `i` is due from
`anchor + offsets[i]` until the day before `anchor + offsets[i+1]`; the last one stays due for
`grace_days`. So a pass missed for a day still sends the most recent occurrence, once (the outbox key
holds the occurrence), and never the stale ones before it.

An event rule (`event: deposer`) is queued by the transition itself, in its transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2
from pydantic import Field, model_validator

from aap.rules_files.validation import CODE_SNAKE, RulesModel, unique_codes, validate
from aap.rules_files.yaml_locations import (
    LocatedDocument,
    LocatedError,
    RulesFileError,
    from_data,
    read_document,
)
from workflows.cpo import STATES as CPO_STATES
from workflows.dossier import STATES, TRANSITIONS

HERE = Path(__file__).parent
RULES_FILE = HERE / "rules.yaml"
TEMPLATES_DIR = HERE / "templates"

# `destinataire`: the one account the event names (a partner asked for its avis);
# `partenaire_sollicite`: on an `avis.due_date` reminder, the partner asked for that avis
Recipients = Literal[
    "porteurs",
    "instructeurs",
    "financeurs_concernes",
    "destinataire",
    "agents_commune",
    "partenaire_sollicite",
]
AnchorScope = Literal[
    "campaign", "next_campaign", "dossier", "bilan", "focus", "cpo", "commune", "avis", "evenement"
]

# Dossier dates a rule may hang on (each one indexed in `aap/models.py`).
DOSSIER_ANCHORS = ("complements_due", "bilan_due", "deposited_at")
# The other dates: a returned bilan's new due date; a focus bénéficiaires session (its funded actions).
# An avis asked of a partner: `due_date` its deadline while it is awaited, `given_at` the day it was given.
SCOPED_ANCHORS = {"bilan": ("correction_due",), "focus": ("date",), "avis": ("due_date", "given_at")}
# A commune's part of a `par_commune` campaign: the date of its instance (`notifications/commune_reminders.py`).
COMMUNE_ANCHORS = ("validation",)
# A step of the dossier's history (`evenement.<step>`): the day it was recorded (indexed by step and
# time); a transition, or a step recorded without moving the dossier (the budget ajusté filed).
HISTORY_STEPS = (*(t.name for t in TRANSITIONS), "budget_ajuste")
# the fact of an event a rule may require (`when`), and the only dated anchor that knows it
WHEN_ANCHORS = {"avec_convention": "evenement.conventionner"}
# CPO dates a rule may hang on (the message goes about the dossier the CPO was made from)
CPO_ANCHORS = ("fin",)
# what happens on a dossier without moving it: a financer's decision, a message in the dialogue
NEWS = (
    "decision_financeur",
    "message_du_porteur",
    "message_de_l_equipe",
    "avis_demande",
    "avis_rappel",
    "avis_recu",
    "budget_ajuste",
)
EVENTS = tuple(t.name for t in TRANSITIONS) + NEWS
DIGEST_TEMPLATE = "digest"

__all__ = [
    "DIGEST_TEMPLATE",
    "Rule",
    "RulesFile",
    "RulesFileError",
    "default_rules",
    "parse_rules",
    "parse_rules_file",
]


class Rule(RulesModel):
    code: str = Field(pattern=CODE_SNAKE, max_length=64)
    label: str = Field(min_length=1)
    subject: str | None = Field(default=None, min_length=1)
    template: str = Field(pattern=CODE_SNAKE)
    recipients: Recipients
    anchor: str | None = Field(
        default=None,
        pattern=r"^(campaign|next_campaign|dossier|bilan|focus|cpo|commune|avis|evenement)\.[a-z][a-z0-9_]*$",
    )
    offsets: list[int] = Field(default_factory=list)
    grace_days: int = Field(default=7, ge=1, le=366)
    states: list[str] = Field(default_factory=list)
    event: str | None = None
    optional: bool = False
    digest: bool = False
    repeat_daily: bool = False
    cpo: bool = False  # only the dossiers of a CPO (its years' dossiers)
    # sent only when this fact of the event holds (a convention awaits signatures): an event message,
    # or a digest line on the day of that event (`anchor: evenement.conventionner`)
    when: Literal["avec_convention"] | None = None

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if (self.anchor is None) == (self.event is None):
            raise ValueError(
                "une règle a soit « anchor » (rappel daté), soit « event » (message d'événement)"
            )
        return self

    # --- what the pass needs -----------------------------------------------------------------------

    @property
    def scheduled(self) -> bool:
        return self.anchor is not None

    @property
    def scope(self) -> AnchorScope:
        assert self.anchor
        return self.anchor.split(".", 1)[0]  # type: ignore[return-value]

    @property
    def date_name(self) -> str:
        assert self.anchor
        return self.anchor.split(".", 1)[1]

    @property
    def audience(self) -> str:
        if self.recipients in ("financeurs_concernes", "agents_commune"):
            return "financeurs"
        return "partenaires" if self.recipients == "partenaire_sollicite" else self.recipients

    @property
    def per_commune(self) -> bool:
        """A reminder about a commune's validation, not about a dossier (`notifications/commune_reminders.py`)."""
        return self.anchor is not None and self.scope == "commune"

    def _ends(self) -> list[int]:
        """Exclusive end (in days from the anchor) of each occurrence's window."""
        return [*self.offsets[1:], self.offsets[-1] + self.grace_days]

    def occurrence(self, anchor: date, today: date) -> int | None:
        """The offset whose occurrence is due `today` for this anchor, or None."""
        elapsed = (today - anchor).days
        for offset, end in zip(self.offsets, self._ends(), strict=True):
            if offset <= elapsed < end:
                return offset
        return None

    def anchor_window(self, today: date) -> tuple[date, date]:
        """The anchors (inclusive bounds) for which some occurrence is due `today`: what the query
        asks of the indexed date column."""
        return today - timedelta(days=self._ends()[-1] - 1), today - timedelta(days=self.offsets[0])

    def item_key(self, dossier_id: int, user_id: int, anchor: date, offset: int, today: date) -> str:
        """The unique key of one occurrence for one recipient (a daily-repeated digest line: the day)."""
        occurrence = today.isoformat() if self.repeat_daily else f"{anchor.isoformat()}{offset:+d}"
        return f"{self.code}:d{dossier_id}:u{user_id}:{occurrence}"


class RulesFile(RulesModel):
    version: Literal[1] = 1
    rules: list[Rule] = Field(min_length=1)

    def by_code(self) -> dict[str, Rule]:
        return {rule.code: rule for rule in self.rules}

    def get(self, code: str) -> Rule | None:
        return self.by_code().get(code)

    @property
    def scheduled(self) -> list[Rule]:
        return [r for r in self.rules if r.scheduled]

    def for_event(self, event: str) -> list[Rule]:
        return [r for r in self.rules if r.event == event]


# --- validation -------------------------------------------------------------------------------------


def _template_env() -> jinja2.Environment:
    return jinja2.Environment(autoescape=False)


# A problem of one rule: where under the rule (field, then list index), what is wrong, its code.
Problem = tuple[tuple[str | int, ...], str, str]


def _cross_checks(templates_dir: Path) -> Callable[[LocatedDocument], list[LocatedError]]:
    """What the schema cannot say of each rule: coherent kinds, known names, templates that exist."""

    def checks(doc: LocatedDocument) -> list[LocatedError]:
        errors = unique_codes(doc, "rules")
        data = doc.value if isinstance(doc.value, dict) else {}
        raw_rules = data.get("rules")
        rules = raw_rules if isinstance(raw_rules, list) else []
        env = _template_env()
        for i, rule in enumerate(rules):
            if isinstance(rule, dict):
                errors.extend(
                    doc.error(("rules", i, *where), message, code)
                    for where, message, code in _rule_problems(rule, templates_dir, env)
                )
        return errors

    return checks


def _rule_problems(rule: dict[str, Any], templates_dir: Path, env: jinja2.Environment) -> list[Problem]:
    return [
        *_dated_problems(rule),
        *_commune_problems(rule),
        *_partner_problems(rule),
        *_event_problems(rule),
        *_cpo_anchor_problems(rule),
        *_history_problems(rule),
        *_state_problems(rule),
        *_digest_problems(rule),
        *_message_problems(rule, templates_dir, env),
    ]


def _commune_problems(rule: dict[str, Any]) -> list[Problem]:
    """A reminder on a commune's validation goes to that commune's agents, and only such a one does."""
    anchor = rule.get("anchor")
    out: list[Problem] = []
    if isinstance(anchor, str) and anchor.startswith("commune."):
        name = anchor.split(".", 1)[1]
        if name not in COMMUNE_ANCHORS:
            out.append(
                (
                    ("anchor",),
                    f"date de commune « {name} » inconnue (possibles : {', '.join(COMMUNE_ANCHORS)})",
                    "unknown_anchor",
                )
            )
        if rule.get("recipients") != "agents_commune":
            out.append(
                (
                    ("recipients",),
                    "un rappel sur la validation d'une commune va à ses agents : « agents_commune »",
                    "commune_recipients",
                )
            )
        if rule.get("digest"):
            out.append((("digest",), "un rappel de commune n'est pas un récapitulatif de dossiers", "extra"))
    elif rule.get("recipients") == "agents_commune":
        out.append(
            (
                ("recipients",),
                "« agents_commune » ne vaut que pour un rappel daté sur une commune "
                "(anchor: commune.validation)",
                "commune_recipients",
            )
        )
    return out


def _partner_problems(rule: dict[str, Any]) -> list[Problem]:
    """The partner asked for an avis is known only on a reminder about an awaited avis."""
    if rule.get("recipients") != "partenaire_sollicite" or rule.get("anchor") == "avis.due_date":
        return []
    return [
        (
            ("recipients",),
            "« partenaire_sollicite » ne vaut que pour un rappel sur un avis attendu (anchor: avis.due_date)",
            "partner_recipients",
        )
    ]


def _dated_problems(rule: dict[str, Any]) -> list[Problem]:
    """A dated reminder: its offsets, its states, a known dossier date."""
    anchor, offsets = rule.get("anchor"), rule.get("offsets")
    if anchor is None:
        return []
    out: list[Problem] = []
    if not offsets:
        out.append(
            (("offsets",), "un rappel daté a au moins un décalage en jours (ex. [-14, -7, -1])", "missing")
        )
    elif (
        isinstance(offsets, list)
        and all(isinstance(o, int) for o in offsets)
        and (sorted(set(offsets)) != offsets)
    ):
        out.append(
            (("offsets",), f"les décalages doivent être croissants et distincts (reçu {offsets})", "order")
        )
    per_commune = isinstance(anchor, str) and anchor.startswith("commune.")
    if not per_commune and not rule.get("states"):
        out.append((("states",), "indiquez les états de dossier concernés (ex. [brouillon])", "missing"))
    scope, _, name = anchor.partition(".") if isinstance(anchor, str) else ("", "", "")
    if scope in SCOPED_ANCHORS and name not in SCOPED_ANCHORS[scope]:
        out.append(
            (
                ("anchor",),
                f"date « {name} » inconnue pour « {scope} » (possibles : "
                + ", ".join(SCOPED_ANCHORS[scope])
                + ")",
                "unknown_anchor",
            )
        )
    if isinstance(anchor, str) and anchor.startswith("dossier."):
        name = anchor.split(".", 1)[1]
        if name not in DOSSIER_ANCHORS:
            out.append(
                (
                    ("anchor",),
                    f"date de dossier « {name} » inconnue (possibles : " + ", ".join(DOSSIER_ANCHORS) + ")",
                    "unknown_anchor",
                )
            )
    return out


def _event_problems(rule: dict[str, Any]) -> list[Problem]:
    """A message sent on an event: a known event, always sent, at once, on its own."""
    event = rule.get("event")
    if event is None:
        return []
    out: list[Problem] = []
    if event not in EVENTS:
        out.append(
            (("event",), f"événement « {event} » inconnu (possibles : {', '.join(EVENTS)})", "unknown_event")
        )
    if rule.get("optional"):
        out.append(
            (
                ("optional",),
                "un message d'événement (accusé de réception, décision…) ne peut pas être "
                "désactivé : retirez « optional: true »",
                "event_optional",
            )
        )
    if rule.get("offsets"):
        out.append((("offsets",), "un message d'événement part à l'événement : pas de décalage", "extra"))
    if rule.get("digest"):
        out.append((("digest",), "un message d'événement ne va pas dans un récapitulatif", "extra"))
    return out


def _history_problems(rule: dict[str, Any]) -> list[Problem]:
    """A rule on a step of the history names a known step; a dated rule has no event to name its
    `destinataire`; `when` on a dated rule needs the one anchor that knows that fact."""
    anchor, when = rule.get("anchor"), rule.get("when")
    out: list[Problem] = []
    if isinstance(anchor, str) and anchor.startswith("evenement."):
        name = anchor.split(".", 1)[1]
        if name not in HISTORY_STEPS:
            out.append(
                (
                    ("anchor",),
                    f"étape de l'historique « {name} » inconnue (possibles : {', '.join(HISTORY_STEPS)})",
                    "unknown_anchor",
                )
            )
    if anchor is not None and rule.get("recipients") == "destinataire":
        out.append(
            (
                ("recipients",),
                "« destinataire » (le compte que l'événement nomme) ne vaut que pour un message d'événement",
                "destinataire_recipients",
            )
        )
    if anchor is not None and isinstance(when, str) and WHEN_ANCHORS.get(when) != anchor:
        out.append(
            (
                ("when",),
                f"« when: {when} » ne vaut que pour un message d'événement ou un rappel daté "
                f"« anchor: {WHEN_ANCHORS.get(when, '?')} »",
                "when_anchor",
            )
        )
    return out


def _is_cpo_rule(rule: dict[str, Any]) -> bool:
    anchor = rule.get("anchor")
    return isinstance(anchor, str) and anchor.startswith("cpo.")


def _cpo_anchor_problems(rule: dict[str, Any]) -> list[Problem]:
    if not _is_cpo_rule(rule) or rule["anchor"].split(".", 1)[1] in CPO_ANCHORS:
        return []
    return [(("anchor",), f"date de CPO inconnue (possibles : {', '.join(CPO_ANCHORS)})", "unknown_anchor")]


def _state_problems(rule: dict[str, Any]) -> list[Problem]:
    """A CPO rule names states of the CPO, any other states of the dossier."""
    known_states = CPO_STATES if _is_cpo_rule(rule) else STATES
    return [
        (("states", j), f"état « {state} » inconnu (possibles : {', '.join(known_states)})", "unknown_state")
        for j, state in enumerate(rule.get("states") or [])
        if state not in known_states
    ]


def _digest_problems(rule: dict[str, Any]) -> list[Problem]:
    """A daily digest: for staff, with its own template; only a digest repeats daily."""
    out: list[Problem] = []
    if rule.get("digest") and rule.get("recipients") == "porteurs":
        out.append(
            (
                ("digest",),
                "les récapitulatifs quotidiens sont pour les instructeurs et les financeurs ; "
                "un porteur reçoit un message par dossier",
                "digest_porteurs",
            )
        )
    if rule.get("repeat_daily") and not rule.get("digest"):
        out.append(
            (
                ("repeat_daily",),
                "« repeat_daily » ne vaut que pour une règle en récapitulatif (digest: true)",
                "extra",
            )
        )
    if rule.get("digest") and rule.get("template") != DIGEST_TEMPLATE:
        out.append(
            (
                ("template",),
                f"une règle en récapitulatif utilise le modèle « {DIGEST_TEMPLATE} »",
                "digest_template",
            )
        )
    return out


def _message_problems(rule: dict[str, Any], templates_dir: Path, env: jinja2.Environment) -> list[Problem]:
    """A message's subject is given and parses; its text and HTML templates exist."""
    out: list[Problem] = []
    if not rule.get("digest") and not rule.get("subject"):
        out.append((("subject",), "indiquez l'objet du message", "missing"))
    template = rule.get("template")
    if isinstance(template, str):
        out.extend(
            (("template",), f"modèle introuvable : {templates_dir.name}/{template}.{ext}", "template_missing")
            for ext in ("txt", "html")
            if not (templates_dir / f"{template}.{ext}").is_file()
        )
    subject = rule.get("subject")
    if isinstance(subject, str):
        try:
            env.parse(subject)
        except jinja2.TemplateSyntaxError as exc:
            out.append((("subject",), f"objet invalide (Jinja2) : {exc.message}", "template_syntax"))
    return out


def _parse(doc: LocatedDocument, templates_dir: Path) -> RulesFile:
    return validate(RulesFile, doc, _cross_checks(templates_dir))


def parse_rules_file(path: str | Path = RULES_FILE, templates_dir: Path = TEMPLATES_DIR) -> RulesFile:
    """Read and validate a rules file; RulesFileError lists every mistake with file, line and path."""
    return _parse(read_document(path), templates_dir)


def parse_rules(
    data: dict[str, Any], source: str = "<données>", templates_dir: Path = TEMPLATES_DIR
) -> RulesFile:
    return _parse(from_data(data, source), templates_dir)


@lru_cache
def default_rules() -> RulesFile:
    """The shipped rules (`notifications/rules.yaml`), read once."""
    return parse_rules_file()


@dataclass(frozen=True)
class DueOccurrence:
    """One rule due for one dossier today: the anchor date it hangs on and the occurrence's offset."""

    rule: Rule
    dossier_id: int
    anchor: date
    offset: int
    # what the message says beyond the dossier (a focus session's place and time, the partners asked)
    facts: tuple[tuple[str, str], ...] = ()
    # the only account it goes to, when the occurrence is one person's (the partner asked for an avis)
    for_user: int | None = None

    @property
    def deadline(self) -> date:
        """The date the message is about: the anchor itself (the deadline, the comité…)."""
        return self.anchor
