"""Messages that follow an event (dépôt, compléments, décision, convention, brouillon clos), queued in the
outbox in the same transaction as the transition that causes them: the transition and its message
commit together or not at all. Delivery comes later, from the cron pass (after commit).

These are never optional: an accusé de réception or a decision is part of the official record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from aap.clock import territory_today
from aap.dossiers.effects import EVERY_EVENT, EffectsTable, TransitionContext
from aap.models import Dossier, DossierEvent
from aap.settings import get_settings
from notifications import render
from notifications.outbox import Message, record
from notifications.query import Recipient, dossier_rows, recipients_for
from notifications.rules import Rule, default_rules
from workflows import depot
from workflows.labels import DOCUMENT_NAMES
from workflows.money import format_euros


@dataclass(frozen=True)
class DossierNews:
    """Something that happened on a dossier without moving it (a message of the dialogue), told to the
    same event rules as a transition; `id` keeps its messages unique in the outbox."""

    id: str
    transition: str
    at: datetime
    comment: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


Event = DossierEvent | DossierNews


def _event_facts(dossier: Dossier, event: Event) -> tuple[date | None, dict[str, Any]]:  # noqa: PLR0911 - one answer per kind of event
    """The deadline the message is about, and the facts its template needs."""
    campaign = dossier.campaign
    name = event.transition
    if name == "deposer":
        comite = campaign.date_of("comite_technique")
        return None, {
            **render.event_facts(event.at, campaign.fuseau),
            "comite_fr": comite.strftime("%d/%m/%Y") if comite else "",
        }
    if name == "demander_complements":
        return dossier.complements_due, {
            "complements_message": dossier.complements_message or event.comment or "",
            "pieces_demandees": (event.data or {}).get("pieces_demandees", []),
        }
    if name == "decision_financeur":
        data = event.data or {}
        code: str = data.get("financeur") or ""
        names = {line.financeur.code: line.financeur.name for line in dossier.cofinancements}
        return None, render.decision_facts(
            names.get(code, code or "Un financeur"), data.get("decision"), data.get("montant"), event.comment
        )
    if name == "conventionner":
        return dossier.bilan_due, _documents_facts(dossier)
    if name == "renvoyer_bilan":
        due = (event.data or {}).get("due_date")
        return date.fromisoformat(due) if due else None, {"bilan_message": event.comment or ""}
    if name == "expirer":
        return depot.depot_deadline(campaign.depot_cloture, dossier.extension_until), {}
    if name == "deposer_bilan":
        return None, render.event_facts(event.at, campaign.fuseau)
    if name == "completer":
        return None, {
            **render.event_facts(event.at, campaign.fuseau),
            "message_texte": event.comment or "",
            "pieces_transmises": [p["label"] for p in (event.data or {}).get("pieces_transmises", [])],
        }
    if name == "budget_ajuste":
        return None, {
            **render.event_facts(event.at, campaign.fuseau),
            **_adjusted_budget_facts(dossier, event),
        }
    if name in ("avis_demande", "avis_rappel", "avis_recu"):
        data = event.data or {}
        due = date.fromisoformat(data["date_limite"]) if data.get("date_limite") else None
        return due, {
            **render.event_facts(event.at, campaign.fuseau),
            "avis_question": data.get("question", ""),
            "avis_service": data.get("service", ""),
            "avis_label": data.get("avis_label", ""),
            "avis_texte": data.get("texte", ""),
            **({"link": data["lien"]} if data.get("lien") else {}),  # the partner's page, not the porteur's
        }
    if name in ("message_du_porteur", "message_de_l_equipe"):
        return None, {
            **render.event_facts(event.at, campaign.fuseau),
            "message_texte": event.comment or "",
            "message_auteur": (event.data or {}).get("auteur", ""),
            "pieces_jointes": (event.data or {}).get("pieces_jointes", []),
        }
    return None, {}


def _charges(budget: object) -> Decimal:
    lines = budget.get("charges") if isinstance(budget, dict) else None
    return sum(
        (Decimal(str(line.get("montant") or "0")) for line in lines or [] if isinstance(line, dict)),
        Decimal("0"),
    )


def _adjusted_budget_facts(dossier: Dossier, event: Event) -> dict[str, Any]:
    """The budget ajusté against the deposited one: its version, the action's cost before and after,
    what each financer was asked and accorded."""
    answers = dossier.answers if isinstance(dossier.answers, dict) else {}
    filed = answers.get("budget_ajuste") if isinstance(answers.get("budget_ajuste"), dict) else {}
    return {
        "budget_version": (event.data or {}).get("version") or (filed or {}).get("version") or 1,
        "cout_depose": format_euros(_charges(answers.get("budget"))),
        "cout_ajuste": format_euros(_charges(filed)),
        "subventions": [
            render.subsidy_facts(
                line.financeur.name, line.montant_demande, line.decision, line.montant_accorde
            )
            for line in dossier.cofinancements
        ],
    }


def _documents_facts(dossier: Dossier) -> dict[str, Any]:
    """Which document each financer sends: the message says « convention » only for a convention."""
    from sqlalchemy.orm import object_session

    from aap.financing.documents import grant_kind

    session = object_session(dossier)
    docs = [
        {"financeur": line.financeur.name, "kind": kind, "label": DOCUMENT_NAMES[kind]}
        for line in dossier.cofinancements
        if line.decision == "accorde" and line.montant_accorde and session is not None
        for kind in [grant_kind(session, dossier, line)]
    ]
    kinds = {d["kind"] for d in docs}
    if kinds == {"convention"}:
        objet = "votre convention est disponible" if len(docs) == 1 else "vos conventions sont disponibles"
    elif kinds == {"notification"}:
        objet = (
            "votre notification de subvention est disponible"
            if len(docs) == 1
            else "vos notifications de subvention sont disponibles"
        )
    else:
        objet = "vos conventions et notifications de subvention sont disponibles"
    return {"documents": docs, "documents_objet": objet, "avec_convention": "convention" in kinds}


def _people(
    session: Session, rule: Rule, rows: dict[int, Any], event: Event, dossier_id: int
) -> list[Recipient]:
    """The accounts of the rule's kind, or the one account the event names (`destinataire`)."""
    if rule.recipients == "destinataire":
        named = (event.data or {}).get("destinataire") or {}
        return [Recipient(named["user_id"], named["email"], named.get("name", ""))] if named else []
    return recipients_for(session, rule.recipients, rows).get(dossier_id, [])


def messages_for(
    session: Session, dossier: Dossier, event: Event, rules: list[Rule], base_url: str, today: date
) -> list[Message]:
    deadline, extra = _event_facts(dossier, event)
    facts = render.dossier_facts(
        dossier_id=dossier.id,
        number=dossier.number,
        title=dossier.title,
        state=dossier.state,
        organisation=dossier.organisation.name,
        campaign_title=dossier.campaign.title,
    )
    rows = dossier_rows(session, [dossier.id])
    out = []
    for rule in rules:
        if rule.when is not None and not extra.get(rule.when):
            continue
        for person in _people(session, rule, rows, event, dossier.id):
            ctx = render.context(
                facts,
                base_url=base_url,
                today=today,
                deadline=deadline,
                recipient_name=person.name,
                optional=False,
                **extra,
            )
            out.append(
                Message.to_person(
                    rule,
                    render.render(rule, ctx),
                    key=f"{rule.code}:d{dossier.id}:u{person.user_id}:e{event.id}",
                    person=person,
                    dossier_id=dossier.id,
                    deadline=deadline,
                )
            )
    return out


def after_transition(session: Session, dossier: Dossier, event: Event, now: datetime) -> None:
    """Queue the messages `event` calls for (no commit: the caller's transaction holds them)."""
    rules = default_rules().for_event(event.transition)
    if not rules:
        return
    today = territory_today(dossier.campaign, now)  # « J-3 » counted where the contract is
    messages = messages_for(session, dossier, event, rules, get_settings().base_url, today)
    if messages:
        record(session, sorted(messages, key=lambda m: m.key), now)


def _queue_messages(ctx: TransitionContext) -> None:
    after_transition(ctx.session, ctx.dossier, ctx.event, ctx.now)


def register(table: EffectsTable) -> None:
    table.on(EVERY_EVENT, _queue_messages, name="notifications.outbox")
