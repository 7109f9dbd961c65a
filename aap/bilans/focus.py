"""The focus bénéficiaires: per territory and year, sessions where funded operators bring
beneficiaries (counted by profile, never named) and whose contributions prepare the next call.

The team (admin) creates sessions and records what was said; a porteur registers what it brings for
one of its funded dossiers. Everyone signed in reads the sessions of a territory: the contributions
carry no personal data and the next campaign's pages cite them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aap import access_log
from aap.dossiers import repository as dossier_reads
from aap.errors import Conflict, Forbidden, Invalid, NotFound
from aap.models import (
    Campaign,
    FocusContribution,
    FocusParticipation,
    FocusSession,
    Qpv,
    Territory,
    User,
)
from workflows.reasons import fr_date

AGE_BANDS = ("age_0_5", "age_6_11", "age_12_17", "age_18_25", "age_26_64", "age_65_plus")
FUNDED_STATES = ("conventionne", "bilan_depose", "cloture")


def _territory_of(user: User) -> int | None:
    if user.territory_id is not None:
        return user.territory_id
    for organisation in user.organisations:
        if organisation.territory_id is not None:
            return organisation.territory_id
    if user.financeur is not None:
        return user.financeur.territory_id
    return None


def _territory_id(session: Session, user: User, code: str | None) -> int:
    if code:
        found = session.scalar(select(Territory.id).where(Territory.code == code))
        if found is None:
            raise NotFound(f"Territoire « {code} » introuvable.", code="territoire_introuvable")
        return found
    own = _territory_of(user)
    if own is None:
        raise Invalid("Précisez le territoire (?territory=CODE).", code="territoire_requis")
    return own


def list_sessions(
    session: Session, user: User, territory: str | None, annee: int | None
) -> list[FocusSession]:
    tid = _territory_id(session, user, territory)
    query = select(FocusSession).where(FocusSession.territory_id == tid)
    if annee is not None:
        query = query.where(FocusSession.annee == annee)
    return list(session.scalars(query.order_by(FocusSession.date, FocusSession.id)))


def get_session(session: Session, focus_id: int) -> FocusSession:
    focus = session.get(FocusSession, focus_id)
    if focus is None:
        raise NotFound("Séance du focus bénéficiaires introuvable.", code="focus_introuvable")
    return focus


def totals(session: Session, focus_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per session, how many beneficiaries the operators bring and how many operators (in SQL)."""
    if not focus_ids:
        return {}
    rows = session.execute(
        select(
            FocusParticipation.focus_id,
            func.count(FocusParticipation.id),
            func.coalesce(func.sum(FocusParticipation.femmes), 0),
            func.coalesce(func.sum(FocusParticipation.hommes), 0),
        )
        .where(FocusParticipation.focus_id.in_(focus_ids))
        .group_by(FocusParticipation.focus_id)
    )
    return {
        fid: {"operateurs": n, "femmes": int(f), "hommes": int(h), "total": int(f) + int(h)}
        for fid, n, f, h in rows
    }


def contributions(session: Session, focus_ids: list[int]) -> dict[int, list[FocusContribution]]:
    out: dict[int, list[FocusContribution]] = {fid: [] for fid in focus_ids}
    if focus_ids:
        for c in session.scalars(
            select(FocusContribution)
            .where(FocusContribution.focus_id.in_(focus_ids))
            .order_by(FocusContribution.id)
        ):
            out[c.focus_id].append(c)
    return out


def participations(session: Session, user: User, focus_id: int) -> list[FocusParticipation]:
    """A porteur sees what its organisations registered; the team sees every operator's counts."""
    query = select(FocusParticipation).where(FocusParticipation.focus_id == focus_id)
    if user.role == "porteur":
        query = query.where(FocusParticipation.organisation_id.in_([o.id for o in user.organisations]))
    elif user.role not in ("admin", "instructeur"):
        return []
    found = list(session.scalars(query.order_by(FocusParticipation.id)))
    for participation in found:  # the beneficiaries an operator brought
        access_log.read(session, "focus_participations", participation.id)
    return found


def create_session(
    session: Session,
    user: User,
    *,
    day: date,
    heure: str | None,
    lieu: str,
    qpv: str | None,
    annee: int | None,
    now: datetime,
) -> FocusSession:
    if user.role != "admin" or user.territory_id is None:
        raise Forbidden("Seule l'équipe du contrat de ville organise le focus.", code="role_interdit")
    if qpv is not None:
        known = session.scalar(select(Qpv.id).where(Qpv.territory_id == user.territory_id, Qpv.code == qpv))
        if known is None:
            raise Invalid(
                f"Quartier « {qpv} » inconnu de ce territoire.",
                code="qpv_inconnu",
                errors=[{"path": "qpv", "code": "qpv_inconnu", "message": "quartier prioritaire inconnu"}],
            )
    focus = FocusSession(
        territory_id=user.territory_id,
        annee=annee or day.year,
        date=day,
        heure=heure,
        lieu=lieu.strip(),
        qpv_code=qpv,
        created_by_id=user.id,
        created_at=now,
    )
    session.add(focus)
    session.commit()
    return focus


def _check_counts(counts: dict[str, int]) -> tuple[int, int, dict[str, int]]:
    errors = []
    for key, value in counts.items():
        if key not in ("femmes", "hommes", *AGE_BANDS):
            errors.append(
                {"path": f"beneficiaires.{key}", "code": "unknown_field", "message": "profil inconnu"}
            )
        elif value < 0:
            errors.append({"path": f"beneficiaires.{key}", "code": "min", "message": "0 au moins"})
    errors.extend(
        {"path": f"beneficiaires.{key}", "code": "required", "message": "champ obligatoire"}
        for key in ("femmes", "hommes")
        if key not in counts
    )
    femmes, hommes = counts.get("femmes", 0), counts.get("hommes", 0)
    ages = {k: v for k, v in counts.items() if k in AGE_BANDS}
    if not errors and femmes + hommes == 0:
        errors.append(
            {"path": "beneficiaires", "code": "aucun", "message": "indiquez au moins un bénéficiaire"}
        )
    if not errors and ages and sum(ages.values()) != femmes + hommes:
        errors.append(
            {
                "path": "beneficiaires",
                "code": "beneficiaires_age",
                "message": f"le total par âge ({sum(ages.values())}) ne correspond pas au total par sexe "
                f"({femmes + hommes})",
            }
        )
    if errors:
        raise Invalid(
            "Participation refusée : " + errors[0]["message"] + ".",
            code="participation_invalide",
            errors=errors,
        )
    return femmes, hommes, ages


def register_participation(
    session: Session, user: User, focus_id: int, dossier_id: int, counts: dict[str, int], now: datetime
) -> FocusParticipation:
    """What an operator brings for one of its funded actions; registering again replaces the counts."""
    if user.role != "porteur":
        raise Forbidden("Seul un opérateur inscrit des bénéficiaires.", code="role_interdit")
    focus = get_session(session, focus_id)
    dossier = dossier_reads.get_dossier(session, user, dossier_id)
    if dossier.state not in FUNDED_STATES:
        raise Conflict(
            "Seules les actions financées (conventionnées) amènent des bénéficiaires au focus.",
            code="action_non_financee",
        )
    campaign_territory = session.scalar(
        select(Campaign.territory_id).where(Campaign.id == dossier.campaign_id)
    )
    if campaign_territory != focus.territory_id:
        raise Conflict("Cette séance est celle d'un autre territoire.", code="autre_territoire")
    femmes, hommes, ages = _check_counts(counts)
    row = session.scalar(
        select(FocusParticipation).where(
            FocusParticipation.focus_id == focus.id, FocusParticipation.dossier_id == dossier.id
        )
    )
    if row is None:
        row = FocusParticipation(
            focus_id=focus.id, dossier_id=dossier.id, organisation_id=dossier.organisation_id
        )
        session.add(row)
    row.femmes, row.hommes, row.ages = femmes, hommes, ages
    row.created_by_id, row.created_at = user.id, now
    session.commit()
    return row


def add_contribution(
    session: Session,
    user: User,
    focus_id: int,
    theme: str,
    texte: str,
    propositions: str | None,
    now: datetime,
) -> FocusContribution:
    focus = get_session(session, focus_id)
    if user.role != "admin" or user.territory_id != focus.territory_id:
        raise Forbidden(
            "Seule l'équipe du contrat de ville consigne les contributions.", code="role_interdit"
        )
    contribution = FocusContribution(
        focus_id=focus.id,
        theme=theme.strip(),
        texte=texte.strip(),
        propositions=(propositions or "").strip() or None,
        created_by_id=user.id,
        created_at=now,
    )
    session.add(contribution)
    session.commit()
    return contribution


def for_next_call(
    session: Session, territory_id: int, year: int
) -> list[tuple[FocusSession, FocusContribution]]:
    """The contributions of the focus that evaluated the year before `year`'s call (its preparation)."""
    rows = session.execute(
        select(FocusSession, FocusContribution)
        .join(FocusContribution, FocusContribution.focus_id == FocusSession.id)
        .where(FocusSession.territory_id == territory_id, FocusSession.annee == year - 1)
        .order_by(FocusSession.date, FocusContribution.id)
    )
    return [(s, c) for s, c in rows]


def session_out(
    focus: FocusSession,
    total: dict[str, int] | None,
    said: list[FocusContribution],
    registered: list[FocusParticipation],
) -> dict[str, Any]:
    return {
        "id": focus.id,
        "annee": focus.annee,
        "date": focus.date.isoformat(),
        "date_fr": fr_date(focus.date),
        "heure": focus.heure,
        "lieu": focus.lieu,
        "qpv": focus.qpv_code,
        "beneficiaires": total or {"operateurs": 0, "femmes": 0, "hommes": 0, "total": 0},
        "participations": [participation_out(p) for p in registered],
        "contributions": [contribution_out(c) for c in said],
    }


def participation_out(p: FocusParticipation) -> dict[str, Any]:
    return {
        "id": p.id,
        "focus_id": p.focus_id,
        "dossier_id": p.dossier_id,
        "organisation_id": p.organisation_id,
        "beneficiaires": {"femmes": p.femmes, "hommes": p.hommes, **(p.ages or {})},
        "total": p.femmes + p.hommes,
    }


def contribution_out(c: FocusContribution) -> dict[str, Any]:
    return {
        "id": c.id,
        "focus_id": c.focus_id,
        "theme": c.theme,
        "texte": c.texte,
        "propositions": c.propositions,
    }


def sessions_out(session: Session, user: User, sessions: list[FocusSession]) -> list[dict[str, Any]]:
    ids = [s.id for s in sessions]
    sums, said = totals(session, ids), contributions(session, ids)
    return [session_out(s, sums.get(s.id), said[s.id], participations(session, user, s.id)) for s in sessions]
