"""The annual « rapport de suivi et de bilan » of a campaign, computed with grouped SQL queries.

Figures come from the filed bilans (`depose` and `valide`: the porteur's last word), through their
figure rows (`bilan_figures`), so the report adds up to exactly what the bilans say; counts of
bilans and the délais of the year come from the dossiers themselves.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from aap.bilans import focus
from aap.bilans.repository import FILED
from aap.bilans.service import BILAN_DOSSIER_STATES
from aap.campaigns.service import get_campaign
from aap.clock import territory_today
from aap.errors import Forbidden
from aap.models import (
    Bilan,
    BilanFigure,
    Campaign,
    Dossier,
    FocusParticipation,
    FocusSession,
    Orientation,
    Qpv,
    User,
)
from workflows.labels import REPORT_DELAY_LABELS

ZERO = Decimal("0.00")
DELAYS = (
    ("depot_decision", Dossier.deposited_at, Dossier.decided_at),
    ("decision_convention", Dossier.decided_at, Dossier.conventionne_at),
    ("convention_bilan", Dossier.conventionne_at, Dossier.bilan_deposited_at),
    ("bilan_validation", Bilan.deposited_at, Bilan.validated_at),
)


def _money(value: Any) -> str:
    return f"{Decimal(value or 0):.2f}"


def _days_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(end) - func.julianday(start)
    return func.extract("epoch", end - start) / 86400


def _filed(campaign_id: int) -> Any:
    return and_(Dossier.campaign_id == campaign_id, Bilan.state.in_(FILED))


def _figures(session: Session, campaign_id: int, dimension: str) -> list[tuple[str, Decimal, Decimal]]:
    rows = session.execute(
        select(
            BilanFigure.key,
            func.coalesce(func.sum(BilanFigure.prevu), 0),
            func.coalesce(func.sum(BilanFigure.realise), 0),
        )
        .join(Bilan, Bilan.id == BilanFigure.bilan_id)
        .join(Dossier, Dossier.id == Bilan.dossier_id)
        .where(_filed(campaign_id), BilanFigure.dimension == dimension)
        .group_by(BilanFigure.key)
        .order_by(BilanFigure.key)
    )
    return [(key, Decimal(str(p)), Decimal(str(r))) for key, p, r in rows]


def _bilan_counts(session: Session, campaign: Campaign, today: date) -> dict[str, int]:
    expected = and_(Dossier.campaign_id == campaign.id, Dossier.state.in_(BILAN_DOSSIER_STATES))
    outstanding = or_(Bilan.id.is_(None), Bilan.state.in_(("a_faire", "brouillon", "a_corriger")))
    due = func.coalesce(Bilan.due_date, Dossier.bilan_due)
    row = session.execute(
        select(
            func.count(Dossier.id),
            func.count(Bilan.id).filter(Bilan.state.in_(FILED)),
            func.count(Bilan.id).filter(Bilan.state == "valide"),
            func.count(Dossier.id).filter(outstanding, due < today),
            func.count(Bilan.id).filter(Bilan.state == "a_corriger"),
        )
        .select_from(Dossier)
        .outerjoin(Bilan, Bilan.dossier_id == Dossier.id)
        .where(expected)
    ).one()
    return {
        "attendus": row[0],
        "deposes": row[1],
        "valides": row[2],
        "en_retard": row[3],
        "a_corriger": row[4],
    }


def _delays(session: Session, campaign_id: int) -> list[dict[str, Any]]:
    out = []
    for code, start, end in DELAYS:
        days = _days_between(session, start, end)
        avg, count = session.execute(
            select(func.avg(days), func.count(Dossier.id))
            .select_from(Dossier)
            .outerjoin(Bilan, Bilan.dossier_id == Dossier.id)
            .where(Dossier.campaign_id == campaign_id, start.is_not(None), end.is_not(None))
        ).one()
        out.append(
            {
                "code": code,
                "label": REPORT_DELAY_LABELS[code],
                "dossiers": count,
                "moyenne_jours": round(float(avg), 1) if avg is not None else None,
            }
        )
    return out


def _focus(session: Session, campaign: Campaign) -> dict[str, Any]:
    sessions = list(
        session.scalars(
            select(FocusSession)
            .where(FocusSession.territory_id == campaign.territory_id, FocusSession.annee == campaign.year)
            .order_by(FocusSession.date)
        )
    )
    ids = [s.id for s in sessions]
    brought = session.execute(
        select(
            func.count(func.distinct(FocusParticipation.organisation_id)),
            func.coalesce(func.sum(FocusParticipation.femmes + FocusParticipation.hommes), 0),
        ).where(FocusParticipation.focus_id.in_(ids))
    ).one()
    said = focus.contributions(session, ids)
    return {
        "seances": [
            {"id": s.id, "date": s.date.isoformat(), "heure": s.heure, "lieu": s.lieu, "qpv": s.qpv_code}
            for s in sessions
        ],
        "operateurs": brought[0],
        "beneficiaires": int(brought[1]),
        "contributions": [focus.contribution_out(c) for fid in ids for c in said[fid]],
    }


def report(session: Session, user: User, campaign_id: int, now: datetime) -> dict[str, Any]:
    """The report as JSON (the PDF and the XLSX are drawn from this one dict), dated the day it is at
    `now` in the campaign's territory (a bilan is late from the day after its deadline there)."""
    if user.role not in ("admin", "instructeur", "financeur"):
        raise Forbidden("Le rapport de suivi est celui de l'équipe et des financeurs.", code="role_interdit")
    campaign = get_campaign(session, user, campaign_id)
    today = territory_today(campaign, now)
    cid = campaign.id
    names = {cf.financeur.code: cf.financeur.name for cf in campaign.financeurs}
    qpv_names = dict(
        session.execute(select(Qpv.code, Qpv.name).where(Qpv.territory_id == campaign.territory_id)).all()
    )
    orientation_labels = dict(
        session.execute(
            select(Orientation.code, Orientation.label).where(
                Orientation.territory_id == campaign.territory_id
            )
        ).all()
    )
    total = sum((r for _, _, r in _figures(session, cid, "total")), Decimal(0))
    by_financer = _figures(session, cid, "financeur")
    by_orientation = _figures(session, cid, "orientation")
    indicators = session.execute(
        select(Dossier.id, Dossier.number, Dossier.title, BilanFigure.key, BilanFigure.texte)
        .join(Bilan, Bilan.dossier_id == Dossier.id)
        .join(BilanFigure, BilanFigure.bilan_id == Bilan.id)
        .where(_filed(cid), BilanFigure.dimension == "droit_commun")
        .order_by(Dossier.number)
    ).all()
    return {
        "campaign": {"id": cid, "code": campaign.code, "year": campaign.year, "title": campaign.title},
        "date": today.isoformat(),
        "bilans": _bilan_counts(session, campaign, today),
        "beneficiaires": {
            "total": int(total),
            "par_sexe": {k: int(r) for k, _, r in _figures(session, cid, "sexe")},
            "par_age": {k: int(r) for k, _, r in _figures(session, cid, "age")},
            "par_qpv": {k: int(r) for k, _, r in _figures(session, cid, "qpv")},
            "qpv_noms": {
                k: qpv_names.get(k, "Hors quartier prioritaire") for k, _, _ in _figures(session, cid, "qpv")
            },
        },
        "montants": {
            "prevu": {k: _money(p) for k, p, _ in by_financer},
            "realise": {k: _money(r) for k, _, r in by_financer},
            "par_financeur": [
                {"financeur": k, "name": names.get(k, k), "prevu": _money(p), "realise": _money(r)}
                for k, p, r in by_financer
            ],
            "par_orientation": [
                {
                    "orientation": k,
                    "label": orientation_labels.get(k, k),
                    "prevu": _money(p),
                    "realise": _money(r),
                }
                for k, p, r in by_orientation
            ],
            "total_prevu": _money(sum((p for _, p, _ in by_financer), ZERO)),
            "total_realise": _money(sum((r for _, _, r in by_financer), ZERO)),
        },
        "indicateurs": [
            {"dossier_id": i, "dossier": n, "titre": t, "indicateur": k, "valeur": v}
            for i, n, t, k, v in indicators
        ],
        "focus": _focus(session, campaign),
        # what last autumn's focus said, for the team preparing this call (and its launch page)
        "focus_pour_cet_appel": [
            {**focus.contribution_out(c), "date": s.date.isoformat(), "lieu": s.lieu}
            for s, c in focus.for_next_call(session, campaign.territory_id, campaign.year)
        ],
        "delais": _delays(session, cid),
    }
