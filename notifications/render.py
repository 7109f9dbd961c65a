"""Turn a rule and its facts into a message: subject, plain text and HTML (Jinja2, French).

Pure: the caller gathers the facts (from the database, or the preview's sample) into plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jinja2

from aap.clock import zone
from notifications.rules import TEMPLATES_DIR, Rule
from workflows.dossier import STATE_LABELS
from workflows.labels import decision_label
from workflows.money import format_euros
from workflows.reasons import fr_date

DIGEST_SUBJECT = "Récapitulatif du {today_fr} : {total} dossier{s} vous attend{ent}"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache
def _envs() -> tuple[jinja2.Environment, jinja2.Environment]:
    loader = jinja2.FileSystemLoader(str(TEMPLATES_DIR))
    text = jinja2.Environment(
        loader=loader, autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    html = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    for env in (text, html):
        env.filters["fr_date"] = fr_date
        env.filters["euros"] = format_euros
    return text, html


def days_left_text(deadline: date | None, today: date) -> str:
    if deadline is None:
        return ""
    days = (deadline - today).days
    if days > 1:
        return f"dans {days} jours"
    if days == 1:
        return "demain"
    if days == 0:
        return "aujourd'hui"
    if days == -1:
        return "hier"
    return f"il y a {-days} jours"


def dossier_link(base_url: str, dossier_id: int) -> str:
    return f"{base_url.rstrip('/')}/dossiers/{dossier_id}"


def dossier_facts(
    *,
    dossier_id: int,
    number: str,
    title: str | None,
    state: str,
    organisation: str,
    campaign_title: str,
) -> dict[str, Any]:
    return {
        "dossier": {
            "id": dossier_id,
            "number": number,
            "title": title or "(dossier sans titre)",
            "state": state,
            "state_label": STATE_LABELS.get(state, state),
        },
        "organisation": {"name": organisation},
        "campaign": {"title": campaign_title},
    }


def context(
    facts: dict[str, Any],
    *,
    base_url: str,
    today: date,
    deadline: date | None,
    recipient_name: str = "",
    optional: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """Everything a template may use; `extra` carries the event's own facts."""
    dossier_id = facts.get("dossier", {}).get("id")
    return {
        "base_url": base_url.rstrip("/"),
        "link": dossier_link(base_url, dossier_id)
        if dossier_id is not None
        else f"{base_url.rstrip('/')}/dossiers",
        "today_fr": fr_date(today),
        "deadline": deadline,
        "deadline_fr": fr_date(deadline) if deadline else "",
        "days_left_text": days_left_text(deadline, today),
        "recipient_name": recipient_name,
        "optional": optional,
        **facts,
        **extra,
    }


def event_facts(at: datetime, fuseau: str) -> dict[str, str]:
    """The day and hour of an event where the dossier's contract is (its territory's `fuseau`)."""
    local = at.astimezone(zone(fuseau))
    return {"event_date_fr": fr_date(local.date()), "event_time_fr": local.strftime("%H h %M")}


def decision_facts(
    financeur_name: str, decision: str | None, montant: str | Decimal | None, motif: str | None
) -> dict[str, Any]:
    amount = format_euros(Decimal(montant)) if montant is not None and decision == "accorde" else ""
    return {
        "financeur_name": financeur_name,
        "decision": decision or "",
        "decision_label": (decision_label(decision) or "").lower(),
        "montant": amount,
        "motif": motif or "",
    }


def subsidy_facts(
    financeur_name: str, demande: Decimal | None, decision: str | None, accorde: Decimal | None
) -> dict[str, Any]:
    """One financer's line as the budget ajusté message shows it: asked, and accorded (or its decision)."""
    granted = (
        format_euros(accorde or Decimal("0"))
        if decision == "accorde"
        else (decision_label(decision) or "").lower()
    )
    return {"financeur": financeur_name, "demande": format_euros(demande or Decimal("0")), "accorde": granted}


def render(rule: Rule, ctx: dict[str, Any]) -> Rendered:
    text_env, html_env = _envs()
    subject = " ".join(text_env.from_string(rule.subject or rule.label).render(ctx).split())
    ctx = {**ctx, "subject": subject}
    return Rendered(
        subject=subject[:300],
        text=text_env.get_template(f"{rule.template}.txt").render(ctx),
        html=html_env.get_template(f"{rule.template}.html").render(ctx),
    )


def render_digest(sections: list[dict[str, Any]], ctx: dict[str, Any]) -> Rendered:
    """One daily message: a section per rule, a line per dossier."""
    text_env, html_env = _envs()
    total = sum(len(s["lines"]) for s in sections)
    subject = DIGEST_SUBJECT.format(
        today_fr=ctx["today_fr"], total=total, s="s" if total > 1 else "", ent="ent" if total > 1 else ""
    )
    ctx = {**ctx, "sections": sections, "total": total, "subject": subject}
    return Rendered(
        subject,
        text_env.get_template("digest.txt").render(ctx),
        html_env.get_template("digest.html").render(ctx),
    )
