"""The admin's page of the access log: who read sensitive data or wrote, when, from where (filters by
account, object and period; paginated in SQL by the same service as the API)."""

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from aap.deps import DB
from aap.models import User
from aap.rgpd import journal
from aap.web.rendering import render
from aap.web.staff.common import page_user
from workflows.labels import ACCESS_ACTION_LABELS, ACCESS_KIND_LABELS

router = APIRouter(include_in_schema=False)
AdminUser = Annotated[User, Depends(page_user("admin"))]
PAGE_SIZE = 100


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/admin/journal", response_class=HTMLResponse)
def journal_page(
    request: Request,
    db: DB,
    user: AdminUser,
    compte: Annotated[str, Query(max_length=20)] = "",
    objet: Annotated[str, Query(max_length=64)] = "",
    objet_id: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=8)] = "",
    du: Annotated[str, Query(max_length=10)] = "",
    au: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    filters = journal.Filters(
        user_id=int(compte) if compte.isdigit() else None,
        kind=objet or None,
        object_id=objet_id or None,
        action=action if action in ACCESS_ACTION_LABELS else None,
        since=_day(du),
        until=_day(au),
    )
    rows, total = journal.entries(db, user, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    entered: dict[str, Any] = {
        "compte": compte,
        "objet": objet,
        "objet_id": objet_id,
        "action": action,
        "du": du,
        "au": au,
    }
    query = {k: v for k, v in entered.items() if v}
    return render(
        request,
        "staff/admin_journal.html",
        {
            "user": user,
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            "entered": entered,
            "previous_url": "/admin/journal?" + urlencode({**query, "page": page - 1}),
            "next_url": "/admin/journal?" + urlencode({**query, "page": page + 1}),
            "kinds": ACCESS_KIND_LABELS,
            "actions": ACCESS_ACTION_LABELS,
        },
    )
