"""Reading the access log: the territory's admin sees what the accounts it answers for did, filtered
and paginated in SQL (by account, by object, by action, by period)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aap.accounts.staff import accounts_of_territory
from aap.errors import Forbidden
from aap.models import AccessLog, User

MAX_LIMIT = 500


@dataclass(frozen=True)
class Filters:
    user_id: int | None = None
    kind: str | None = None
    object_id: str | None = None
    action: str | None = None
    since: date | None = None  # from that day's start (UTC)
    until: date | None = None  # to that day's end (UTC)


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def entries(
    session: Session, by: User, filters: Filters, *, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[AccessLog, str | None]], int]:
    """The rows (newest first) with the e-mail of their author, and how many match in all."""
    if by.role != "admin":
        raise Forbidden(
            "Seule l'équipe du contrat de ville consulte le journal des accès.", code="role_interdit"
        )
    query = select(AccessLog).where(AccessLog.user_id.in_(accounts_of_territory(by.territory_id)))
    if filters.user_id is not None:
        query = query.where(AccessLog.user_id == filters.user_id)
    if filters.kind:
        query = query.where(AccessLog.kind == filters.kind)
    if filters.object_id:
        query = query.where(AccessLog.object_id == filters.object_id)
    if filters.action:
        query = query.where(AccessLog.action == filters.action)
    if filters.since is not None:
        query = query.where(AccessLog.at >= _start(filters.since))
    if filters.until is not None:
        query = query.where(AccessLog.at < _start(filters.until + timedelta(days=1)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = (
        query.add_columns(User.email)
        .outerjoin(User, User.id == AccessLog.user_id)
        .order_by(AccessLog.at.desc(), AccessLog.id.desc())
        .limit(min(max(limit, 1), MAX_LIMIT))
        .offset(max(offset, 0))
    )
    return [(row, email) for row, email in session.execute(page).all()], total


def entry_out(row: AccessLog, email: str | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "user_id": row.user_id,
        "email": email,
        "role": row.role,
        "action": row.action,
        "kind": row.kind,
        "object_id": row.object_id,
        "route": row.route,
        "ip": row.ip,
    }
