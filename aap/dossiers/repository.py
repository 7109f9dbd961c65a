"""The dossier reads: one dossier, a page of them, its history; always through the visibility query.

Every domain that needs a dossier (attachments, financing, notifications, the web) reads it here, so
the service that writes dossiers is imported by nobody but the edges, and a hidden dossier is a 404
everywhere. Who sees which dossier is decided in `aap/dossiers/access.py`.
"""

from datetime import date
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from aap.dossiers.access import (
    ViewerShape,
    viewer_params,
    viewer_shape,
    visible_dossiers,
    visible_dossiers_of_shape,
)
from aap.errors import NotFound
from aap.models import Campaign, Cofinancement, Dossier, DossierEvent, User
from forms import Form, load_form

__all__ = [
    "campaign_form_of",
    "get_dossier",
    "history",
    "list_dossiers",
    "load_locked",
    "past_depot_deadline",
    "requested_total",
    "visible_dossiers",
    "with_lines",
]


def with_lines(query: Select[Dossier]) -> Select[Dossier]:
    """The dossier with its organisation and campaign (joined to its row), then its cofinancement lines
    with their financer and their payments (one statement): two statements in all."""
    lines = selectinload(Dossier.cofinancements)
    return query.options(
        joinedload(Dossier.organisation, innerjoin=True),
        joinedload(Dossier.campaign, innerjoin=True),
        lines.joinedload(Cofinancement.financeur, innerjoin=True),
        lines.joinedload(Cofinancement.payments),
    )


def _one_with_lines(query: Select[Dossier]) -> Select[Dossier]:
    """`with_lines` for one dossier: its lines joined to its row too, so one statement loads it all
    (a second statement per read costs more than the few repeated columns of a dossier's 1 to 6 lines).
    The lines' financer is an outer join chained to them, not an inner join nested in theirs: SQLite
    builds such a nested join for every line of the base before it keeps the dossier's."""
    lines = joinedload(Dossier.cofinancements)
    return query.options(
        joinedload(Dossier.organisation, innerjoin=True),
        joinedload(Dossier.campaign, innerjoin=True),
        lines.joinedload(Cofinancement.financeur),
        lines.joinedload(Cofinancement.payments),
    )


@lru_cache(maxsize=64)
def _one_visible(shape: ViewerShape, lock: bool) -> Select[Dossier]:
    """The statement of `get_dossier` for one kind of viewer: built once, with its cache key, as every
    read, autosave and transition runs it (building it cost more than PostgreSQL's answer)."""
    query = visible_dossiers_of_shape(shape).where(Dossier.id == bindparam("dossier_id", type_=Integer))
    query = _one_with_lines(query)
    return query.with_for_update(of=Dossier) if lock else query


def get_dossier(session: Session, user: User, dossier_id: int, *, lock: bool = False) -> Dossier:
    """The dossier if `user` may see it (404 otherwise); `lock` holds its row until the commit."""
    query = _one_visible(viewer_shape(user), lock)
    params = {**viewer_params(user), "dossier_id": dossier_id}
    dossier = session.scalars(query, params).unique().one_or_none()
    if dossier is None:
        raise NotFound("Dossier introuvable.", code="dossier_introuvable")
    return dossier


def load_locked(session: Session, dossier_id: int) -> Dossier | None:
    """A dossier by id, locked, whoever asks (the cron pass acts as the system, not as a user); the lock
    stays on the dossier's row, not on its organisation's or campaign's joined to it."""
    query = _one_with_lines(select(Dossier).where(Dossier.id == dossier_id)).with_for_update(of=Dossier)
    return session.scalars(query).unique().one_or_none()


def list_dossiers(
    session: Session,
    user: User,
    *,
    campaign_id: int | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Dossier], int]:
    """One page of the dossiers `user` sees, by id, and how many there are in all."""
    query = visible_dossiers(user)
    if campaign_id is not None:
        query = query.where(Dossier.campaign_id == campaign_id)
    if state is not None:
        query = query.where(Dossier.state == state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(with_lines(query).order_by(Dossier.id).limit(limit).offset(offset)).all()
    return list(items), total


def history(session: Session, user: User, dossier_id: int) -> list[DossierEvent]:
    """Every event of a dossier `user` sees, in order (404 for a hidden dossier)."""
    get_dossier(session, user, dossier_id)
    return list(
        session.scalars(
            select(DossierEvent).where(DossierEvent.dossier_id == dossier_id).order_by(DossierEvent.id)
        )
    )


def campaign_form_of(dossier: Dossier) -> Form:
    """The form version the dossier was started with (a new version for next year breaks nothing)."""
    return load_form(dossier.form_code, dossier.form_version)


def requested_total(dossier: Dossier) -> Decimal:
    return sum((line.montant_demande for line in dossier.cofinancements), Decimal("0.00"))


def past_depot_deadline(today: date) -> ColumnElement[bool]:
    """SQL form of `workflows.depot.depot_closed` (the query must join `Campaign`): the cron pass finds
    the expired drafts through the indexed deadline instead of loading every draft."""
    return and_(
        Campaign.depot_cloture < today,
        or_(Dossier.extension_until.is_(None), Dossier.extension_until < today),
    )
