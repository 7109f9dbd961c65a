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

from sqlalchemy import Date, Integer, Select, and_, case, cast, func, select, type_coerce
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from aap.campaigns.service import get_campaign
from aap.cpo import totaux as cpo_totaux
from aap.dossiers.access import sees_payments_of, visible_dossiers
from aap.errors import Forbidden
from aap.models import (
    Campaign,
    CampaignSum,
    Cofinancement,
    Dossier,
    DossierTarget,
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
# a dossier's places (QPV and hors QPV), from the one table of its places; aliased, so that who-sees-what
# conditions on `dossier_targets` (a commune's agent) stay correlated subqueries of their own
PLACE = aliased(DossierTarget, name="place")
PLACES_OF_DOSSIER = and_(PLACE.dossier_id == Dossier.id, PLACE.kind == "qpv")


@dataclass
class Sums:
    dossiers: int = 0
    demande: Decimal = ZERO
    propose: Decimal = ZERO
    accorde: Decimal = ZERO
    paye: Decimal = ZERO
    accordees: int = 0  # accorded lines (the CPO share's actions), not part of `out`

    def add(self, other: "Sums") -> None:
        self.dossiers += other.dossiers
        self.accordees += other.accordees
        for k in AMOUNT_KEYS:
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def out(self) -> dict[str, Any]:
        return {"dossiers": self.dossiers, **{k: getattr(self, k) for k in AMOUNT_KEYS}}


@dataclass
class Figures:
    """One set of figures: the whole, by orientation node, by orientation root, by QPV."""

    total: Sums = field(default_factory=Sums)
    orientations: list[dict[str, Any]] = field(default_factory=list)
    racines: list[dict[str, Any]] = field(default_factory=list)
    qpv: list[dict[str, Any]] = field(default_factory=list)
    # quartiers de veille, territoires à enjeux: their money is never counted as QPV money (P147)
    hors_qpv: list[dict[str, Any]] = field(default_factory=list)


# --- the SQL -------------------------------------------------------------------------------------
#
# Two kinds of grouped query, each one join over the campaign's rows: the lines' amounts grouped by
# (orientation or QPV, financer), and the dossiers counted by orientation or QPV. Totals per financer,
# per orientation, overall, and a financer's own figures are sums over these few groups.

Key = tuple[str | None, int]  # (orientation or QPV code, financer id)


def _cents(column: Any) -> ColumnElement[int]:
    """A money column as its stored integer cents (summed as such, turned into euros once)."""
    return type_coerce(column, Integer)


def _euros(cents: Any) -> Decimal:
    return Decimal(int(cents or 0)) / 100


@dataclass
class Scope:
    """The counted dossiers: conditions on `Dossier` (campaign, states, what the caller may see)."""

    where: list[ColumnElement[bool]]


def line_groups(session: Session, scope: Scope, by_qpv: bool) -> dict[Key, Sums]:
    key = PLACE.code if by_qpv else Dossier.orientation_code
    accorde = case(
        (Cofinancement.decision == "accorde", func.coalesce(_cents(Cofinancement.montant_accorde), 0)),
        else_=0,
    )
    lines = (
        select(
            key.label("key"),
            Cofinancement.financeur_id,
            func.count().label("n"),
            func.sum(_cents(Cofinancement.montant_demande)).label("demande"),
            func.sum(func.coalesce(_cents(Cofinancement.montant_propose), 0)).label("propose"),
            func.sum(accorde).label("accorde"),
            func.sum(case((Cofinancement.decision == "accorde", 1), else_=0)).label("accordees"),
        )
        .select_from(Cofinancement)
        .join(Dossier, Dossier.id == Cofinancement.dossier_id)
        .where(*scope.where)
        .group_by(key, Cofinancement.financeur_id)
    )
    paid = (
        select(key.label("key"), Cofinancement.financeur_id, func.sum(_cents(Payment.montant)).label("paye"))
        .select_from(Payment)
        .join(Cofinancement, Cofinancement.id == Payment.cofinancement_id)
        .join(Dossier, Dossier.id == Cofinancement.dossier_id)
        .where(*scope.where)
        .group_by(key, Cofinancement.financeur_id)
    )
    if by_qpv:
        lines = lines.join(PLACE, PLACES_OF_DOSSIER)
        paid = paid.join(PLACE, PLACES_OF_DOSSIER)
    out = {
        (r.key, r.financeur_id): Sums(
            r.n, _euros(r.demande), _euros(r.propose), _euros(r.accorde), accordees=int(r.accordees or 0)
        )
        for r in session.execute(lines)
    }
    for r in session.execute(paid):
        out.setdefault((r.key, r.financeur_id), Sums()).paye = _euros(r.paye)
    return out


def dossier_counts(session: Session, scope: Scope, by_qpv: bool) -> dict[str | None, int]:
    key = PLACE.code if by_qpv else Dossier.orientation_code
    query = select(key, func.count()).select_from(Dossier).where(*scope.where).group_by(key)
    if by_qpv:
        query = query.join(PLACE, PLACES_OF_DOSSIER)
    return {k: n for k, n in session.execute(query)}


def _roll(
    groups: dict[Key, Sums], counts: dict[str | None, int] | None, financeur_id: int | None
) -> dict[str | None, Sums]:
    """Per code: the lines' sums (one financer's only, if given) and the dossiers counted.

    Without a financer, `counts` gives the dossiers; with one, its lines are its dossiers (one line
    per dossier and financer)."""
    out: dict[str | None, Sums] = {}
    for (code, fid), s in groups.items():
        if financeur_id is not None and fid != financeur_id:
            continue
        target = out.setdefault(code, Sums())
        target.add(
            Sums(s.dossiers if financeur_id is not None else 0, s.demande, s.propose, s.accorde, s.paye)
        )
    if financeur_id is None and counts is not None:
        for code, n in counts.items():
            out.setdefault(code, Sums()).dossiers = n
    return out


def _days_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(func.date(end)) - func.julianday(func.date(start)), Integer)
    return cast(end, Date) - cast(start, Date)


def _histogram(session: Session, days: Select[Any]) -> dict[int, int]:
    """A column of day counts as {days: how many} (one grouped query, a few hundred rows at most)."""
    column = days.subquery().c[0]
    return {
        int(d): n for d, n in session.execute(select(column, func.count()).group_by(column)) if d is not None
    }


def median_of(histogram: dict[int, int]) -> dict[str, Any]:
    """The median of the day counts a histogram holds, and how many there are."""
    ordered = sorted((d, n) for d, n in histogram.items() if n > 0)
    total = sum(n for _, n in ordered)
    if not total:
        return {"median_jours": None, "dossiers": 0}

    def nth(index: int) -> int:  # the index-th value (0-based) in sorted order
        seen = 0
        for value, n in ordered:
            seen += n
            if index < seen:
                return value
        return ordered[-1][0]

    middle = (total - 1) // 2
    value: float | int = nth(middle) if total % 2 else (nth(middle) + nth(middle + 1)) / 2
    return {"median_jours": value, "dossiers": total}


def delay_histograms(session: Session, scope: "Scope") -> dict[str, dict[int, int]]:
    """Per délai, {days: how many dossiers (or accorded lines)} over the scope."""
    decided = Dossier.decided_at.is_not(None)
    first_paid = (
        select(Cofinancement.decided_at.label("decided_at"), func.min(Payment.paid_on).label("paid_on"))
        .join(Payment, Payment.cofinancement_id == Cofinancement.id)
        .join(Dossier, Dossier.id == Cofinancement.dossier_id)
        .where(
            *scope.where,
            Cofinancement.decision == "accorde",
            Cofinancement.decided_at.is_not(None),
        )
        .group_by(Cofinancement.id, Cofinancement.decided_at)
        .subquery()
    )
    return {
        "depot_decision": _histogram(
            session,
            select(_days_between(session, Dossier.deposited_at, Dossier.decided_at)).where(
                *scope.where, Dossier.deposited_at.is_not(None), decided
            ),
        ),
        "decision_convention": _histogram(
            session,
            select(_days_between(session, Dossier.decided_at, Dossier.conventionne_at)).where(
                *scope.where, decided, Dossier.conventionne_at.is_not(None)
            ),
        ),
        "decision_premier_paiement": _histogram(
            session, select(_days_between(session, first_paid.c.decided_at, first_paid.c.paid_on))
        ),
    }


# --- the figures ---------------------------------------------------------------------------------


@dataclass
class Names:
    financeurs: list[tuple[int, str, str]]  # (id, code, name) in the campaign's order
    orientations: list[Orientation]
    qpvs: dict[str, str]
    kinds: dict[str, str]  # place code -> `qpv`, `quartier_veille` or `territoire_enjeux`

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
        kinds=place_kinds(session, territory_id),
    )


def _figures(by_orientation: dict[str | None, Sums], by_qpv: dict[str | None, Sums], names: Names) -> Figures:
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
    places = sorted(((c, s) for c, s in by_qpv.items() if c is not None), key=lambda kv: kv[0])
    figures.qpv = [
        {"qpv": code, "name": names.qpvs.get(code, code), **s.out()}
        for code, s in places
        if names.kinds.get(code, "qpv") == "qpv"
    ]
    figures.hors_qpv = [
        {"code": code, "name": names.qpvs.get(code, code), "kind": names.kinds[code], **s.out()}
        for code, s in places
        if names.kinds.get(code, "qpv") != "qpv"
    ]
    return figures


def cpo_shares(
    session: Session, user: User, campaign: Campaign, accorded: dict[int, tuple[Decimal, int]] | None = None
) -> list[dict[str, Any]]:
    """Per financer: the share of its accorded money under a CPO, against the 50 % target, from the
    CPO domain's grouped queries (`aap.cpo.totaux`), as Decimals. `accorded`: each financer's accorded
    money and lines when already known (the kept totals)."""
    return [
        {
            **share,
            "montant_cpo": Decimal(share["montant_cpo"]),
            "montant_total": Decimal(share["montant_total"]),
            "part": Decimal(share["part"]),
            "cible": Decimal(share["cible"]),
        }
        for share in cpo_totaux.cpo_shares(session, user, campaign, accorded)
    ]


def place_kinds(session: Session, territory_id: int) -> dict[str, str]:
    """QPV code -> `qpv`, `quartier_veille` or `territoire_enjeux`."""
    return dict(session.execute(select(Qpv.code, Qpv.kind).where(Qpv.territory_id == territory_id)).all())


def _summary_covers(user: User, campaign: Campaign) -> bool:
    """Staff of the campaign's territory see every dossier of it (`visible_dossiers`): the kept
    totals are theirs. A financer's visible dossiers are its own selection: counted live."""
    return user.role in ("admin", "instructeur") and user.territory_id == campaign.territory_id


def _from_summary(
    session: Session, campaign_id: int
) -> tuple[
    dict[Key, Sums], dict[str | None, int], dict[Key, Sums], dict[str | None, int], dict[str, dict[int, int]]
]:
    """The kept totals in the shapes of `line_groups`, `dossier_counts` and `delay_histograms`."""
    from aap.financing import summary

    kept = summary.stored(session, campaign_id)
    groups: dict[str, dict[Key, Sums]] = {"o": {}, "q": {}}
    counts: dict[str, dict[str | None, int]] = {"o": {}, "q": {}}
    for (_c, dim, code, fid), (n, *cents) in kept.sums.items():
        if dim == summary.ACCORDED:
            continue  # each financer's accorded lines: `kept_accorded`
        if fid == summary.COUNT:
            counts[dim][code or None] = n
        else:
            demande, propose, accorde, paye = (_euros(v) for v in cents)
            groups[dim][(code or None, fid)] = Sums(n, demande, propose, accorde, paye)
    histograms: dict[str, dict[int, int]] = {}
    for (_c, kind, days), n in kept.delays.items():
        histograms.setdefault(kind, {})[days] = n
    return groups["o"], counts["o"], groups["q"], counts["q"], histograms


def kept_accorded(session: Session, campaign_id: int) -> dict[int, tuple[Decimal, int]]:
    """Each financer's accorded money and accorded lines in the campaign, from the kept totals."""
    from aap.financing import summary

    return {
        fid: (_euros(accorde), n)
        for fid, n, accorde in session.execute(
            select(CampaignSum.financeur_id, CampaignSum.n, CampaignSum.accorde).where(
                CampaignSum.campaign_id == campaign_id, CampaignSum.dim == summary.ACCORDED
            )
        )
        if n
    }


def totaux(session: Session, user: User, campaign_id: int) -> dict[str, Any]:
    """Every dashboard figure of a campaign, for this caller (amounts as Decimal)."""
    if user.role not in ("admin", "instructeur", "financeur"):
        raise Forbidden("Les totaux sont réservés aux partenaires du contrat de ville.", code="role_interdit")
    campaign = get_campaign(session, user, campaign_id)
    names = _names(session, campaign)
    visible = visible_dossiers(user).whereclause
    scope = Scope(
        where=[
            Dossier.campaign_id == campaign.id,
            Dossier.state.in_(COUNTED_STATES),
            *([visible] if visible is not None else []),
        ]
    )
    accorded = None
    if _summary_covers(user, campaign):  # the whole campaign: its kept totals (`summary`)
        by_orientation, counts_o, by_qpv, counts_q, histograms = _from_summary(session, campaign.id)
        accorded = kept_accorded(session, campaign.id)
    else:
        by_orientation = line_groups(session, scope, by_qpv=False)
        by_qpv = line_groups(session, scope, by_qpv=True)
        counts_o = dossier_counts(session, scope, by_qpv=False)
        counts_q = dossier_counts(session, scope, by_qpv=True)
        histograms = delay_histograms(session, scope)
    every = _figures(
        _roll(by_orientation, counts_o, None),
        _roll(by_qpv, counts_q, None),
        names,
    )
    per_financeur: dict[int, Sums] = {}
    for (_code, fid), sums in by_orientation.items():
        per_financeur.setdefault(fid, Sums()).add(sums)
    known = {fid for fid, _, _ in names.financeurs}
    extra = [
        (f.id, f.code, f.name)
        for f in session.scalars(select(Financeur).where(Financeur.id.in_(set(per_financeur) - known)))
    ]
    financeurs = [
        {
            "financeur": code,
            "financeur_name": name,
            **per_financeur.get(fid, Sums()).out(),
            **({} if sees_payments_of(user, fid) else {"paye": None}),
        }
        for fid, code, name in names.financeurs + extra
    ]
    own = None
    if user.role == "financeur" and user.financeur_id is not None:
        fid = user.financeur_id
        mine = _figures(_roll(by_orientation, None, fid), _roll(by_qpv, None, fid), names)
        own = {
            "financeur": next((c for i, c, _ in names.financeurs if i == fid), None),
            "total": mine.total.out(),
            "orientations": mine.orientations,
            "orientations_racines": mine.racines,
            "qpv": mine.qpv,
            "hors_qpv": mine.hors_qpv,
        }
    return {
        "campaign_id": campaign.id,
        "total": every.total.out(),
        "financeurs": financeurs,
        "orientations": every.orientations,
        "orientations_racines": every.racines,
        "qpv": every.qpv,
        "hors_qpv": every.hors_qpv,
        "delais": {kind: median_of(histograms.get(kind, {})) for kind in DELAYS},
        "propre": own,
        "cpo": cpo_shares(session, user, campaign, accorded),
    }
