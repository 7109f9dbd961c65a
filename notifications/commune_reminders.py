"""Reminders to communes late with their validation (rules `anchor: commune.validation` of
`notifications/rules.yaml`): one message per (rule, commune's part, agent, occurrence), recorded in the
outbox under its unique key, so a second pass records nothing new."""

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from aap.communes.service import PART_STATES, dossier_communes
from aap.models import Campaign, CampaignCommune, Commune, Dossier, Financeur, User
from notifications import render
from notifications.outbox import Message, existing_keys, record
from notifications.query import Recipient
from notifications.rules import Rule


def _late_parts(
    session: Session, rule: Rule, today: date, zones: frozenset[str] | None
) -> list[tuple[CampaignCommune, Campaign, str, int, int]]:
    """(part, campaign, commune name, dossiers, offset) of the parts not validated, with dossiers, whose
    instance date puts an occurrence of `rule` today, in the contracts of `zones` (all for None)."""
    lo, hi = rule.anchor_window(today)
    rows = session.execute(
        select(CampaignCommune, Campaign, Commune.name)
        .join(Campaign, Campaign.id == CampaignCommune.campaign_id)
        .join(
            Commune,
            and_(
                Commune.territory_id == Campaign.territory_id, Commune.insee == CampaignCommune.commune_insee
            ),
        )
        .where(
            Campaign.validation == "par_commune",
            CampaignCommune.validated_at.is_(None),
            CampaignCommune.validation_date >= lo,
            CampaignCommune.validation_date <= hi,
        )
        .order_by(CampaignCommune.id)
    ).all()
    out = []
    for part, campaign, name in rows:
        offset = rule.occurrence(part.validation_date, today)
        if offset is None or (zones is not None and campaign.fuseau not in zones):
            continue
        where = dossier_communes(campaign.territory_id).subquery()
        count = session.scalar(
            select(func.count(func.distinct(Dossier.id)))
            .join(where, where.c.dossier_id == Dossier.id)
            .where(
                Dossier.campaign_id == campaign.id,
                where.c.commune_insee == part.commune_insee,
                Dossier.state.in_(PART_STATES),
            )
        )
        if count:
            out.append((part, campaign, name, count, offset))
    return out


def _agents(session: Session, territory_id: int, insee: str) -> list[Recipient]:
    users = session.scalars(
        select(User)
        .join(Financeur, Financeur.id == User.financeur_id)
        .where(
            User.active.is_(True),
            User.role == "financeur",
            Financeur.territory_id == territory_id,
            Financeur.commune_insee == insee,
        )
        .order_by(User.id)
    )
    return [Recipient(u.id, u.email, u.full_name or u.email) for u in users]


def record_commune_reminders(
    session: Session,
    rules: list[Rule],
    today: date,
    now: datetime,
    base_url: str,
    zones: frozenset[str] | None = None,
) -> dict[str, int]:
    """The reminders due `today` to the communes of the contracts in `zones` (all of them for None)."""
    counts: dict[str, int] = defaultdict(int)
    for rule in rules:
        wanted: list[Message] = []
        for part, campaign, name, dossiers, offset in _late_parts(session, rule, today, zones):
            for person in _agents(session, campaign.territory_id, part.commune_insee):
                ctx = render.context(
                    {
                        "campaign": {"title": campaign.title},
                        "commune": {"insee": part.commune_insee, "name": name, "dossiers": dossiers},
                    },
                    base_url=base_url,
                    today=today,
                    deadline=part.validation_date,
                    recipient_name=person.name,
                    optional=rule.optional,
                )
                ctx["link"] = f"{base_url.rstrip('/')}/financeur"
                key = (
                    f"{rule.code}:c{part.id}:u{person.user_id}:{part.validation_date.isoformat()}{offset:+d}"
                )
                rendered = render.render(rule, ctx)
                wanted.append(
                    Message(
                        key=key,
                        rule=rule.code,
                        audience=rule.audience,
                        recipient=person.email,
                        subject=rendered.subject,
                        body_text=rendered.text,
                        body_html=rendered.html,
                        user_id=person.user_id,
                        deadline=part.validation_date,
                    )
                )
        known = existing_keys(session, (m.key for m in wanted))
        created = record(session, [m for m in wanted if m.key not in known], now)
        counts[rule.code] += len(created)
    return {k: v for k, v in counts.items() if v}
