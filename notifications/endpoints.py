"""The message log over HTTP: per dossier, per recipient, and the recipient's preferences."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from aap.deps import DB, Caller
from aap.dossiers.repository import get_dossier
from aap.errors import Invalid, NotFound
from aap.models import Notification, User
from aap.routes import API_PREFIX
from notifications import preferences
from notifications.log import dossier_notifications, user_notifications
from notifications.schemas import NotificationPage, PreferenceOut, PreferencePage

router = APIRouter(prefix=API_PREFIX, tags=["notifications"])


def notification_out(n: Notification, *, staff: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": n.id,
        "rule": n.rule,
        "recipient": n.recipient,
        "subject": n.subject,
        "status": n.status,
        "deadline": n.deadline.isoformat() if n.deadline else None,
        "created_at": n.created_at.isoformat() if n.created_at else None,
        "sent_at": n.sent_at.isoformat() if n.sent_at else None,
        "dossier_id": n.dossier_id,
        "attempts": n.attempts,
    }
    if staff:
        out["last_error"] = n.last_error
    return out


def _staff(user: User) -> bool:
    return user.role in ("admin", "instructeur")


@router.get(
    "/dossiers/{dossier_id}/notifications",
    summary="Les messages envoyés au sujet d'un dossier",
    response_model=NotificationPage,
    response_model_exclude_unset=True,
)
def list_for_dossier(dossier_id: int, db: DB, user: Caller) -> dict[str, Any]:
    get_dossier(db, user, dossier_id)  # 404 for a dossier the caller may not see
    items = dossier_notifications(db, user, dossier_id)
    return {"items": [notification_out(n, staff=_staff(user)) for n in items], "total": len(items)}


@router.get(
    "/me/notifications",
    summary="Les messages qui m'ont été adressés",
    response_model=NotificationPage,
    response_model_exclude_unset=True,
)
def list_mine(
    db: DB,
    user: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    items, total = user_notifications(db, user, limit=limit, offset=offset)
    return {"items": [notification_out(n) for n in items], "total": total}


class PreferenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool


@router.get("/me/preferences", summary="Mes préférences de rappels", response_model=PreferencePage)
def list_preferences(db: DB, user: Caller) -> dict[str, Any]:
    items = preferences.list_for(db, user)
    return {"items": items, "total": len(items)}


@router.put(
    "/me/preferences/{rule}",
    summary="Activer ou désactiver un rappel facultatif",
    response_model=PreferenceOut,
)
def set_preference(rule: str, body: PreferenceBody, db: DB, user: Caller) -> dict[str, Any]:
    try:
        return preferences.set_for(db, user, rule, body.enabled)
    except preferences.UnknownRule as exc:
        raise NotFound(f"Rappel « {rule} » inconnu.", code="regle_inconnue") from exc
    except preferences.MandatoryRule as exc:
        raise Invalid(
            f"« {exc.label} » fait partie du suivi officiel du dossier : ce message ne peut pas être désactivé.",
            code="regle_obligatoire",
            errors=[
                {"path": "enabled", "code": "regle_obligatoire", "message": "ce message ne se désactive pas"}
            ],
        ) from exc
