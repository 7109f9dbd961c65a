"""The comité's sitting page: the avis of every dossier examined, typed once, recorded all or nothing."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from aap.avis import service as avis
from aap.campaigns import service as campaigns
from aap.clock import now
from aap.deps import DB
from aap.dossiers import comite
from aap.dossiers import service as dossiers
from aap.errors import AppError
from aap.models import User
from aap.web.csrf import check_csrf
from aap.web.rendering import flash, render
from aap.web.staff.common import page_user, parse_day, see_other
from workflows.labels import PARTNER_AVIS_LABELS

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[User, Depends(page_user("instructeur", "admin"))]
MAX_ROWS = 500  # a sitting examines the dossiers instructed since the last one


def _default_day(planned: date | None, today: date) -> date:
    return planned if planned is not None and planned <= today else today


def _page(
    request: Request,
    db: DB,
    user: User,
    campaign_id: int,
    *,
    entered: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    campaign = campaigns.get_campaign(db, user, campaign_id)
    items, total = dossiers.list_dossiers(db, user, campaign_id=campaign.id, state="instruit", limit=MAX_ROWS)
    by_dossier: dict[int, list[str]] = {}
    general: list[str] = []
    for e in errors or []:
        if e.get("dossier_id"):
            by_dossier.setdefault(int(e["dossier_id"]), []).append(e["message"])
        else:
            general.append(e["message"])
    today = now().date()
    return render(
        request,
        "staff/comite_seance.html",
        {
            "user": user,
            "campaign": campaign,
            "dossiers": items,
            "total": total,
            "max_rows": MAX_ROWS,
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
def sitting_page(request: Request, campaign_id: int, db: DB, user: StaffUser) -> HTMLResponse:
    return _page(request, db, user, campaign_id)


@router.post("/instruction/comite/{campaign_id}/seance", response_class=HTMLResponse, response_model=None)
async def record_sitting(
    request: Request, campaign_id: int, db: DB, user: StaffUser
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    entered = {key: str(value) for key, value in form.items() if key != "csrf"}
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
            request, db, user, campaign_id, entered=entered, errors=errors, status_code=exc.status_code
        )
    flash(request, f"Séance enregistrée : {len(moved)} avis, datés du jour du comité.")
    return see_other(f"/instruction/comite/{campaign_id}")
