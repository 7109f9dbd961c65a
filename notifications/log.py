"""Reading the outbox: the messages about a dossier, and the messages to a person."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from aap.models import Notification, NotificationDossier, User


def dossier_notifications(session: Session, user: User, dossier_id: int) -> list[Notification]:
    """Messages about the dossier (its own, and the digests that list it). The dossier's instructeurs
    and admins see all of them; anyone else sees the messages to its porteurs and their own."""
    listed = select(NotificationDossier.notification_id).where(NotificationDossier.dossier_id == dossier_id)
    query = select(Notification).where(
        or_(Notification.dossier_id == dossier_id, Notification.id.in_(listed))
    )
    if user.role not in ("admin", "instructeur"):
        query = query.where(or_(Notification.audience == "porteurs", Notification.user_id == user.id))
    return list(session.scalars(query.order_by(Notification.created_at, Notification.id)))


def user_notifications(
    session: Session, user: User, *, limit: int = 50, offset: int = 0
) -> tuple[list[Notification], int]:
    query = select(Notification).where(Notification.user_id == user.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit).offset(offset)
    )
    return list(items), total
