"""Totals for the dashboards: per financer, per orientation (and its roll-up), per QPV, and the delays.

Counted: the campaign's dossiers the caller may see, once deposited (drafts, non déposés and
abandoned aside). A dossier that targets several QPV counts in full in each of them (the QPV totals
overlap; the financer totals do not). Delays are medians in days, over the dossiers that went
through both dates: dépôt → décision (the last financer's decision), décision → convention, and per
accorded line, the financer's decision → its first payment.

Every figure is a grouped SQL query: the cost depends on the number of financers, orientations and
QPV, not on the number of dossiers. A financer's agent also gets `propre`: the same figures counted
on its own lines only (what its dashboard draws). The API (`GET /campaigns/{id}/totaux`) and the
dashboard page read this one service.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Integer, Select, case, cast, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from aap.campaigns.service import get_campaign
from aap.dossiers.access import visible_dossiers
from aap.errors import Forbidden
from aap.models import (
    Campaign,
    Cofinancement,
    Dossier,
    DossierQpv,
    Financeur,
    Orientation,
    Payment,
    Qpv,
    User,
)
from workflows.dossier import STATES

ZERO = Decimal("0.00")
COUNTED_STATES = tuple(s for s in STATES if s not in ("brouillon", "non_depose", "abandonne"))
DELAYS = ("depot_decision", "decision_convention", "decision_premier_paiement")
CPO_TARGET = Decimal("0.50")
AMOUNT_KEYS = ("demande", "propose", "accorde", "paye")


@dataclass
class Sums:
    dossiers: int = 0
    demande: Decimal = ZERO
    propose: Decimal = ZERO
    accorde: Decimal = ZERO
    paye: Decimal = ZERO

    def add(self, other: "Sums") -> None:
        self.dossiers += other.dossiers
        for k in AMOUNT_KEYS:
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def out(self) -> dict[str, Any]:
        return {"dossiers": self.dossiers, **{k: getattr(self, k) for k in AMOUNT_KEYS}}


def _sums(row: Any) -> Sums:
    return Sums(row.dossiers or 0, *(Decimal(int(getattr(row, k) or 0)) / 100 for k in AMOUNT_KEYS))


@dataclass
class Figures:
    """One set of figures: the whole, by orientation node, by orientation root, by QPV."""

    total: Sums = field(default_factory=Sums)
    orientations: list[dict[str, Any]] = field(default_factory=list)
    racines: list[dict[str, Any]] = field(default_factory=list)
    qpv: list[dict[str, Any]] = field(default_factory=list)


# --- the SQL -------------------------------------------------------------------------------------


def _cents(column: Any) -> ColumnElement[int]:
    """A money column as its stored integer cents (summed as such, turned into euros once)."""
    return type_coerce(column, Integer)


def _line_amounts(counted: Select[Any], financeur_id: int | None) -> Any:
    """Per line of the counted dossiers (one financer's only, if given): its amounts in cents."""
    paid = (
        select(Payment.cofinancement_id, func.sum(_cents(Payment.montant)).label("paye"))
        .group_by(Payment.cofinancement_id)
        .subquery()
    )
    query = (
        select(
            Cofinancement.dossier_id,
            Cofinancement.financeur_id,
            _cents(Cofinancement.montant_demande).label("demande"),
            func.coalesce(_cents(Cofinancement.montant_propose), 0).label("propose"),
            case(
                (
                    Cofinancement.decision == "accorde",
                    func.coalesce(_cents(Cofinancement.montant_accorde), 0),
                ),
                else_=0,
            ).label("accorde"),
            func.coalesce(paid.c.paye, 0).label("paye"),
        )
        .outerjoin(paid, paid.c.cofinancement_id == Cofinancement.id)
        .where(Cofinancement.dossier_id.in_(counted))
    )
    if financeur_id is not None:
        query = query.where(Cofinancement.financeur_id == financeur_id)
    return query.subquery()


def _amount_columns(source: Any) -> list[Any]:
    return [func.sum(getattr(source.c, k)).label(k) for k in AMOUNT_KEYS]


def _per_dossier(counted: Select[Any], lines: Any, *, only_with_lines: bool) -> Any:
    """Per counted dossier: its orientation and the sums of its lines (dossiers without lines: zero)."""
    per = select(lines.c.dossier_id, *_amount_columns(lines)).group_by(lines.c.dossier_id).subquery()
    query = select(
        Dossier.id,
        Dossier.orientation_code,
        *(func.coalesce(getattr(per.c, k), 0).label(k) for k in AMOUNT_KEYS),
    ).where(Dossier.id.in_(counted))
    query = (
        query.join(per, per.c.dossier_id == Dossier.id)
        if only_with_lines
        else query.outerjoin(per, per.c.dossier_id == Dossier.id)
    )
    return query.subquery()


def _by_financeur(session: Session, lines: Any) -> dict[int, Sums]:
    rows = session.execute(
        select(lines.c.financeur_id, func.count().label("dossiers"), *_amount_columns(lines)).group_by(
            lines.c.financeur_id
        )
    )
    return {row.financeur_id: _sums(row) for row in rows}


def _by_orientation(session: Session, dossiers: Any) -> dict[str | None, Sums]:
    rows = session.execute(
        select(
            dossiers.c.orientation_code, func.count().label("dossiers"), *_amount_columns(dossiers)
        ).group_by(dossiers.c.orientation_code)
    )
    return {row.orientation_code: _sums(row) for row in rows}


def _by_qpv(session: Session, dossiers: Any) -> dict[str, Sums]:
    rows = session.execute(
        select(DossierQpv.qpv_code, func.count().label("dossiers"), *_amount_columns(dossiers))
        .join(dossiers, dossiers.c.id == DossierQpv.dossier_id)
        .group_by(DossierQpv.qpv_code)
    )
    return {row.qpv_code: _sums(row) for row in rows}


def _days_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(func.date(end)) - func.julianday(func.date(start)), Integer)
    return cast(end, Date) - cast(start, Date)


def _median(session: Session, days: Select[Any]) -> dict[str, Any]:
    """The median of a column of day counts, by SQL (a count, then the one or two middle values)."""
    sub = days.subquery()
    column = sub.c[0]
    n = session.scalar(select(func.count()).select_from(sub)) or 0
    if not n:
        return {"median_jours": None, "dossiers": 0}
    middle = [
        int(v)
        for v in session.scalars(
            select(column).order_by(column).offset((n - 1) // 2).limit(1 if n % 2 else 2)
        )
    ]
    value: float | int = middle[0] if n % 2 else (middle[0] + middle[1]) / 2
    return {"median_jours": value, "dossiers": n}


def _delays(session: Session, counted: Select[Any]) -> dict[str, dict[str, Any]]:
    decided = Dossier.decided_at.is_not(None)
    first_paid = (
        select(Cofinancement.decided_at.label("decided_at"), func.min(Payment.paid_on).label("paid_on"))
        .join(Payment, Payment.cofinancement_id == Cofinancement.id)
        .where(
            Cofinancement.dossier_id.in_(counted),
            Cofinancement.decision == "accorde",
            Cofinancement.decided_at.is_not(None),
        )
        .group_by(Cofinancement.id, Cofinancement.decided_at)
        .subquery()
    )
    return {
        "depot_decision": _median(
            session,
            select(_days_between(session, Dossier.deposited_at, Dossier.decided_at)).where(
                Dossier.id.in_(counted), Dossier.deposited_at.is_not(None), decided
            ),
        ),
        "decision_convention": _median(
            session,
            select(_days_between(session, Dossier.decided_at, Dossier.conventionne_at)).where(
                Dossier.id.in_(counted), decided, Dossier.conventionne_at.is_not(None)
            ),
        ),
        "decision_premier_paiement": _median(
            session, select(_days_between(session, first_paid.c.decided_at, first_paid.c.paid_on))
        ),
    }


# --- the figures ---------------------------------------------------------------------------------


@dataclass
class Names:
    financeurs: list[tuple[int, str, str]]  # (id, code, name) in the campaign's order
    orientations: list[Orientation]
    qpvs: dict[str, str]

    def roots(self) -> dict[str, str]:
        """Each orientation code's top-level orientation."""
        parent = {o.code: o.parent_code for o in self.orientations}
        out: dict[str, str] = {}
        for o in self.orientations:
            code, hops = o.code, 0
            while parent.get(code) is not None and hops < 20:
                code, hops = parent[code] or code, hops + 1
            out[o.code] = code
        return out


def _names(session: Session, campaign: Campaign) -> Names:
    territory_id = campaign.territory_id
    return Names(
        financeurs=[(cf.financeur_id, cf.financeur.code, cf.financeur.name) for cf in campaign.financeurs],
        orientations=list(
            session.scalars(
                select(Orientation)
                .where(Orientation.territory_id == territory_id)
                .order_by(Orientation.position)
            )
        ),
        qpvs={
            code: name
            for code, name in session.execute(
                select(Qpv.code, Qpv.name).where(Qpv.territory_id == territory_id).order_by(Qpv.id)
            )
        },
    )


def _figures(session: Session, counted: Select[Any], names: Names, financeur_id: int | None) -> Figures:
    lines = _line_amounts(counted, financeur_id)
    per_dossier = _per_dossier(counted, lines, only_with_lines=financeur_id is not None)
    by_orientation = _by_orientation(session, per_dossier)
    labels = {o.code: o.label for o in names.orientations}
    figures = Figures()
    for sums in by_orientation.values():
        figures.total.add(sums)
    figures.orientations = [
        {"orientation": code, "label": labels.get(code or ""), **s.out()}
        for code, s in sorted(by_orientation.items(), key=lambda kv: kv[0] or "~")
    ]
    roots = names.roots()
    rolled: dict[str | None, Sums] = {o.code: Sums() for o in names.orientations if o.parent_code is None}
    for code, s in by_orientation.items():
        rolled.setdefault(roots.get(code or ""), Sums()).add(s)
    figures.racines = [
        {"orientation": code, "label": labels.get(code) if code else None, **s.out()}
        for code, s in rolled.items()
        if code is not None or s.dossiers
    ]
    figures.qpv = [
        {"qpv": code, "name": names.qpvs.get(code, code), **s.out()}
        for code, s in sorted(_by_qpv(session, per_dossier).items())
    ]
    return figures


def cpo_shares(
    session: Session, user: User, campaign: Campaign, per_financeur: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per financer: the share of its accorded money under a CPO, against the 50 % target.

    Placeholder until the CPO model lands (branch `cpo`): no CPO binds anyone yet, so every share
    is zero. It reads only the per-financer totals already computed, never the lines."""
    return [
        {
            "financeur": f["financeur"],
            "montant_cpo": ZERO,
            "montant_total": f["accorde"],
            "part": ZERO,
            "actions_cpo": 0,
            "actions_total": f["dossiers"],
            "cible": CPO_TARGET,
        }
        for f in per_financeur
    ]


def totaux(session: Session, user: User, campaign_id: int) -> dict[str, Any]:
    """Every dashboard figure of a campaign, for this caller (amounts as Decimal)."""
    if user.role not in ("admin", "instructeur", "financeur"):
        raise Forbidden("Les totaux sont réservés aux partenaires du contrat de ville.", code="role_interdit")
    campaign = get_campaign(session, user, campaign_id)
    names = _names(session, campaign)
    counted = (
        visible_dossiers(user)
        .with_only_columns(Dossier.id)
        .where(Dossier.campaign_id == campaign.id, Dossier.state.in_(COUNTED_STATES))
    )
    every = _figures(session, counted, names, None)
    per_financeur = _by_financeur(session, _line_amounts(counted, None))
    known = {fid for fid, _, _ in names.financeurs}
    extra = [
        (f.id, f.code, f.name)
        for f in session.scalars(select(Financeur).where(Financeur.id.in_(set(per_financeur) - known)))
    ]
    financeurs = [
        {"financeur": code, "financeur_name": name, **per_financeur.get(fid, Sums()).out()}
        for fid, code, name in names.financeurs + extra
    ]
    own = None
    if user.role == "financeur" and user.financeur_id is not None:
        mine = _figures(session, counted, names, user.financeur_id)
        own = {
            "financeur": next((c for fid, c, _ in names.financeurs if fid == user.financeur_id), None),
            "total": mine.total.out(),
            "orientations": mine.orientations,
            "orientations_racines": mine.racines,
            "qpv": mine.qpv,
        }
    return {
        "campaign_id": campaign.id,
        "total": every.total.out(),
        "financeurs": financeurs,
        "orientations": every.orientations,
        "orientations_racines": every.racines,
        "qpv": every.qpv,
        "delais": _delays(session, counted),
        "propre": own,
        "cpo": cpo_shares(session, user, campaign, financeurs),
    }
