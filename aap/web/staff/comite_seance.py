"""The comité's sitting page: the avis of the dossiers examined, typed once, recorded all or nothing.

The instructed dossiers come a page at a time (by number, read in SQL, a fixed number of statements
whatever the campaign's size); the avis of a page are recorded together, all or none. Recorded
dossiers leave the list, so the next ones move up; the other pages stay a link away.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from aap.avis import service as avis
from aap.campaigns import service as campaigns
from aap.clock import now, territory_today
from aap.deps import DB
from aap.dossiers import comite
from aap.dossiers import service as dossiers
from aap.errors import AppError
from aap.models import User
from aap.web.csrf import check_csrf
from aap.web.rendering import flash, render
from aap.web.staff.common import page_links, page_user, parse_day, see_other
from workflows.labels import PARTNER_AVIS_LABELS

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[User, Depends(page_user("instructeur", "admin"))]
PAGE_SIZE = 50  # the dossiers of a page, whose avis are recorded together


def _default_day(planned: date | None, today: date) -> date:
    return planned if planned is not None and planned <= today else today


def _page(
    request: Request,
    db: DB,
    user: User,
    campaign_id: int,
    *,
    page: int = 1,
    entered: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    campaign = campaigns.get_campaign(db, user, campaign_id)
    items, total = dossiers.list_dossiers(
        db, user, campaign_id=campaign.id, state="instruit", limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if page > pages and total:  # past the end (avis recorded meanwhile): the last page
        return _page(
            request,
            db,
            user,
            campaign_id,
            page=pages,
            entered=entered,
            errors=errors,
            status_code=status_code,
        )
    by_dossier: dict[int, list[str]] = {}
    general: list[str] = []
    for e in errors or []:
        if e.get("dossier_id"):
            by_dossier.setdefault(int(e["dossier_id"]), []).append(e["message"])
        else:
            general.append(e["message"])
    today = territory_today(campaign, now())  # a sitting cannot be later than today there
    return render(
        request,
        "staff/comite_seance.html",
        {
            "user": user,
            "campaign": campaign,
            "dossiers": items,
            "total": total,
            "page": page,
            "pages": pages,
            "page_links": page_links(page, pages),
            "page_size": PAGE_SIZE,
            "requested": {d.id: dossiers.requested_total(d) for d in items},
            "partner_avis": avis.for_dossiers(db, user, [d.id for d in items]),
            "partner_labels": PARTNER_AVIS_LABELS,
            "entered": entered or {},
            "row_errors": by_dossier,
            "general_errors": general,
            "day": (entered or {}).get("date")
            or _default_day(campaign.date_of("comite_technique"), today).isoformat(),
            "today": today,
        },
        status_code=status_code,
    )


@router.get("/instruction/comite/{campaign_id}/seance", response_class=HTMLResponse)
def sitting_page(
    request: Request,
    campaign_id: int,
    db: DB,
    user: StaffUser,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    return _page(request, db, user, campaign_id, page=page)


@router.post("/instruction/comite/{campaign_id}/seance", response_class=HTMLResponse, response_model=None)
async def record_sitting(
    request: Request, campaign_id: int, db: DB, user: StaffUser
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    entered = {key: str(value) for key, value in form.items() if key != "csrf"}
    shown = entered.get("page", "1")
    page = int(shown) if shown.isdigit() and 0 < int(shown) <= 1_000_000 else 1
    items = [
        comite.SittingAvis(int(key.removeprefix("avis-")), value, entered.get(f"commentaire-{key[5:]}"))
        for key, value in entered.items()
        if key.startswith("avis-") and key[5:].isdigit() and value
    ]
    try:
        moved = comite.record_sitting(db, user, campaign_id, parse_day(entered.get("date")), items, now())
    except AppError as exc:
        db.rollback()
        errors = exc.errors or [{"message": exc.message}]
        return _page(
            request,
            db,
            user,
            campaign_id,
            page=page,
            entered=entered,
            errors=errors,
            status_code=exc.status_code,
        )
    flash(request, f"Séance enregistrée : {len(moved)} avis, datés du jour du comité.")
    if dossiers.list_dossiers(db, user, campaign_id=campaign_id, state="instruit", limit=1)[1]:
        # more dossiers await the comité's avis: back to the sitting, on the page the avis were typed
        return see_other(f"/instruction/comite/{campaign_id}/seance" + (f"?page={page}" if page > 1 else ""))
    return see_other(f"/instruction/comite/{campaign_id}")
