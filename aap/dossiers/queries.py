"""The staff lists of dossiers: filtered, counted, sorted and paginated in SQL, whatever the campaign's size.

One place for the filters the API (`GET /api/v1/dossiers`) and the pages (`/instruction`, the financer
and comité pages) offer: state, QPV, orientation (a node and everything under it), financer solicited,
overdue, and a text searched in the number, the title and the porteur's name. Every read starts from
`visible_dossiers`, so a list never shows what the caller could not open. QPV and orientation are read
from the answers into indexed columns on every save (`aap.dossiers.search_columns`).

A page costs a constant number of statements: one grouped count (the counts by state, and the total),
one for the page's ids (sorted from the indexes), one for those rows, and one per eager-loaded
relation; never one per dossier.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from aap.clock import before_contract_day, contract_days, territory_today
from aap.dossiers.access import own_lines, visible_dossiers
from aap.models import Cofinancement, Dossier, DossierTarget, Financeur, Organisation, User
from workflows.dossier import STATES

MAX_LIMIT = 500
SORTS: dict[str, tuple[Any, ...]] = {
    "numero": (Dossier.id.asc(),),
    "-numero": (Dossier.id.desc(),),
    "depot": (Dossier.deposited_at.asc(), Dossier.id.asc()),
    "-depot": (Dossier.deposited_at.desc(), Dossier.id.desc()),
    "titre": (Dossier.title.asc(), Dossier.id.asc()),
    "-maj": (Dossier.updated_at.desc(), Dossier.id.desc()),
}
DEFAULT_SORT = "numero"


def _default_overdue_days() -> int:
    return 5


_overdue_days: Callable[[], int] = _default_overdue_days


def use_overdue_days(source: Callable[[], int]) -> None:
    """Set where the delay comes from (the composition root gives the instructeurs' reminder rule)."""
    global _overdue_days
    _overdue_days = source


def overdue_depose_days() -> int:
    """After how many days a deposited dossier nobody has taken up is late: the delay of the
    instructeurs' reminder in notifications/rules.yaml (wired in `aap.wiring`), so that the list and
    the digest agree."""
    return _overdue_days()


def is_overdue(dossier: Dossier, now: datetime) -> bool:
    """The same rule as the `overdue` filter, for one dossier already read (its badge): compléments due
    before the day it is in its territory, or deposited for longer than the delay."""
    if dossier.state == "complements_demandes":
        due = dossier.complements_due
        return due is not None and due < territory_today(dossier.campaign, now)
    if dossier.state == "depose" and dossier.deposited_at is not None:
        return dossier.deposited_at < now - timedelta(days=overdue_depose_days())
    return False


def overdue_clause(now: datetime, days: dict[date, frozenset[str]]) -> ColumnElement[bool]:
    """`is_overdue` in SQL, `days` being the contracts' days at `now` (`aap.clock.contract_days`)."""
    return or_(
        and_(
            Dossier.state == "complements_demandes",
            before_contract_day(Dossier.complements_due, Dossier.campaign_id, days),
        ),
        and_(
            Dossier.state == "depose",
            Dossier.deposited_at < now - timedelta(days=overdue_depose_days()),
        ),
    )


@dataclass(frozen=True)
class DossierFilters:
    campaign_id: int | None = None
    state: str | None = None
    qpv: str | None = None
    orientation: str | None = None
    financeur: str | None = None
    overdue: bool = False
    text: str | None = None


@dataclass
class DossierPage:
    items: list[Dossier]
    total: int  # matching every filter
    counts: dict[str, int] = field(default_factory=dict)  # by state, matching every filter but the state

    def ordered_counts(self) -> list[tuple[str, int]]:
        return [(s, self.counts[s]) for s in STATES if self.counts.get(s)]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def where_clauses(session: Session, f: DossierFilters, now: datetime) -> list[ColumnElement[bool]]:
    """Every filter but the state, as SQL conditions on `Dossier`."""
    out: list[ColumnElement[bool]] = []
    if f.campaign_id is not None:
        out.append(Dossier.campaign_id == f.campaign_id)
    if f.qpv:
        out.append(
            exists().where(
                DossierTarget.dossier_id == Dossier.id,
                DossierTarget.kind == "qpv",
                DossierTarget.code == f.qpv,
            )
        )
    if f.orientation:
        # the node itself and its descendants (A.1, A.1.2…): one index range [A, A/) on every database
        # (with the state beside it in the index, the counts by state never read a row), then A or A.…
        code = f.orientation
        out.append(
            and_(
                Dossier.orientation_code >= code,
                Dossier.orientation_code < code + "/",
                or_(Dossier.orientation_code == code, Dossier.orientation_code >= code + "."),
            )
        )
    if f.financeur:
        out.append(
            exists().where(
                Cofinancement.dossier_id == Dossier.id,
                Cofinancement.financeur_id == Financeur.id,
                Financeur.code == f.financeur,
            )
        )
    if f.overdue:
        out.append(overdue_clause(now, contract_days(session, now)))
    if f.text and f.text.strip():
        pattern = _like(f.text.strip())
        porteurs = select(Organisation.id).where(Organisation.name.ilike(pattern, escape="\\"))
        out.append(
            or_(
                Dossier.number.ilike(pattern, escape="\\"),
                Dossier.title.ilike(pattern, escape="\\"),
                Dossier.organisation_id.in_(porteurs),
            )
        )
    return out


def counts_by_state(session: Session, but_state: Select[Dossier]) -> dict[str, int]:
    """One grouped query: how many dossiers match every filter but the state, per state."""
    rows = session.execute(but_state.with_only_columns(Dossier.state, func.count()).group_by(Dossier.state))
    return {state: n for state, n in rows}


def list_options(*, payments: bool = False) -> list[LoaderOption]:
    """What a list row shows besides the dossier: its porteur and its lines (and their payments)."""
    lines = selectinload(Dossier.cofinancements)
    options: list[LoaderOption] = [
        selectinload(Dossier.organisation),
        lines.selectinload(Cofinancement.financeur),
    ]
    if payments:
        options.append(selectinload(Dossier.cofinancements).selectinload(Cofinancement.payments))
    return options


def page(
    session: Session,
    user: User,
    f: DossierFilters,
    now: datetime,
    *,
    limit: int = 50,
    offset: int = 0,
    sort: str = DEFAULT_SORT,
    options: Sequence[LoaderOption] | None = None,
) -> DossierPage:
    """A page of the list, its total and the counts by state: a fixed number of statements."""
    but_state = visible_dossiers(user).where(*where_clauses(session, f, now))
    counts = counts_by_state(session, but_state)
    total = counts.get(f.state, 0) if f.state else sum(counts.values())
    limit = max(1, min(limit, MAX_LIMIT))
    if not total:
        return DossierPage(items=[], total=total, counts=counts)
    # the page's ids first (sorted from the indexes, never the whole rows), then those rows
    order = SORTS.get(sort, SORTS[DEFAULT_SORT])
    ids = list(
        session.scalars(
            (but_state.where(Dossier.state == f.state) if f.state else but_state)
            .with_only_columns(Dossier.id)
            .order_by(*order)
            .limit(limit)
            .offset(max(offset, 0))
        )
    )
    if not ids:
        return DossierPage(items=[], total=total, counts=counts)
    rows = session.scalars(
        select(Dossier).where(Dossier.id.in_(ids)).options(*(list_options() if options is None else options))
    )
    by_id = {d.id: d for d in cast(list[Dossier], list(rows))}
    return DossierPage(items=[by_id[i] for i in ids if i in by_id], total=total, counts=counts)


# --- a financer's lines ----------------------------------------------------------------------------

AWAITING_DECISION_STATES = ("instruit", "avise")
AWAITING_LINE_STATES = ("propose", "ajourne")


def awaiting_clause() -> ColumnElement[bool]:
    return and_(Dossier.state.in_(AWAITING_DECISION_STATES), Cofinancement.state.in_(AWAITING_LINE_STATES))


def awaiting_decision(dossier: Dossier, line: Cofinancement) -> bool:
    return dossier.state in AWAITING_DECISION_STATES and line.state in AWAITING_LINE_STATES


@dataclass
class LinePage:
    items: list[tuple[Dossier, Cofinancement]]
    total: int


def financer_lines(
    session: Session,
    user: User,
    campaign_id: int,
    *,
    awaiting: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> LinePage:
    """The caller's financer's lines in a campaign (those awaiting its decision only, if asked), by
    dossier number, a page at a time."""
    query = own_lines(user).where(Dossier.campaign_id == campaign_id)
    if awaiting:
        query = query.where(awaiting_clause())
    total = session.scalar(
        select(func.count()).select_from(query.with_only_columns(Cofinancement.id).subquery())
    )
    rows = session.execute(
        query.options(selectinload(Dossier.organisation), selectinload(Cofinancement.financeur))
        .order_by(Dossier.number)
        .limit(max(1, min(limit, MAX_LIMIT)))
        .offset(max(offset, 0))
    ).all()
    return LinePage(items=[(d, line) for d, line in rows], total=total or 0)


def has_awaiting(session: Session, user: User, campaign_id: int) -> bool:
    query = (
        own_lines(user)
        .with_only_columns(Dossier.id)
        .where(Dossier.campaign_id == campaign_id, awaiting_clause())
        .limit(1)
    )
    return session.scalar(query) is not None
