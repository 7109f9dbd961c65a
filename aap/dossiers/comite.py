"""The comité technique in one sitting: the avis of many dossiers recorded at once, all or nothing, each
dated by the day the comité sat (not the day someone typed them): that day is the avis date everywhere
(the dossier's `avis_at`, the délais, the documents)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from aap.campaigns.service import get_campaign
from aap.clock import Zoned, territory_today, zone
from aap.dossiers import service as dossiers
from aap.dossiers.effects import EffectsTable, PreconditionContext, TransitionContext
from aap.errors import AppError, Forbidden, Invalid
from aap.models import Dossier, User
from workflows.reasons import Reason, fr_date


@dataclass(frozen=True)
class SittingAvis:
    dossier_id: int
    avis: str
    comment: str | None = None


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def sitting_instant(day: date, campaign: Zoned) -> datetime:
    """The avis instant of a sitting: noon in the territory's time zone, so no display shifts its day."""
    return datetime.combine(day, time(12, 0), zone(campaign.fuseau))


def _check_date(ctx: PreconditionContext) -> list[Reason]:
    raw = ctx.payload.get("date_comite")
    if raw is None or raw == "":
        return []
    day = _day(raw)
    if day is None:
        return [Reason("date_comite_invalide", "La date du comité n'est pas une date valide.", "date_comite")]
    if day > territory_today(ctx.dossier.campaign, ctx.now):
        return [
            Reason(
                "date_comite_future",
                f"Le comité ne peut pas avoir siégé le {fr_date(day)} : cette date n'est pas encore passée.",
                "date_comite",
            )
        ]
    instruit = ctx.dossier.instruit_at
    if instruit is not None and day < territory_today(ctx.dossier.campaign, instruit):
        return [
            Reason(
                "date_comite_avant_instruction",
                f"Le comité ne peut pas avoir siégé le {fr_date(day)}, avant la fin de l'instruction.",
                "date_comite",
            )
        ]
    return []


def _stamp(ctx: TransitionContext) -> None:
    day = _day(ctx.payload.get("date_comite"))
    if day is None:
        return
    ctx.dossier.avis_at = sitting_instant(day, ctx.dossier.campaign)
    ctx.event.data = {**(ctx.event.data or {}), "date_comite": day.isoformat()}


def register(table: EffectsTable) -> None:
    table.require("rendre_avis", _check_date, name="comite.date")
    table.on("rendre_avis", _stamp, name="comite.date")


def record_sitting(
    session: Session, user: User, campaign_id: int, day: date | None, items: list[SittingAvis], now: datetime
) -> list[Dossier]:
    """Every avis of the sitting, or none: each refusal says which line and why."""
    if user.role not in ("instructeur", "admin"):
        raise Forbidden(
            "Seuls l'instruction et l'équipe enregistrent les avis du comité.", code="role_interdit"
        )
    campaign = get_campaign(session, user, campaign_id)
    errors: list[dict[str, Any]] = []
    if day is None:
        errors.append(
            {"path": "date", "code": "required", "message": "Indiquez le jour où le comité a siégé."}
        )
    if not items:
        errors.append({"path": "avis", "code": "required", "message": "Donnez l'avis d'au moins un dossier."})
    seen: set[int] = set()
    moved: list[Dossier] = []
    for i, item in enumerate(items):
        where = f"avis.{i}"
        if item.dossier_id in seen:
            errors.append({"path": where, "code": "doublon", "message": "Ce dossier figure deux fois."})
            continue
        seen.add(item.dossier_id)
        payload: dict[str, Any] = {"avis": item.avis, "date_comite": day or territory_today(campaign, now)}
        if item.comment and item.comment.strip():
            payload["comment"] = item.comment.strip()
        number = f"dossier {item.dossier_id}"
        try:
            dossier = dossiers.get_dossier(session, user, item.dossier_id)
            number = f"dossier n° {dossier.number}"
            if dossier.campaign_id != campaign.id:
                raise Invalid("Ce dossier n'appartient pas à cet appel à projets.", code="autre_campagne")
            moved.append(dossiers.move(session, user, item.dossier_id, "rendre_avis", payload, now))
        except AppError as exc:
            for e in exc.errors or [{"code": exc.code, "message": exc.message}]:
                path = e.get("path") or e.get("field") or ""
                errors.append(
                    {
                        "path": f"{where}.{path}" if path else where,
                        "code": e.get("code", exc.code),
                        "message": f"{number} : {e.get('message', exc.message)}",
                        "dossier_id": item.dossier_id,
                    }
                )
    if errors:
        session.rollback()
        raise Invalid(
            f"Rien n'a été enregistré : {len(errors)} point(s) à corriger dans la séance.",
            code="seance_invalide",
            errors=errors,
        )
    session.commit()
    return moved
