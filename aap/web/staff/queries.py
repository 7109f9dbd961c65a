"""Read-only queries of the staff pages: filtered lists and counts, a financer's lines, accounts.

Nothing here writes. Reads start from `visible_dossiers`, so a page never shows what the caller
could not read through the API. QPV and orientation live in the dossier's answers (JSON), found where
the form definition puts them (`aap.financing.programmation`): they are filtered in Python over the
visible dossiers, a few hundred rows per territory and year.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from aap.dossiers.access import visible_dossiers
from aap.financing.programmation import orientation_of, qpvs_of
from aap.models import (
    Campaign,
    Cofinancement,
    Dossier,
    Financeur,
    Orientation,
    Qpv,
    User,
)
from notifications.rules import default_rules
from workflows.dossier import STATES

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def overdue_depose_days() -> int:
    """After how many days a deposited dossier nobody has taken up is late: the delay of the
    instructeurs' reminder in notifications/rules.yaml, so that the list and the digest agree."""
    rule = default_rules().get("instructeurs_depots_en_attente")
    return rule.offsets[0] if rule is not None and rule.offsets else 5


NOT_IN_PROGRAMME = ("brouillon", "non_depose", "abandonne")
AWAITING_DECISION_STATES = ("instruit", "avise")
AWAITING_LINE_STATES = ("propose", "ajourne")


@dataclass
class Filters:
    campaign_id: int | None = None
    state: str | None = None
    qpv: str | None = None
    orientation: str | None = None
    financeur: str | None = None
    overdue: bool = False


def _with_lines(query):  # type: ignore[no-untyped-def]
    return query.options(
        selectinload(Dossier.cofinancements).selectinload(Cofinancement.financeur),
        selectinload(Dossier.organisation),
        selectinload(Dossier.campaign),
    )


def is_overdue(dossier: Dossier, now: datetime) -> bool:
    today = now.date()
    if dossier.state == "complements_demandes":
        return dossier.complements_due is not None and dossier.complements_due < today
    if dossier.state == "depose" and dossier.deposited_at is not None:
        return dossier.deposited_at < now - timedelta(days=overdue_depose_days())
    return False


def _matches(dossier: Dossier, f: Filters, now: datetime) -> bool:
    if f.qpv and f.qpv not in qpvs_of(dossier):
        return False
    if f.orientation:
        code = orientation_of(dossier) or ""
        if code != f.orientation and not code.startswith(f.orientation + "."):
            return False
    return not (f.overdue and not is_overdue(dossier, now))


def filtered_dossiers(
    session: Session, user: User, f: Filters, now: datetime
) -> tuple[list[Dossier], Counter[str]]:
    """The dossiers matching every filter, and the counts per state of those matching the others."""
    query = visible_dossiers(user)
    if f.campaign_id is not None:
        query = query.where(Dossier.campaign_id == f.campaign_id)
    if f.financeur:
        query = query.where(
            exists().where(
                Cofinancement.dossier_id == Dossier.id,
                Cofinancement.financeur_id == Financeur.id,
                Financeur.code == f.financeur,
            )
        )
    rows = [d for d in session.scalars(_with_lines(query).order_by(Dossier.id)) if _matches(d, f, now)]
    counts = Counter(d.state for d in rows)
    if f.state:
        rows = [d for d in rows if d.state == f.state]
    return rows, counts


def ordered_counts(counts: Counter[str]) -> list[tuple[str, int]]:
    return [(state, counts[state]) for state in STATES if counts.get(state)]


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


# --- the financer's work ---------------------------------------------------------------------------


def financer_lines(
    session: Session, user: User, campaign_id: int | None
) -> list[tuple[Dossier, Cofinancement]]:
    """The dossiers soliciting the caller's financer, with its line on each."""
    query = visible_dossiers(user)
    if campaign_id is not None:
        query = query.where(Dossier.campaign_id == campaign_id)
    out = []
    for d in session.scalars(_with_lines(query).order_by(Dossier.number)):
        for line in d.cofinancements:
            if line.financeur_id == user.financeur_id:
                out.append((d, line))
    return out


def awaiting_decision(dossier: Dossier, line: Cofinancement) -> bool:
    return dossier.state in AWAITING_DECISION_STATES and line.state in AWAITING_LINE_STATES


# --- dashboard -------------------------------------------------------------------------------------


def accorded_lines(session: Session, user: User, campaign_id: int) -> list[tuple[Dossier, Cofinancement]]:
    query = visible_dossiers(user).where(Dossier.campaign_id == campaign_id)
    out = []
    for d in session.scalars(_with_lines(query)):
        for line in d.cofinancements:
            if line.decision != "accorde" or line.montant_accorde is None:
                continue
            if user.role == "financeur" and line.financeur_id != user.financeur_id:
                continue
            out.append((d, line))
    return out


def default_campaign(session: Session, campaigns: list[Campaign]) -> Campaign | None:
    """The most recent campaign with a decision (what a dashboard has to show), else the most recent."""
    for c in campaigns:
        decided = session.scalar(
            select(func.count())
            .select_from(Cofinancement)
            .join(Dossier, Dossier.id == Cofinancement.dossier_id)
            .where(Dossier.campaign_id == c.id, Cofinancement.decision.is_not(None))
        )
        if decided:
            return c
    return campaigns[0] if campaigns else None


def users_of_territory(session: Session, territory_id: int | None) -> list[User]:
    """The accounts of the territory: its staff, its financers' agents, its organisations' porteurs."""
    from aap.accounts.staff import accounts_of_territory

    query = (
        select(User)
        .options(selectinload(User.financeur), selectinload(User.organisations))
        .where(User.id.in_(accounts_of_territory(territory_id)))
        .order_by(User.role, User.email)
    )
    return list(session.scalars(query))
