"""Campaigns: loading a campaign file (checked against its territory, calendar and form), reading."""

from datetime import datetime
from typing import Any

from sqlalchemy import case, false, select
from sqlalchemy.orm import Session, selectinload

from aap.campaigns.communes import commune_errors, save_commune_parts
from aap.clock import territory_today
from aap.errors import NotFound
from aap.models import (
    Campaign,
    CampaignFinanceur,
    EnveloppeChange,
    Financeur,
    Membership,
    Organisation,
    Territory,
    User,
)
from aap.rules_files import CampaignFile, LocatedError, RulesFileError
from forms import FormNotFound, load_form
from workflows import depot
from workflows.calendar import Calendar, CalendarNotFound, Phase, load_calendar


def _line_of(data: CampaignFile, path: str) -> int | None:
    line_of = getattr(data, "line_of", None)
    return line_of(path) if callable(line_of) else None


def _cross_check(
    session: Session, data: CampaignFile, source: str
) -> tuple[Territory | None, list[LocatedError]]:
    """What the file alone cannot tell: the territory, the calendar, the form and the financers exist."""
    errors: list[LocatedError] = []

    def err(path: str, code: str, message: str) -> None:
        errors.append(
            LocatedError(file=source, line=_line_of(data, path), path=path, message=message, code=code)
        )

    territory = session.scalar(select(Territory).where(Territory.code == data.territory))
    if territory is None:
        err(
            "territory", "territoire_inconnu", f"territoire « {data.territory} » inconnu : chargez-le d'abord"
        )
    try:
        calendar = load_calendar(data.calendar)
    except CalendarNotFound:
        err("calendar", "calendrier_inconnu", f"type de calendrier « {data.calendar} » inconnu")
    else:
        for reason in calendar.validate_dates(dict(data.dates)):
            err(f"dates.{reason.field}" if reason.field else "dates", reason.code, reason.message)
    try:
        load_form(data.form.code, data.form.version)
    except FormNotFound:
        err(
            "form",
            "formulaire_inconnu",
            f"formulaire « {data.form.code} » version {data.form.version} inconnu",
        )
    if territory is not None:
        errors += commune_errors(session, territory.id, data)
        debut, fin = territory.periode_debut, territory.periode_fin
        if debut is not None and fin is not None and not debut <= data.year <= fin:
            err(
                "year",
                "annee_hors_contrat",
                f"l'année {data.year} est hors de la période du contrat de ville « {territory.code} » "
                f"({debut}-{fin})",
            )
        known = {f.code for f in territory.financeurs}
        for i, f in enumerate(data.financeurs):
            if f.code not in known:
                err(
                    f"financeurs[{i}].code",
                    "financeur_inconnu",
                    f"financeur « {f.code} » inconnu dans le territoire « {territory.code} »",
                )
    return territory, errors


def save_campaign(
    session: Session, data: CampaignFile, source: str = "<données>", by: User | None = None
) -> Campaign:
    """Create or update the campaign `data.code`; refuses with every error, writing nothing."""
    territory, errors = _cross_check(session, data, source)
    if errors:
        raise RulesFileError(errors)
    assert territory is not None
    # the code names a call within its territory: another territory's campaign is never touched
    campaign = session.scalar(
        select(Campaign).where(Campaign.territory_id == territory.id, Campaign.code == data.code)
    )
    if campaign is None:
        campaign = Campaign(code=data.code, territory_id=territory.id)
        session.add(campaign)
    campaign.kind, campaign.year, campaign.title = data.kind, data.year, data.title
    campaign.calendar = data.calendar
    campaign.dates = {k: v.isoformat() for k, v in data.dates.items()}
    campaign.depot_ouverture = data.dates["depot_ouverture"]
    campaign.depot_cloture = data.dates["depot_cloture"]
    campaign.form_code, campaign.form_version = data.form.code, data.form.version
    campaign.late_completion = data.completion_apres_cloture
    campaign.inhabitant_groups = data.groupes_habitants
    session.flush()
    by_code = {f.code: f for f in territory.financeurs}
    lines = {line.financeur.code: line for line in campaign.financeurs}
    for pos, f in enumerate(data.financeurs):
        line = lines.get(f.code)
        if line is None:
            line = CampaignFinanceur(financeur_id=by_code[f.code].id, enveloppe=f.enveloppe, position=pos)
            campaign.financeurs.append(line)
            session.flush()
            session.add(
                EnveloppeChange(
                    campaign_financeur_id=line.id,
                    old_amount=None,
                    new_amount=f.enveloppe,
                    user_id=by.id if by else None,
                    comment=f"chargement {source}",
                )
            )
        elif line.enveloppe != f.enveloppe:
            session.add(
                EnveloppeChange(
                    campaign_financeur_id=line.id,
                    old_amount=line.enveloppe,
                    new_amount=f.enveloppe,
                    user_id=by.id if by else None,
                    comment=f"chargement {source}",
                )
            )
            line.enveloppe = f.enveloppe
        line.position = pos
    save_commune_parts(session, campaign, data)
    session.flush()
    return campaign


def calendar_of(campaign: Campaign) -> Calendar:
    return load_calendar(campaign.calendar)


def phase(campaign: Campaign, moment: datetime) -> Phase:
    """The call's phase at `moment`, on its territory's day (`aap.clock.territory_today`): what the API
    and the pages show."""
    return calendar_of(campaign).phase_on(campaign.parsed_dates(), territory_today(campaign, moment))


def depot_open(campaign: Campaign, moment: datetime) -> bool:
    """A new dossier may be started in this call at `moment`: the day it is in its territory is within
    the dépôt window (`workflows.depot`)."""
    return depot.depot_open(
        territory_today(campaign, moment), campaign.depot_ouverture, campaign.depot_cloture
    )


def visible_campaigns_query(user: User):  # type: ignore[no-untyped-def]
    """Staff, partners and financers see their territory's campaigns; porteurs see every call, those of
    the territories where their organisations work first."""
    query = select(Campaign).options(
        selectinload(Campaign.financeurs).selectinload(CampaignFinanceur.financeur),
        selectinload(Campaign.territory),
    )
    order: list[Any] = [Campaign.year.desc(), Campaign.id]
    if user.role in ("admin", "instructeur", "partenaire"):
        query = query.where(Campaign.territory_id == user.territory_id)
    elif user.role == "financeur":
        query = query.join(Financeur, Financeur.territory_id == Campaign.territory_id).where(
            Financeur.id == user.financeur_id
        )
    elif user.role == "porteur":
        home = (
            select(Organisation.territory_id)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == user.id, Organisation.territory_id.is_not(None))
        )
        order.insert(0, case((Campaign.territory_id.in_(home), 0), else_=1))
        if user.territory_id is not None:  # an association acting in one of its contracts
            query = query.where(Campaign.territory_id == user.territory_id)
    else:
        query = query.where(false())
    return query.order_by(*order)


def list_campaigns(session: Session, user: User, territory: str | None = None) -> list[Campaign]:
    """`territory`: a territory code, to list that territory's calls only."""
    query = visible_campaigns_query(user)
    if territory is not None:
        query = query.where(Campaign.territory.has(Territory.code == territory))
    return list(session.scalars(query))


def get_campaign(session: Session, user: User, campaign_id: int) -> Campaign:
    campaign = session.scalar(visible_campaigns_query(user).where(Campaign.id == campaign_id))
    if campaign is None:
        raise NotFound("Appel à projets introuvable.", code="campagne_introuvable")
    return campaign
