"""Validation by commune: each commune concerned validates its part of the programme (the dossiers of
its QPV and places) at its own instance; the programme is whole once every one has.

A dossier belongs to the part of every commune one of its QPV lies in (an action across two communes
is validated by both). Figures are SQL over the dossiers the caller may see (`visible_dossiers`)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, distinct, func, select
from sqlalchemy.orm import Session

from aap.campaigns.service import get_campaign
from aap.clock import territory_today
from aap.dossiers.access import visible_dossiers
from aap.errors import Conflict, Forbidden, Invalid, NotFound
from aap.models import (
    Campaign,
    CampaignCommune,
    Cofinancement,
    Commune,
    Dossier,
    DossierTarget,
    Financeur,
    Qpv,
    User,
)
from workflows.dossier import STATE_LABELS

# a commune's part: the dossiers deposited and still in the programme
PART_STATES = (
    "depose",
    "en_instruction",
    "complements_demandes",
    "instruit",
    "avise",
    "programme",
    "conventionne",
    "bilan_depose",
    "cloture",
)
# not yet through the comité technique: a commune cannot validate them
NOT_READY = ("depose", "en_instruction", "complements_demandes", "instruit")
ZERO = Decimal("0.00")


def dossier_communes(territory_id: int) -> Select[int, str]:
    """(dossier_id, commune_insee): each dossier with each commune its QPV and places lie in, once."""
    return (
        select(DossierTarget.dossier_id, Qpv.commune_insee)
        .join(Qpv, and_(Qpv.code == DossierTarget.code, Qpv.territory_id == territory_id))
        .where(DossierTarget.kind == "qpv")
        .distinct()
    )


def _euros(value: Decimal | None) -> str:
    return f"{(value or ZERO):.2f}"


def _figures(session: Session, user: User, campaign: Campaign) -> dict[str, dict[str, Any]]:
    """Per commune: dossiers, those not yet avisés, and the amounts requested, proposed, accorded."""
    where = dossier_communes(campaign.territory_id).subquery()
    seen = visible_dossiers(user).where(Dossier.campaign_id == campaign.id, Dossier.state.in_(PART_STATES))
    dossiers = seen.subquery()
    accorde = case((Cofinancement.decision == "accorde", Cofinancement.montant_accorde), else_=None)
    rows = session.execute(
        select(
            where.c.commune_insee,
            func.count(distinct(dossiers.c.id)),
            func.count(distinct(case((dossiers.c.state.in_(NOT_READY), dossiers.c.id), else_=None))),
            func.sum(Cofinancement.montant_demande),
            func.sum(Cofinancement.montant_propose),
            func.sum(accorde),
        )
        .select_from(dossiers)
        .join(where, where.c.dossier_id == dossiers.c.id)
        .outerjoin(Cofinancement, Cofinancement.dossier_id == dossiers.c.id)
        .group_by(where.c.commune_insee)
    ).all()
    return {
        insee: {
            "dossiers": count,
            "dossiers_non_avises": not_ready,
            "demande": _euros(demande),
            "propose": _euros(propose),
            "accorde": _euros(accorde_sum),
        }
        for insee, count, not_ready, demande, propose, accorde_sum in rows
    }


def _state(part: CampaignCommune | None, dossiers: int, today: date) -> str | None:
    if part is None:
        return None
    if part.validated_at is not None:
        return "validee"
    if not dossiers:
        return "sans_dossier"
    return "en_retard" if today > part.validation_date else "a_valider"


def _parts(session: Session, campaign_id: int) -> dict[str, CampaignCommune]:
    return {
        p.commune_insee: p
        for p in session.scalars(select(CampaignCommune).where(CampaignCommune.campaign_id == campaign_id))
    }


def _validator_emails(session: Session, parts: dict[str, CampaignCommune]) -> dict[int, str]:
    ids = {p.validated_by_id for p in parts.values() if p.validated_by_id is not None}
    return dict(session.execute(select(User.id, User.email).where(User.id.in_(ids))).all()) if ids else {}


def list_communes(session: Session, user: User, campaign_id: int, now: datetime) -> dict[str, Any]:
    """`GET /campaigns/{id}/communes`: each commune's state, dossiers and amounts (late from the day after
    its validation date, where the contract is)."""
    if user.role not in ("admin", "instructeur", "financeur"):
        raise Forbidden(
            "Le suivi par commune est réservé aux partenaires du contrat de ville.", code="role_interdit"
        )
    campaign = get_campaign(session, user, campaign_id)
    today = territory_today(campaign, now)
    figures = _figures(session, user, campaign)
    parts = _parts(session, campaign.id)
    emails = _validator_emails(session, parts)
    empty = {"dossiers": 0, "dossiers_non_avises": 0, "demande": "0.00", "propose": "0.00", "accorde": "0.00"}
    items = []
    for commune in session.scalars(
        select(Commune).where(Commune.territory_id == campaign.territory_id).order_by(Commune.id)
    ):
        part = parts.get(commune.insee)
        numbers = figures.get(commune.insee, empty)
        items.append(
            {
                "insee": commune.insee,
                "name": commune.name,
                "state": _state(part, numbers["dossiers"], today),
                "validation_date": part.validation_date.isoformat() if part else None,
                "validated_at": part.validated_at.isoformat() if part and part.validated_at else None,
                "validated_by": emails.get(part.validated_by_id) if part and part.validated_by_id else None,
                **numbers,
            }
        )
    return {"validation": campaign.validation, "items": items, "total": len(items)}


def _concerned(session: Session, campaign: Campaign) -> set[str]:
    where = dossier_communes(campaign.territory_id).subquery()
    return set(
        session.scalars(
            select(where.c.commune_insee)
            .join(Dossier, Dossier.id == where.c.dossier_id)
            .where(Dossier.campaign_id == campaign.id, Dossier.state.in_(PART_STATES))
            .distinct()
        )
    )


def validation_status(session: Session, campaign: Campaign, now: datetime) -> dict[str, Any] | None:
    """For the campaign's phase: the communes concerned still to validate, and whether the programme
    is whole (late on the territory's day). None for a campaign validated as a whole."""
    if campaign.validation != "par_commune":
        return None
    today = territory_today(campaign, now)
    parts = _parts(session, campaign.id)
    names = dict(
        session.execute(
            select(Commune.insee, Commune.name).where(Commune.territory_id == campaign.territory_id)
        ).all()
    )
    concerned = _concerned(session, campaign)
    waiting = [
        {
            "insee": insee,
            "name": names.get(insee, insee),
            "validation_date": parts[insee].validation_date.isoformat(),
            "en_retard": today > parts[insee].validation_date,
        }
        for insee in sorted(
            concerned, key=lambda i: (parts[i].validation_date, i) if i in parts else (date.max, i)
        )
        if insee in parts and parts[insee].validated_at is None
    ]
    validated = sorted(i for i in concerned if i in parts and parts[i].validated_at is not None)
    return {
        "mode": "par_commune",
        "communes_a_valider": waiting,
        "communes_validees": validated,
        "programme_complet": bool(concerned) and not waiting,
    }


def _may_validate(session: Session, user: User, campaign: Campaign, insee: str) -> None:
    if user.role == "admin":
        return  # get_campaign already kept the admin to its territory
    if user.role == "financeur" and user.financeur_id is not None:
        financeur = session.get(Financeur, user.financeur_id)
        if (
            financeur is not None
            and financeur.territory_id == campaign.territory_id
            and financeur.commune_insee == insee
        ):
            return
    raise Forbidden(
        "Seuls les agents de la commune et l'équipe du contrat de ville valident la part de cette commune.",
        code="role_interdit",
    )


def validate_commune(
    session: Session, user: User, campaign_id: int, insee: str, now: datetime, comment: str | None = None
) -> dict[str, Any]:
    """A commune validates its part: every one of its dossiers has had the comité's avis."""
    campaign = get_campaign(session, user, campaign_id)
    _may_validate(session, user, campaign, insee)
    if campaign.validation != "par_commune":
        raise Conflict(
            "Cet appel à projets est validé en une fois, pas commune par commune.", code="validation_globale"
        )
    part = session.scalar(
        select(CampaignCommune)
        .where(CampaignCommune.campaign_id == campaign.id, CampaignCommune.commune_insee == insee)
        .with_for_update()
    )
    if part is None:
        raise NotFound("Commune introuvable dans cet appel à projets.", code="commune_introuvable")
    if part.validated_at is not None:
        raise Conflict("La part de cette commune est déjà validée.", code="deja_validee")
    where = dossier_communes(campaign.territory_id).subquery()
    rows = session.execute(
        select(Dossier.number, Dossier.title, Dossier.state)
        .join(where, where.c.dossier_id == Dossier.id)
        .where(
            Dossier.campaign_id == campaign.id, where.c.commune_insee == insee, Dossier.state.in_(PART_STATES)
        )
        .order_by(Dossier.number)
    ).all()
    if not rows:
        raise Invalid("Aucun dossier de cette commune n'est à valider.", code="commune_sans_dossier")
    waiting = [r for r in rows if r.state in NOT_READY]
    if waiting:
        raise Invalid(
            f"{len(waiting)} dossier(s) de la commune n'ont pas encore l'avis du comité technique.",
            code="dossiers_non_avises",
            errors=[
                {
                    "path": f"dossiers.{r.number}",
                    "code": "non_avise",
                    "message": f"Dossier {r.number} « {r.title or 'sans titre'} » : "
                    f"{STATE_LABELS.get(r.state, r.state)}, pas encore avisé",
                }
                for r in waiting
            ],
        )
    part.validated_at, part.validated_by_id = now, user.id
    part.comment = (comment or "").strip() or None
    session.commit()
    return next(c for c in list_communes(session, user, campaign.id, now)["items"] if c["insee"] == insee)
