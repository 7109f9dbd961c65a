"""Read-only helpers of the staff pages: the options of their filters, the accounts, the default campaign.

The lists themselves (filters, counts, pages, a financer's lines) are SQL in `aap.dossiers.queries`,
shared with the API; this module keeps the page-side names pointing there.
"""

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from aap.dossiers.queries import (  # noqa: F401 (the pages' names for the shared queries)
    AWAITING_DECISION_STATES,
    AWAITING_LINE_STATES,
    DossierFilters,
    LinePage,
    awaiting_decision,
    financer_lines,
    has_awaiting,
    is_overdue,
    overdue_depose_days,
)
from aap.financing.programmation import orientation_of, qpvs_of  # noqa: F401
from aap.models import Campaign, Cofinancement, Dossier, Financeur, Orientation, Qpv, User

Filters = DossierFilters


def qpv_options(session: Session, territory_id: int | None) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Qpv.code, Qpv.name).where(Qpv.territory_id == territory_id).order_by(Qpv.id)
    )
    return [(c, n) for c, n in rows]


def orientations(session: Session, territory_id: int | None) -> list[Orientation]:
    return list(
        session.scalars(
            select(Orientation).where(Orientation.territory_id == territory_id).order_by(Orientation.position)
        )
    )


def financeurs(session: Session, territory_id: int | None) -> list[Financeur]:
    return list(
        session.scalars(
            select(Financeur).where(Financeur.territory_id == territory_id).order_by(Financeur.id)
        )
    )


# --- dashboard -------------------------------------------------------------------------------------


def default_campaign(session: Session, campaigns: list[Campaign]) -> Campaign | None:
    """The most recent campaign with a decision (what a dashboard has to show), else the most recent."""
    for c in campaigns:
        decided = session.scalar(
            select(Cofinancement.id)
            .join(Dossier, Dossier.id == Cofinancement.dossier_id)
            .where(Dossier.campaign_id == c.id, Cofinancement.decision.is_not(None))
            .limit(1)
        )
        if decided is not None:
            return c
    return campaigns[0] if campaigns else None


def users_of_territory(
    session: Session, territory_id: int | None, *, limit: int = 100, offset: int = 0
) -> tuple[list[User], int]:
    """A page of the territory's accounts (its staff, its financers' agents, its organisations'
    porteurs, see `aap.accounts.staff.accounts_of_territory`), and how many there are."""
    from aap.accounts.staff import accounts_of_territory

    where = User.id.in_(accounts_of_territory(territory_id))
    total = session.scalar(select(func.count()).select_from(User).where(where)) or 0
    query = (
        select(User)
        .options(selectinload(User.financeur), selectinload(User.organisations))
        .where(where)
        .order_by(User.role, User.email)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query)), total
