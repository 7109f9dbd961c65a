"""The pages of the avis of partners: the instructeur asks from the dossier page, the partner answers
from its own list; the rules are in `aap/avis/service.py`."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from aap.avis import service
from aap.clock import now
from aap.deps import DB
from aap.dossiers import service as dossiers
from aap.errors import AppError, NotFound
from aap.models import User
from aap.web.csrf import check_csrf
from aap.web.rendering import flash, render
from aap.web.staff.common import error_list, page_links, page_user, parse_day, see_other
from workflows.labels import PARTNER_AVIS_LABELS

router = APIRouter(include_in_schema=False)
Partner = Annotated[User, Depends(page_user("partenaire"))]
Instructing = Annotated[User, Depends(page_user("instructeur", "admin"))]


@router.get("/avis", response_class=HTMLResponse)
def inbox_page(
    request: Request, db: DB, user: Partner, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1
) -> HTMLResponse:
    total = service.inbox_total(db, user)
    pages = max((total + service.PAGE_SIZE - 1) // service.PAGE_SIZE, 1)
    page = min(page, pages)
    when = now()
    return render(
        request,
        "avis/liste.html",
        {
            "user": user,
            "items": service.inbox(db, user, offset=(page - 1) * service.PAGE_SIZE),
            "total": total,
            "page": page,
            "pages": pages,
            "page_links": page_links(page, pages),
            "labels": PARTNER_AVIS_LABELS,
            "is_late": lambda a: service.is_late(a, when),
        },
    )


def _answer_page(
    request: Request,
    db: DB,
    user: User,
    avis_id: int,
    *,
    entered: dict[str, str] | None = None,
    errors: list[dict[str, str | None]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    asked = service.get_request(db, user, avis_id)
    dossier = dossiers.get_dossier(db, user, asked.dossier_id)
    form = dossiers.campaign_form_of(dossier)
    from aap.campaigns.forms import form_context

    return render(
        request,
        "avis/repondre.html",
        {
            "user": user,
            "asked": asked,
            "dossier": dossier,
            "answers_html": form.render_html(
                dossier.answers or {}, form_context(db, dossier.campaign), readonly=True
            ),
            "labels": PARTNER_AVIS_LABELS,
            "entered": entered or {},
            "errors": errors or [],
        },
        status_code=status_code,
    )


@router.get("/avis/{avis_id}", response_class=HTMLResponse)
def answer_page(request: Request, avis_id: int, db: DB, user: Partner) -> HTMLResponse:
    return _answer_page(request, db, user, avis_id)


@router.post("/avis/{avis_id}", response_class=HTMLResponse, response_model=None)
def answer(
    request: Request,
    avis_id: int,
    db: DB,
    user: Partner,
    csrf: Annotated[str, Form()] = "",
    avis: Annotated[str, Form()] = "",
    texte: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    try:
        service.give_avis(db, user, avis_id, avis, texte, now())
    except AppError as exc:
        if isinstance(exc, NotFound):
            raise
        db.rollback()
        errors = error_list(exc, {"avis": "avis-choix-favorable", "texte": "avis-texte"})
        entered = {"avis": avis, "texte": texte}
        return _answer_page(
            request, db, user, avis_id, entered=entered, errors=errors, status_code=exc.status_code
        )
    flash(request, "Votre avis est transmis à l'instruction. Merci.")
    return see_other("/avis")


@router.post(
    "/instruction/dossiers/{dossier_id}/avis-partenaires", response_class=HTMLResponse, response_model=None
)
def ask(
    request: Request,
    dossier_id: int,
    db: DB,
    user: Instructing,
    csrf: Annotated[str, Form()] = "",
    destinataire: Annotated[str, Form()] = "",
    question: Annotated[str, Form()] = "",
    date_limite: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    try:
        service.request_avis(db, user, dossier_id, destinataire, question, parse_day(date_limite), now())
    except AppError as exc:
        if isinstance(exc, NotFound):
            raise
        db.rollback()
        from aap.web.staff.instruction import render_dossier_page

        problem = {
            "kind": "avis",
            "errors": error_list(
                exc, {"destinataire": "a-destinataire", "question": "a-question", "date_limite": "a-date"}
            ),
            "entered": {"destinataire": destinataire, "question": question, "date_limite": date_limite},
        }
        return render_dossier_page(
            request, db, user, dossier_id, status_code=exc.status_code, problem=problem
        )
    flash(request, "L'avis est demandé : le partenaire est prévenu par courriel.")
    return see_other(f"/instruction/dossiers/{dossier_id}#avis-partenaires")
