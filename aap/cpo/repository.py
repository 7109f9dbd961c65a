"""Reads of the CPO domain that other domains need too (financing, notifications, the dashboard).

Who may see which CPO is decided here once: a porteur its organisations' CPOs, a financer the CPOs it
signs, staff the CPOs of their territory.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Select, and_, exists, false, func, select
from sqlalchemy.orm import Session, selectinload

from aap.models import (
    Campaign,
    CampaignFinanceur,
    Cofinancement,
    Cpo,
    CpoAnnee,
    CpoEvent,
    CpoMontant,
    CpoSignataire,
    Dossier,
    Financeur,
    Membership,
    Organisation,
    Payment,
    User,
)

ZERO = Decimal("0.00")
LIVE_STATES = ("projet", "signee", "active")  # a CPO whose planned amounts still hold
BOUND_STATES = ("signee", "active", "echue")  # signed: its yearly dossiers count under CPO


def visible_cpos(user: User) -> Select[Cpo]:
    query = select(Cpo)
    if user.role == "porteur":
        mine = select(Membership.organisation_id).where(Membership.user_id == user.id)
        query = query.where(Cpo.organisation_id.in_(mine))
        if user.territory_id is not None:  # an association acting in one of its contracts
            query = query.where(Cpo.territory_id == user.territory_id)
        return query
    if user.role == "financeur":
        signs = exists().where(
            CpoSignataire.cpo_id == Cpo.id, CpoSignataire.financeur_id == user.financeur_id
        )
        return query.where(signs)
    if user.role in ("admin", "instructeur"):
        return query.where(Cpo.territory_id == user.territory_id)
    return query.where(false())


def with_details(query: Select[Cpo]) -> Select[Cpo]:
    return query.options(
        selectinload(Cpo.organisation),
        selectinload(Cpo.dossier_origine),
        selectinload(Cpo.signataires).selectinload(CpoSignataire.financeur),
        selectinload(Cpo.annees).selectinload(CpoAnnee.montants).selectinload(CpoMontant.financeur),
    )


def find(
    session: Session,
    user: User,
    *,
    organisation: int | None = None,
    financeur: str | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Cpo], int]:
    query = visible_cpos(user)
    if organisation is not None:
        query = query.where(Cpo.organisation_id == organisation)
    if financeur:
        query = query.where(
            exists()
            .where(CpoSignataire.cpo_id == Cpo.id, CpoSignataire.financeur_id == Financeur.id)
            .where(Financeur.code == financeur)
        )
    if state:
        query = query.where(Cpo.state == state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(with_details(query).order_by(Cpo.id).limit(limit).offset(offset)).all()
    return list(items), total


def history(session: Session, cpo_id: int) -> list[CpoEvent]:
    return list(session.scalars(select(CpoEvent).where(CpoEvent.cpo_id == cpo_id).order_by(CpoEvent.id)))


def year_figures(session: Session, cpo_id: int) -> dict[tuple[int, int], tuple[Decimal, Decimal]]:
    """Per (year, financer id): accorded and paid on that year's dossier, in one grouped query."""
    paid = (
        select(func.coalesce(func.sum(Payment.montant), 0))
        .where(Payment.cofinancement_id == Cofinancement.id)
        .correlate(Cofinancement)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            CpoAnnee.annee,
            Cofinancement.financeur_id,
            func.sum(Cofinancement.montant_accorde).filter(Cofinancement.decision == "accorde"),
            func.sum(paid),
        )
        .join(Cofinancement, Cofinancement.dossier_id == CpoAnnee.dossier_id)
        .where(CpoAnnee.cpo_id == cpo_id)
        .group_by(CpoAnnee.annee, Cofinancement.financeur_id)
    )
    return {(annee, fid): (accorde or ZERO, Decimal(paye or 0)) for annee, fid, accorde, paye in rows}


# --- what other domains ask --------------------------------------------------------------------


def under_cpo(session: Session, organisation_id: int, financeur_id: int, year: int) -> bool:
    """Whether a signed CPO binds this organisation and this financer for `year`."""
    found = session.scalar(
        select(Cpo.id)
        .join(CpoAnnee, CpoAnnee.cpo_id == Cpo.id)
        .join(CpoMontant, CpoMontant.cpo_annee_id == CpoAnnee.id)
        .where(
            Cpo.organisation_id == organisation_id,
            Cpo.state.in_(BOUND_STATES),
            CpoAnnee.annee == year,
            CpoMontant.financeur_id == financeur_id,
        )
        .limit(1)
    )
    return found is not None


def year_of_dossier(session: Session, dossier_id: int) -> CpoAnnee | None:
    """The CPO year whose dossier this is (the yearly dossier, or the dossier the CPO was made from)."""
    return session.scalar(
        select(CpoAnnee).options(selectinload(CpoAnnee.cpo)).where(CpoAnnee.dossier_id == dossier_id)
    )


def previous_year_dossier(session: Session, annee: CpoAnnee) -> Dossier | None:
    """Last year's dossier of the same CPO: its year's dossier, or the dossier the CPO was made from."""
    cpo = annee.cpo
    previous = next((a for a in cpo.annees if a.annee == annee.annee - 1), None)
    if previous is not None and previous.dossier_id is not None:
        return session.get(Dossier, previous.dossier_id)
    origin = session.get(Dossier, cpo.dossier_origine_id)
    if origin is not None and origin.id != annee.dossier_id:
        origin_year = session.scalar(select(Campaign.year).where(Campaign.id == origin.campaign_id))
        if origin_year == annee.annee - 1:
            return origin
    return None


def advance_allowed(session: Session, cpo_id: int, annee: int, financeur_code: str) -> bool:
    """Whether an admin recorded an avance voted before last year's bilan, for this year and financer."""
    for event in session.scalars(
        select(CpoEvent).where(CpoEvent.cpo_id == cpo_id, CpoEvent.transition == "avance_avant_bilan")
    ):
        data = event.data or {}
        if data.get("annee") == annee and data.get("financeur") == financeur_code:
            return True
    return False


def planned_in_year(
    session: Session, territory_id: int, financeur_id: int, annee: int, *, excluding: int | None = None
) -> Decimal:
    """What the live CPOs of the territory plan for this financer and year."""
    query = (
        select(func.sum(CpoMontant.prevu))
        .join(CpoAnnee, CpoAnnee.id == CpoMontant.cpo_annee_id)
        .join(Cpo, Cpo.id == CpoAnnee.cpo_id)
        .where(
            Cpo.territory_id == territory_id,
            Cpo.state.in_(LIVE_STATES),
            CpoAnnee.annee == annee,
            CpoMontant.financeur_id == financeur_id,
        )
    )
    if excluding is not None:
        query = query.where(Cpo.id != excluding)
    return session.scalar(query) or ZERO


def envelope_of_year(
    session: Session, territory_id: int, kind: str, financeur_id: int, annee: int, *, lock: bool = False
) -> CampaignFinanceur | None:
    """The financer's enveloppe in the campaign of `annee` (same kind of call), once it exists."""
    query = (
        select(CampaignFinanceur)
        .join(Campaign, Campaign.id == CampaignFinanceur.campaign_id)
        .where(
            Campaign.territory_id == territory_id,
            Campaign.kind == kind,
            Campaign.year == annee,
            CampaignFinanceur.financeur_id == financeur_id,
        )
        .order_by(Campaign.id)
        .limit(1)
    )
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def accorded_outside_cpo(
    session: Session, campaign_id: int, financeur_id: int, *, excluding_dossier: int | None = None
) -> Decimal:
    """What the financer accorded in this campaign on dossiers that are no CPO year's dossier (nor the
    dossier a CPO is being made from, whose amount its plan now carries)."""
    total = session.scalar(
        select(func.sum(Cofinancement.montant_accorde))
        .join(Dossier, Dossier.id == Cofinancement.dossier_id)
        .where(
            Dossier.campaign_id == campaign_id,
            Cofinancement.financeur_id == financeur_id,
            Cofinancement.decision == "accorde",
            Dossier.state != "abandonne",
            ~exists().where(CpoAnnee.dossier_id == Dossier.id),
            Dossier.id != (excluding_dossier or 0),
        )
    )
    return total or ZERO


def ending_between(session: Session, lo: date, hi: date) -> list[tuple[int, int, str, date]]:
    """(cpo id, origin dossier id, state, end date) of the CPOs whose last year ends in [lo, hi]."""
    last = (
        select(CpoAnnee.cpo_id, func.max(CpoAnnee.annee).label("last")).group_by(CpoAnnee.cpo_id).subquery()
    )
    rows = session.execute(
        select(Cpo.id, Cpo.dossier_origine_id, Cpo.state, last.c.last)
        .join(last, last.c.cpo_id == Cpo.id)
        .where(Cpo.state.in_(LIVE_STATES), and_(last.c.last >= lo.year, last.c.last <= hi.year))
    )
    out = []
    for cpo_id, dossier_id, state, year in rows:
        end = date(year, 12, 31)
        if lo <= end <= hi:
            out.append((cpo_id, dossier_id, state, end))
    return out


def cpo_dossier_ids() -> Select[int | None]:
    """The dossiers that are a CPO year's dossier (a subquery for filters)."""
    return select(CpoAnnee.dossier_id).where(CpoAnnee.dossier_id.is_not(None))


def organisation_name(session: Session, organisation_id: int) -> str:
    return session.scalar(select(Organisation.name).where(Organisation.id == organisation_id)) or ""
