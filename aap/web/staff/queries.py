"""Read-only queries of the staff pages: filtered lists, counts, the programme table, dashboard figures.

Nothing here writes. Reads start from `visible_dossiers`, so a page never shows what the caller
could not read through the API. QPV and orientation live in the dossier's answers (JSON): they are
filtered in Python over one campaign's dossiers, a few hundred rows per territory and year.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import median
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from aap.dossiers.access import visible_dossiers
from aap.models import (
    Campaign,
    Cofinancement,
    Dossier,
    Financeur,
    Orientation,
    Payment,
    Qpv,
    User,
)
from workflows.dossier import STATES

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# A deposited dossier nobody has taken up after this many days is late.
OVERDUE_DEPOSE_DAYS = 15
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


def action_of(dossier: Dossier) -> dict[str, Any]:
    action = (dossier.answers or {}).get("action")
    return action if isinstance(action, dict) else {}


def qpvs_of(dossier: Dossier) -> list[str]:
    value = action_of(dossier).get("qpv")
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def orientation_of(dossier: Dossier) -> str | None:
    value = action_of(dossier).get("orientation")
    return value if isinstance(value, str) and value else None


def is_overdue(dossier: Dossier, now: datetime) -> bool:
    today = now.date()
    if dossier.state == "complements_demandes":
        return dossier.complements_due is not None and dossier.complements_due < today
    if dossier.state == "depose" and dossier.deposited_at is not None:
        return dossier.deposited_at < now - timedelta(days=OVERDUE_DEPOSE_DAYS)
    return False


def _matches(dossier: Dossier, f: Filters, now: datetime) -> bool:
    if f.qpv and f.qpv not in qpvs_of(dossier):
        return False
    if f.orientation:
        code = orientation_of(dossier) or ""
        if code != f.orientation and not code.startswith(f.orientation + "."):
            return False
    return not (f.overdue and not is_overdue(dossier, now))


def filtered_dossiers(session: Session, user: User, f: Filters, now: datetime) -> tuple[list[Dossier], Counter[str]]:
    """The dossiers matching every filter, and the counts per state of those matching the others."""
    query = visible_dossiers(user)
    if f.campaign_id is not None:
        query = query.where(Dossier.campaign_id == f.campaign_id)
    if f.financeur:
        query = query.where(exists().where(
            Cofinancement.dossier_id == Dossier.id, Cofinancement.financeur_id == Financeur.id,
            Financeur.code == f.financeur,
        ))
    rows = [d for d in session.scalars(_with_lines(query).order_by(Dossier.id)) if _matches(d, f, now)]
    counts = Counter(d.state for d in rows)
    if f.state:
        rows = [d for d in rows if d.state == f.state]
    return rows, counts


def ordered_counts(counts: Counter[str]) -> list[tuple[str, int]]:
    return [(state, counts[state]) for state in STATES if counts.get(state)]


def qpv_options(session: Session, territory_id: int | None) -> list[tuple[str, str]]:
    rows = session.execute(select(Qpv.code, Qpv.name).where(Qpv.territory_id == territory_id).order_by(Qpv.id))
    return [(c, n) for c, n in rows]


def orientations(session: Session, territory_id: int | None) -> list[Orientation]:
    return list(session.scalars(
        select(Orientation).where(Orientation.territory_id == territory_id).order_by(Orientation.position)
    ))


def financeurs(session: Session, territory_id: int | None) -> list[Financeur]:
    return list(session.scalars(select(Financeur).where(Financeur.territory_id == territory_id)
                                .order_by(Financeur.id)))


# --- the financer's work ---------------------------------------------------------------------------


def financer_lines(session: Session, user: User, campaign_id: int | None) -> list[tuple[Dossier, Cofinancement]]:
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


def _share(amount: Decimal, parts: int) -> list[Decimal]:
    """`amount` split in `parts` exact cents (the first parts take the leftover cents)."""
    base = (amount / parts).quantize(CENT, rounding=ROUND_HALF_UP)
    shares = [base] * parts
    shares[0] += amount - base * parts
    return shares


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


def amounts_by_financeur(lines: list[tuple[Dossier, Cofinancement]], campaign: Campaign,
                         user: User) -> list[tuple[str, Decimal]]:
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for _d, line in lines:
        totals[line.financeur_id] += line.montant_accorde or ZERO
    return [(cf.financeur.name, totals[cf.financeur_id]) for cf in campaign.financeurs
            if user.role != "financeur" or cf.financeur_id == user.financeur_id]


def amounts_by_orientation(session: Session, lines: list[tuple[Dossier, Cofinancement]],
                           territory_id: int) -> list[tuple[str, Decimal]]:
    """Accorded amounts per top-level orientation of the contract (A, B, C…)."""
    tree = orientations(session, territory_id)
    roots = [o for o in tree if o.parent_code is None]
    parent = {o.code: o.parent_code for o in tree}

    def root_of(code: str | None) -> str | None:
        seen = 0
        while code is not None and parent.get(code) is not None and seen < 20:
            code, seen = parent[code], seen + 1
        return code

    totals: dict[str | None, Decimal] = defaultdict(lambda: ZERO)
    for d, line in lines:
        code = orientation_of(d)
        totals[root_of(code) if code in parent else None] += line.montant_accorde or ZERO
    out = [(f"{o.code}. {o.label}", totals[o.code]) for o in roots]
    if totals.get(None):
        out.append(("Sans orientation", totals[None]))
    return out


def amounts_by_qpv(session: Session, lines: list[tuple[Dossier, Cofinancement]],
                   territory_id: int) -> list[tuple[str, Decimal]]:
    """Accorded amounts per QPV; a dossier for several quartiers is shared equally among them."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for d, line in lines:
        codes = qpvs_of(d) or ["?"]
        for code, part in zip(codes, _share(line.montant_accorde or ZERO, len(codes)), strict=True):
            totals[code] += part
    out = [(name, totals[code]) for code, name in qpv_options(session, territory_id)]
    if totals.get("?"):
        out.append(("Quartier non renseigné", totals["?"]))
    return out


def _days(start: datetime | date | None, end: datetime | date | None) -> int | None:
    if start is None or end is None:
        return None
    s = start.date() if isinstance(start, datetime) else start
    e = end.date() if isinstance(end, datetime) else end
    return (e - s).days


def delays(session: Session, user: User, campaign_id: int) -> list[dict[str, Any]]:
    """Median days of each step of the public service, and on how many dossiers it is measured."""
    query = visible_dossiers(user).where(Dossier.campaign_id == campaign_id, Dossier.deposited_at.is_not(None))
    dossiers = list(session.scalars(query))
    ids = [d.id for d in dossiers]
    first_payment: dict[int, date] = {}
    if ids:
        pay_query = (select(Cofinancement.dossier_id, func.min(Payment.paid_on))
                     .join(Payment, Payment.cofinancement_id == Cofinancement.id)
                     .where(Cofinancement.dossier_id.in_(ids)))
        if user.role == "financeur":
            pay_query = pay_query.where(Cofinancement.financeur_id == user.financeur_id)
        first_payment = {dossier_id: paid for dossier_id, paid in
                         session.execute(pay_query.group_by(Cofinancement.dossier_id))}
    steps = [
        ("Dépôt → décision des financeurs", [_days(d.deposited_at, d.decided_at) for d in dossiers]),
        ("Décision → convention (notification)", [_days(d.decided_at, d.conventionne_at) for d in dossiers]),
        ("Convention → premier paiement", [_days(d.conventionne_at, first_payment.get(d.id)) for d in dossiers]),
        ("Dépôt → premier paiement", [_days(d.deposited_at, first_payment.get(d.id)) for d in dossiers]),
    ]
    out = []
    for label, values in steps:
        measured = [v for v in values if v is not None]
        out.append({"label": label, "median": median(measured) if measured else None, "count": len(measured)})
    return out


def default_campaign(session: Session, campaigns: list[Campaign]) -> Campaign | None:
    """The most recent campaign with a decision (what a dashboard has to show), else the most recent."""
    for c in campaigns:
        decided = session.scalar(
            select(func.count()).select_from(Cofinancement).join(Dossier, Dossier.id == Cofinancement.dossier_id)
            .where(Dossier.campaign_id == c.id, Cofinancement.decision.is_not(None))
        )
        if decided:
            return c
    return campaigns[0] if campaigns else None


def users_of_territory(session: Session, territory_id: int | None) -> list[User]:
    """The accounts of the territory: its staff, its financers' agents, its organisations' porteurs."""
    from aap.models import Membership, Organisation

    of_financeur = select(Financeur.id).where(Financeur.territory_id == territory_id)
    of_orgs = (select(Membership.user_id).join(Organisation, Organisation.id == Membership.organisation_id)
               .where(Organisation.territory_id == territory_id))
    query = (select(User).options(selectinload(User.financeur), selectinload(User.organisations))
             .where((User.territory_id == territory_id) | User.financeur_id.in_(of_financeur)
                    | User.id.in_(of_orgs))
             .order_by(User.role, User.email))
    return list(session.scalars(query))
