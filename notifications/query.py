"""What is due, asked of the database by indexed dates: the cost follows what is due, not the number of
dossiers.

- a dossier date (`complements_due`, `bilan_due`, `deposited_at`, each indexed): one range query on it;
- a campaign date: the campaigns whose date falls in the window (`depot_cloture` / `depot_ouverture`
  through their indexed columns; the other calendar dates from the campaigns table, a few rows per
  territory and year), then their dossiers through the (campaign_id, state) index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from aap.clock import contract_days
from aap.cpo import repository as cpo_repository
from aap.models import (
    Attachment,
    AvisPartenaire,
    Bilan,
    Campaign,
    Cofinancement,
    Dossier,
    DossierEvent,
    Financeur,
    FocusSession,
    Membership,
    Organisation,
    User,
)
from notifications.rules import DueOccurrence, Rule
from workflows.labels import PARTNER_AVIS_LABELS

INDEXED_CAMPAIGN_DATES = {
    "depot_cloture": Campaign.depot_cloture,
    "depot_ouverture": Campaign.depot_ouverture,
}


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    name: str


@dataclass(frozen=True)
class DossierRow:
    id: int
    number: str
    title: str | None
    state: str
    organisation_id: int
    organisation: str
    campaign_id: int
    campaign_title: str
    territory_id: int
    complements_message: str | None


@dataclass(frozen=True)
class PendingLine:
    """A cofinancement line still waiting for its financer's decision."""

    dossier_id: int
    financeur_id: int
    financeur: str
    montant_demande: Decimal
    montant_propose: Decimal | None


def _chunks(values: Iterable[int], size: int = 500) -> Iterable[list[int]]:
    values = sorted(set(values))
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- the day it is where each contract is -----------------------------------------------------------


def zone_days(session: Session, now: datetime) -> list[tuple[date, frozenset[str] | None]]:
    """The days it is at `now` in the contracts' zones (`aap.clock.contract_days`), each with the zones that
    have it: a pass at 07:00 in Paris is still the day before in Papeete. One day for every contract
    (the usual case) comes with no zones: nothing to tell apart."""
    days = contract_days(session, now)
    if len(days) == 1:
        return [(next(iter(days)), None)]
    return list(days.items())


def in_zones(
    session: Session, occurrences: list[DueOccurrence], zones: frozenset[str] | None
) -> list[DueOccurrence]:
    """The occurrences whose dossier's contract is in one of `zones` (all of them for None)."""
    if zones is None or not occurrences:
        return occurrences
    zone_of: dict[int, str] = {}
    for chunk in _chunks(o.dossier_id for o in occurrences):
        rows = session.execute(
            select(Dossier.id, Campaign.fuseau.label("fuseau"))
            .join(Campaign, Campaign.id == Dossier.campaign_id)
            .where(Dossier.id.in_(chunk))
        )
        zone_of.update({dossier_id: name for dossier_id, name in rows})
    return [o for o in occurrences if zone_of.get(o.dossier_id) in zones]


def _campaigns_with_date(session: Session, name: str, lo: date, hi: date) -> list[tuple[Campaign, date]]:
    column = INDEXED_CAMPAIGN_DATES.get(name)
    if column is not None:
        campaigns = session.scalars(select(Campaign).where(column >= lo, column <= hi)).all()
        return [(c, getattr(c, name)) for c in campaigns]
    found = []
    for campaign in session.scalars(select(Campaign)):
        value = campaign.date_of(name)
        if value is not None and lo <= value <= hi:
            found.append((campaign, value))
    return found


def _previous_campaign_id(session: Session, campaign: Campaign) -> int | None:
    return session.scalar(
        select(Campaign.id)
        .where(
            Campaign.territory_id == campaign.territory_id,
            Campaign.kind == campaign.kind,
            Campaign.year == campaign.year - 1,
        )
        .order_by(Campaign.id)
        .limit(1)
    )


def due_occurrences(session: Session, rule: Rule, today: date) -> list[DueOccurrence]:
    """The (dossier, occurrence) pairs of `rule` due `today`."""
    lo, hi = rule.anchor_window(today)
    out: list[DueOccurrence] = []
    only_cpo = Dossier.id.in_(cpo_repository.cpo_dossier_ids()) if rule.cpo else true()
    if rule.scope == "bilan":
        return _bilan_dates(session, rule, today, lo, hi, only_cpo)
    if rule.scope == "focus":
        return _focus_sessions(session, rule, today, lo, hi)
    if rule.scope == "cpo":
        return _cpo_ends(session, rule, today, lo, hi)
    if rule.scope == "avis":
        return _avis_dates(session, rule, today, lo, hi)
    if rule.scope == "evenement":
        return _history_steps(session, rule, today, lo, hi)
    if rule.scope == "dossier":
        return _dossier_dates(session, rule, today, lo, hi, only_cpo)
    for campaign, anchor in _campaigns_with_date(session, rule.date_name, lo, hi):
        offset = rule.occurrence(anchor, today)
        if offset is None:
            continue
        campaign_id = campaign.id if rule.scope == "campaign" else _previous_campaign_id(session, campaign)
        if campaign_id is None:
            continue
        query = select(Dossier.id).where(
            Dossier.campaign_id == campaign_id, Dossier.state.in_(rule.states), only_cpo
        )
        if rule.date_name == "depot_cloture":  # a dossier given more time hangs on its own deadline
            query = query.where(or_(Dossier.extension_until.is_(None), Dossier.extension_until <= anchor))
        out.extend(DueOccurrence(rule, dossier_id, anchor, offset) for dossier_id in session.scalars(query))
    if rule.scope == "campaign" and rule.date_name == "depot_cloture":
        out.extend(_extended_deadlines(session, rule, today, lo, hi))
    return out


def _cpo_ends(session: Session, rule: Rule, today: date, lo: date, hi: date) -> list[DueOccurrence]:
    """The CPO's end: the message goes about the dossier it was made from."""
    out: list[DueOccurrence] = []
    for _cpo_id, dossier_id, state, end in cpo_repository.ending_between(session, lo, hi):
        offset = rule.occurrence(end, today)
        if offset is not None and state in rule.states:
            out.append(DueOccurrence(rule, dossier_id, end, offset))
    return out


def _avis_dates(session: Session, rule: Rule, today: date, lo: date, hi: date) -> list[DueOccurrence]:
    """The avis asked of partners, by their indexed deadline (`avis.due_date`: the avis still awaited)
    or the day they were given (`avis.given_at`). One occurrence per dossier and date; for the partner
    asked (`partenaire_sollicite`), one per dossier and partner, at its nearest deadline."""
    state = func.coalesce(Dossier.state, "")
    query = (
        select(AvisPartenaire, User.full_name, User.email)
        .join(Dossier, Dossier.id == AvisPartenaire.dossier_id)
        .join(User, User.id == AvisPartenaire.partner_id)
        .where(state.in_(rule.states))
        .order_by(AvisPartenaire.id)
    )
    if rule.date_name == "given_at":  # a time stamp: the window in UTC days
        query = query.where(
            AvisPartenaire.avis.is_not(None),
            AvisPartenaire.given_at >= datetime.combine(lo, time(), UTC),
            AvisPartenaire.given_at < datetime.combine(hi + timedelta(days=1), time(), UTC),
        )
    else:
        query = query.where(
            AvisPartenaire.avis.is_(None), AvisPartenaire.due_date >= lo, AvisPartenaire.due_date <= hi
        )
    per_partner = rule.recipients == "partenaire_sollicite"
    groups: dict[tuple[int, int | date], tuple[date, list[str], int]] = {}
    for avis, name, email in session.execute(query):
        given = avis.given_at.date() if avis.given_at is not None else None
        anchor = given if rule.date_name == "given_at" and given is not None else avis.due_date
        service = name or email
        said = f"{service} : {PARTNER_AVIS_LABELS.get(avis.avis, avis.avis)}" if avis.avis else service
        key: tuple[int, int | date] = (avis.dossier_id, avis.partner_id if per_partner else anchor)
        first, names, first_id = groups.get(key, (anchor, [], avis.id))
        nearest = first_id if first <= anchor else avis.id
        groups[key] = (min(first, anchor), [*names, said], nearest)
    out: list[DueOccurrence] = []
    for (dossier_id, who), (anchor, names, avis_id) in groups.items():
        offset = rule.occurrence(anchor, today)
        if offset is None:
            continue
        # the partner answers from its page of the avis; the team reads who said what
        facts = (("lien", f"/avis/{avis_id}"),) if per_partner else (("avis_services", " ; ".join(names)),)
        for_user = who if per_partner and isinstance(who, int) else None
        out.append(DueOccurrence(rule, dossier_id, anchor, offset, facts, for_user))
    return out


def _history_steps(session: Session, rule: Rule, today: date, lo: date, hi: date) -> list[DueOccurrence]:
    """A step of the dossiers' history (`evenement.<step>`), by its indexed (step, time): one
    occurrence per dossier and UTC day. `when: avec_convention`: only the dossiers for which a
    financer sends a convention (not a letter of notification), named in the line."""
    state = func.coalesce(Dossier.state, "")
    query = (
        select(DossierEvent.dossier_id, DossierEvent.at, DossierEvent.data)
        .join(Dossier, Dossier.id == DossierEvent.dossier_id)
        .where(
            DossierEvent.transition == rule.date_name,
            DossierEvent.at >= datetime.combine(lo, time(), UTC),
            DossierEvent.at < datetime.combine(hi + timedelta(days=1), time(), UTC),
            state.in_(rule.states),
        )
        .order_by(DossierEvent.id)
    )
    days: dict[tuple[int, date], list[dict[str, object]]] = defaultdict(list)
    for dossier_id, at, data in session.execute(query):
        days[(dossier_id, at.date())].append(data if isinstance(data, dict) else {})
    conventions = (
        _convention_financeurs(session, {d for d, _ in days}) if rule.when == "avec_convention" else {}
    )
    out: list[DueOccurrence] = []
    for (dossier_id, day), steps in days.items():
        offset = rule.occurrence(day, today)
        if offset is None:
            continue
        facts: tuple[tuple[str, str], ...] = ()
        if rule.when == "avec_convention":
            if not conventions.get(dossier_id):
                continue
            facts = (("conventions", " ; ".join(conventions[dossier_id])),)
        versions = [v for v in (step.get("version") for step in steps) if isinstance(v, int)]
        if rule.date_name == "budget_ajuste":  # filed twice in a day: its last version, on its page
            facts = (*facts, ("lien", f"/dossiers/{dossier_id}/budget-ajuste"))
        if versions:
            facts = (*facts, ("version", str(max(versions))))
        out.append(DueOccurrence(rule, dossier_id, day, offset, facts))
    return out


def _convention_financeurs(session: Session, dossier_ids: set[int]) -> dict[int, list[str]]:
    """The financers whose convention (not a letter of notification) each dossier was issued: the
    documents in force, as they were made at the convention (`aap.financing.documents`)."""
    out: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(dossier_ids):
        rows = session.execute(
            select(Attachment.dossier_id, Financeur.name)
            .join(Financeur, Financeur.id == Attachment.financeur_id)
            .where(
                Attachment.dossier_id.in_(chunk),
                Attachment.kind == "convention",
                Attachment.replaced_at.is_(None),
            )
            .order_by(Attachment.dossier_id, Financeur.id)
        )
        for dossier_id, name in rows:
            if dossier_id is not None:
                out[dossier_id].append(name)
    return out


def _dossier_dates(
    session: Session, rule: Rule, today: date, lo: date, hi: date, only_cpo: ColumnElement[bool]
) -> list[DueOccurrence]:
    """A date of the dossier itself (`dossier.…`), by its index."""
    column = getattr(Dossier, rule.date_name)
    if rule.date_name == "deposited_at":  # a time stamp: the window in UTC days
        bounds = and_(
            column >= datetime.combine(lo, time(), UTC),
            column < datetime.combine(hi + timedelta(days=1), time(), UTC),
        )
    else:
        bounds = and_(column >= lo, column <= hi)
    # Without statistics SQLite would pick the state index (every conventionné of every year); the
    # state wrapped in coalesce() cannot use an index, so the date index drives: its cost follows
    # what is due.
    state = func.coalesce(Dossier.state, "")
    rows = session.execute(select(Dossier.id, column).where(bounds, state.in_(rule.states), only_cpo))
    out: list[DueOccurrence] = []
    for dossier_id, value in rows:
        anchor = value.date() if isinstance(value, datetime) else value
        offset = rule.occurrence(anchor, today)
        if offset is not None:
            out.append(DueOccurrence(rule, dossier_id, anchor, offset))
    return out


def _bilan_dates(
    session: Session, rule: Rule, today: date, lo: date, hi: date, only_cpo: ColumnElement[bool]
) -> list[DueOccurrence]:
    """A returned bilan's reminders, by its indexed `correction_due` (set only while it is returned)."""
    column = getattr(Bilan, rule.date_name)
    rows = session.execute(
        select(Bilan.dossier_id, column)
        .join(Dossier, Dossier.id == Bilan.dossier_id)
        .where(column >= lo, column <= hi, func.coalesce(Dossier.state, "").in_(rule.states), only_cpo)
    )
    out = []
    for dossier_id, anchor in rows:
        offset = rule.occurrence(anchor, today)
        if offset is not None:
            out.append(DueOccurrence(rule, dossier_id, anchor, offset))
    return out


def _focus_sessions(session: Session, rule: Rule, today: date, lo: date, hi: date) -> list[DueOccurrence]:
    """The funded actions of the year a focus session evaluates, invited with its place and time."""
    out: list[DueOccurrence] = []
    for focus in session.scalars(
        select(FocusSession).where(FocusSession.date >= lo, FocusSession.date <= hi)
    ):
        offset = rule.occurrence(focus.date, today)
        if offset is None:
            continue
        facts = (("focus_lieu", focus.lieu), ("focus_heure", (focus.heure or "").replace(":", " h ")))
        query = (
            select(Dossier.id)
            .join(Campaign, Campaign.id == Dossier.campaign_id)
            .where(
                Campaign.territory_id == focus.territory_id,
                Campaign.year == focus.annee,
                Dossier.state.in_(rule.states),
            )
        )
        out.extend(DueOccurrence(rule, d, focus.date, offset, facts) for d in session.scalars(query))
    return out


def _extended_deadlines(session: Session, rule: Rule, today: date, lo: date, hi: date) -> list[DueOccurrence]:
    """The dépôt reminders of the dossiers an instructeur gave more time, at their own deadline."""
    rows = session.execute(
        select(Dossier.id, Dossier.extension_until)
        .join(Campaign, Campaign.id == Dossier.campaign_id)
        .where(
            Dossier.extension_until >= lo,
            Dossier.extension_until <= hi,
            Dossier.extension_until > Campaign.depot_cloture,
            func.coalesce(Dossier.state, "").in_(rule.states),
            Dossier.id.in_(cpo_repository.cpo_dossier_ids()) if rule.cpo else true(),
        )
    )
    out = []
    for dossier_id, anchor in rows:
        if anchor is None:  # excluded by the query; the column may be NULL for other dossiers
            continue
        offset = rule.occurrence(anchor, today)
        if offset is not None:
            out.append(DueOccurrence(rule, dossier_id, anchor, offset))
    return out


def dossier_rows(session: Session, ids: Iterable[int]) -> dict[int, DossierRow]:
    out: dict[int, DossierRow] = {}
    for chunk in _chunks(ids):
        query = (
            select(
                Dossier.id,
                Dossier.number,
                Dossier.title,
                Dossier.state,
                Dossier.organisation_id,
                Organisation.name,
                Dossier.campaign_id,
                Campaign.title,
                Campaign.territory_id,
                Dossier.complements_message,
            )
            .join(Organisation, Organisation.id == Dossier.organisation_id)
            .join(Campaign, Campaign.id == Dossier.campaign_id)
            .where(Dossier.id.in_(chunk))
        )
        for row in session.execute(query):
            out[row[0]] = DossierRow(*row[:10])  # the 10 columns above (typing counts 9, then "more")
    return out


def _recipient(user: User) -> Recipient:
    return Recipient(user.id, user.email, (user.full_name or "").split(" (")[0].strip())


def porteurs_of(session: Session, organisation_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """The active porteur accounts of each organisation (a verified address only: nothing else goes
    to an address before its owner followed the verification link)."""
    out: dict[int, list[Recipient]] = defaultdict(list)
    for chunk in _chunks(organisation_ids):
        query = (
            select(Membership.organisation_id, User)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.organisation_id.in_(chunk),
                User.role == "porteur",
                User.active.is_(True),
                User.email_verified_at.is_not(None),
            )
            .order_by(User.id)
        )
        for org_id, user in session.execute(query):
            out[org_id].append(_recipient(user))
    return out


def instructeurs_of(session: Session, territory_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """The active instructeurs of each territory."""
    out: dict[int, list[Recipient]] = defaultdict(list)
    for chunk in _chunks(territory_ids):
        query = (
            select(User)
            .where(
                User.territory_id.in_(chunk),
                User.role == "instructeur",
                User.active.is_(True),
                User.email_verified_at.is_not(None),
            )
            .order_by(User.id)
        )
        for user in session.scalars(query):
            assert user.territory_id is not None
            out[user.territory_id].append(_recipient(user))
    return out


def pending_lines(session: Session, dossier_ids: Iterable[int]) -> dict[int, list[PendingLine]]:
    out: dict[int, list[PendingLine]] = defaultdict(list)
    for chunk in _chunks(dossier_ids):
        query = (
            select(
                Cofinancement.dossier_id,
                Cofinancement.financeur_id,
                Financeur.name,
                Cofinancement.montant_demande,
                Cofinancement.montant_propose,
            )
            .join(Financeur, Financeur.id == Cofinancement.financeur_id)
            .where(Cofinancement.dossier_id.in_(chunk), Cofinancement.decision.is_(None))
            .order_by(Cofinancement.id)
        )
        for row in session.execute(query):
            out[row[0]].append(PendingLine(*row))
    return out


def agents_of(session: Session, financeur_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    out: dict[int, list[Recipient]] = defaultdict(list)
    for chunk in _chunks(financeur_ids):
        query = (
            select(User)
            .where(
                User.financeur_id.in_(chunk),
                User.role == "financeur",
                User.active.is_(True),
                User.email_verified_at.is_not(None),
            )
            .order_by(User.id)
        )
        for user in session.scalars(query):
            assert user.financeur_id is not None
            out[user.financeur_id].append(_recipient(user))
    return out


def partners_asked(session: Session, dossier_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """The active partner accounts with an avis still awaited on each dossier (each occurrence then
    goes to its own partner only: `DueOccurrence.for_user`)."""
    out: dict[int, list[Recipient]] = defaultdict(list)
    for chunk in _chunks(dossier_ids):
        query = (
            select(AvisPartenaire.dossier_id, User)
            .join(User, User.id == AvisPartenaire.partner_id)
            .where(
                AvisPartenaire.dossier_id.in_(chunk),
                AvisPartenaire.avis.is_(None),
                User.role == "partenaire",
                User.active.is_(True),
                User.email_verified_at.is_not(None),
            )
            .distinct()
            .order_by(AvisPartenaire.dossier_id, User.id)
        )
        for dossier_id, user in session.execute(query):
            out[dossier_id].append(_recipient(user))
    return out


def recipients_for(
    session: Session, recipients: str, rows: dict[int, DossierRow]
) -> dict[int, list[Recipient]]:
    """The accounts a rule speaks to, per dossier: the porteur accounts of its organisation, the
    instructeurs of its territory, or the agents of the financers that have not decided yet."""
    out: dict[int, list[Recipient]] = {}
    if recipients == "porteurs":
        by_org = porteurs_of(session, (r.organisation_id for r in rows.values()))
        return {d: by_org.get(r.organisation_id, []) for d, r in rows.items()}
    if recipients == "instructeurs":
        by_territory = instructeurs_of(session, (r.territory_id for r in rows.values()))
        return {d: by_territory.get(r.territory_id, []) for d, r in rows.items()}
    if recipients == "partenaire_sollicite":
        return partners_asked(session, rows)
    lines = pending_lines(session, rows)
    agents = agents_of(session, (line.financeur_id for ls in lines.values() for line in ls))
    for dossier_id in rows:
        seen: dict[int, Recipient] = {}
        for line in lines.get(dossier_id, []):
            for agent in agents.get(line.financeur_id, []):
                seen.setdefault(agent.user_id, agent)
        out[dossier_id] = list(seen.values())
    return out
