"""What the porteur's pages show, computed once in Python so the templates only lay it out.

Pure functions of the dossier, its campaign and the moment, judged on the day it is in the campaign's
territory (`aap.clock.territory_today`): deadlines, the follow-up timeline,
the lifecycle diagram with the current state marked, the checklist of missing answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from markupsafe import Markup

from aap.campaigns.service import calendar_of, depot_open
from aap.clock import territory_today
from aap.models import Campaign, Dossier, DossierEvent
from forms import FieldError
from forms.render import element_id
from workflows import depot
from workflows import dossier as lifecycle
from workflows.dossier import STATE_LABELS
from workflows.labels import AVIS_LABELS, DECISION_LABELS

# The road a dossier usually takes, with the stamp that dates each step and the campaign date that
# announces it while it is still ahead.
MAIN_ROAD: tuple[tuple[str, str, str | None, str | None], ...] = (
    # state,            label,                                        stamp,               expected date
    ("brouillon", "Brouillon en cours de rédaction", "created_at", None),
    ("depose", "Dossier déposé", "deposited_at", "depot_cloture"),
    ("en_instruction", "Instruction par l'équipe du contrat de ville", "instruction_started_at", None),
    ("instruit", "Instruction terminée", "instruit_at", "instruction_fin"),
    ("avise", "Avis du comité technique", "avis_at", "comite_technique"),
    ("programme", "Décision des financeurs", "decided_at", "validation"),
    ("conventionne", "Convention ou notification", "conventionne_at", "conventionnement"),
    ("bilan_depose", "Bilan de l'action déposé", "bilan_deposited_at", "bilan_limite"),
    ("cloture", "Dossier clôturé", "closed_at", None),
)
ROAD_INDEX = {state: i for i, (state, *_rest) in enumerate(MAIN_ROAD)}
# States off the main road sit where the road stopped for them.
ROAD_POSITION = {
    **ROAD_INDEX,
    "complements_demandes": ROAD_INDEX["en_instruction"],
    "rejete": ROAD_INDEX["programme"],
}

EVENT_LABELS = lifecycle.PAST_HISTORY_LABELS


@dataclass
class Deadline:
    """The next date the porteur must act by, or the date they may expect an answer."""

    text: str
    day: date
    kind: str  # "action" (the porteur must act) or "attente" (the porteur waits)
    overdue: bool = False


def depot_deadline(dossier: Dossier, campaign: Campaign) -> date:
    return depot.depot_deadline(campaign.depot_cloture, dossier.extension_until)


def deadline_of(dossier: Dossier, now: datetime) -> Deadline | None:
    campaign = dossier.campaign
    today = territory_today(campaign, now)
    state = dossier.state
    if state == "brouillon":
        day = depot_deadline(dossier, campaign)
        return Deadline("Dépôt à faire au plus tard le", day, "action", today > day)
    if state == "complements_demandes" and dossier.complements_due:
        return Deadline(
            "Compléments à transmettre au plus tard le",
            dossier.complements_due,
            "action",
            today > dossier.complements_due,
        )
    if state == "conventionne" and dossier.bilan_due:
        return Deadline(
            "Bilan à déposer au plus tard le", dossier.bilan_due, "action", today > dossier.bilan_due
        )
    if state in ("depose", "en_instruction", "instruit", "avise"):
        expected = campaign.date_of("validation")
        if expected is not None:
            return Deadline("Décision attendue vers le", expected, "attente")
    return None


def campaign_card(campaign: Campaign, now: datetime) -> dict[str, Any]:
    today = territory_today(campaign, now)
    return {
        "campaign": campaign,
        "open": depot_open(campaign, now),
        "upcoming": today < campaign.depot_ouverture,
        "timeline": calendar_of(campaign).timeline(campaign.parsed_dates(), today),
        "days_left": (campaign.depot_cloture - today).days,
    }


def calls_to_show(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The calls a porteur may file in, open ones first (the closing soonest first), then those
    opening later (the soonest first): a call opening next year never comes before an open one."""
    shown = [c for c in cards if c["open"] or c["upcoming"]]
    return sorted(
        shown,
        key=lambda c: (
            0 if c["open"] else 1,
            c["campaign"].depot_cloture if c["open"] else c["campaign"].depot_ouverture,
            c["campaign"].id,
        ),
    )


@dataclass
class RoadStep:
    state: str
    label: str
    status: str  # "faite", "en_cours", "a_venir"
    at: datetime | None = None
    expected: date | None = None


def follow_road(dossier: Dossier) -> list[RoadStep]:
    """The follow-up timeline: each step done (with its date), the current one, those ahead with the
    campaign's expected date (the decision: the campaign's `validation` date)."""
    campaign = dossier.campaign
    here = ROAD_POSITION.get(dossier.state)
    steps = []
    for i, (state, label, stamp, expected) in enumerate(MAIN_ROAD):
        at = getattr(dossier, stamp) if stamp else None
        if here is None:
            status = "faite" if at else "a_venir"
        elif i < here or (i == here and state == "cloture"):
            status = "faite"
        elif i == here:
            status = "en_cours"
        else:
            status = "a_venir"
        if state == "programme" and dossier.state == "rejete":
            label = "Décision des financeurs : aucun financement accordé"
        steps.append(RoadStep(state, label, status, at, campaign.date_of(expected) if expected else None))
    return steps


def diagram(current: str) -> dict[str, Any]:
    """The lifecycle as a list (current state marked), its drawing (SVG) and its Mermaid text."""
    states = [
        {
            "code": s,
            "label": STATE_LABELS[s],
            "current": s == current,
            "next": [STATE_LABELS[n] for n in sorted(lifecycle.allowed_next(s), key=lifecycle.STATES.index)],
        }
        for s in lifecycle.STATES
    ]
    return {"states": states, "svg": Markup(lifecycle.svg(current)), "mermaid": lifecycle.mermaid(current)}


def history_rows(events: list[DossierEvent], financeur_names: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for e in events:
        label = EVENT_LABELS.get(e.transition, e.transition)
        detail = ""
        data = e.data or {}
        if e.transition == "decision_financeur":
            name = financeur_names.get(data.get("financeur", ""), data.get("financeur", ""))
            decision = str(data.get("decision"))
            label = f"Décision de {name} : {DECISION_LABELS.get(decision, decision)}"
        elif e.transition == "rendre_avis" and data.get("avis"):
            detail = f"Avis : {AVIS_LABELS.get(data['avis'], data['avis'])}"
        elif e.transition == "budget_ajuste" and data.get("version"):
            detail = f"Version {data['version']}"
        elif e.transition == "demander_complements" and data.get("due_date"):
            detail = f"À transmettre avant le {data['due_date']}"
        rows.append(
            {
                "at": e.at,
                "label": label,
                "to": STATE_LABELS.get(e.to_state, e.to_state),
                "comment": e.comment,
                "detail": detail,
                "changes": data.get("changements", []),
                "by_system": e.role == "system",
            }
        )
    return rows


@dataclass
class SectionStatus:
    key: str
    label: str
    missing: list[dict[str, str]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return not self.missing


def checklist(
    form: Any,
    answers: dict[str, Any],
    ctx: Any,
    dossier_id: int,
    piece_paths: set[str] | None = None,
    missing_pieces: list[Any] | None = None,
) -> list[SectionStatus]:
    """Per section, what is still missing before the dépôt, each with a link to the field.

    The pièces are files, not answers: their answer errors (`piece_paths`) give way to the pièces
    actually missing (`missing_pieces`, reasons whose field is ``<section>.<kind>``), so a section is
    never « complet » while a required pièce is missing, nor held back by one the organisation has."""
    by_section = form.checklist(answers, ctx)
    paths = piece_paths or set()
    out = []
    for s in form.sections:
        missing = [
            {"message": e.message, "href": f"/dossiers/{dossier_id}/section/{s.key}#{element_id(e.path)}"}
            for e in by_section.get(s.key, [])
            if e.path not in paths
        ]
        missing += [
            {"message": r.message, "href": f"/dossiers/{dossier_id}/section/{s.key}#{element_id(r.field)}"}
            for r in missing_pieces or []
            if r.field and r.field.split(".", 1)[0] == s.key
        ]
        out.append(SectionStatus(s.key, s.label, missing))
    return out


def field_errors(errors: list[dict[str, Any]] | None) -> list[FieldError]:
    return [
        FieldError(e.get("path") or e.get("field") or "", e.get("code", ""), e.get("message", ""))
        for e in errors or []
    ]


def reason_links(errors: list[dict[str, Any]] | None, dossier_id: int) -> list[dict[str, str | None]]:
    """The reasons a transition was refused, each linking to its field's section when it has one."""
    out: list[dict[str, str | None]] = []
    for e in errors or []:
        path = e.get("field") or e.get("path")
        href = None
        if path:
            href = f"/dossiers/{dossier_id}/section/{path.split('.')[0]}#{element_id(path)}"
        out.append({"message": e.get("message", ""), "href": href})
    return out


def flat_form(items: list[tuple[str, Any]]) -> dict[str, str | list[str]]:
    """A posted form as the forms engine reads it: one value, or a list when a name repeats."""
    out: dict[str, str | list[str]] = {}
    for name, value in items:
        if not isinstance(value, str):
            continue  # files go through the attachments service
        if name in out:
            prev = out[name]
            out[name] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[name] = value
    return out


def section_context(
    form: Any,
    key: str,
    answers: dict[str, Any],
    form_ctx: Any,
    errors: Sequence[Any],
    *,
    editable: bool,
) -> dict[str, Any]:
    """What a page of one section shows, for the dossier's form and the bilan's: the section, its
    neighbours and place, its fields as HTML (read-only once it may no longer change)."""
    keys = [s.key for s in form.sections]
    i = keys.index(key)
    section = form.sections[i]
    return {
        "section": section,
        "previous": form.sections[i - 1] if i > 0 else None,
        "next": form.sections[i + 1] if i + 1 < len(keys) else None,
        "position": i + 1,
        "count": len(keys),
        "form_html": form.render_html(answers, form_ctx, list(errors), section=key, readonly=not editable),
        "is_pieces": any(f.type == "attachment" for f in section.fields),
    }
