"""The dialogue's page and form, for every role that sees a dossier (the rules are in the service)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from aap.clock import now
from aap.deps import DB
from aap.dossiers.service import get_dossier
from aap.errors import Invalid, NotFound
from aap.messages import service
from aap.models import User
from aap.web.csrf import check_csrf
from aap.web.rendering import flash, render
from aap.web.staff.common import page_user

router = APIRouter(include_in_schema=False)
Reader = Annotated[User, Depends(page_user("porteur", "instructeur", "admin", "financeur"))]

DOSSIER_PAGE = {
    "porteur": "/dossiers/{id}",
    "instructeur": "/instruction/dossiers/{id}",
    "admin": "/instruction/dossiers/{id}",
    "financeur": "/financeur/dossiers/{id}",
}


def _back(user: User, dossier_id: int) -> str:
    return DOSSIER_PAGE[user.role].format(id=dossier_id)


def _page(
    request: Request,
    db: DB,
    user: User,
    dossier_id: int,
    *,
    entered: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "user": user,
        "dossier": get_dossier(db, user, dossier_id),
        "thread": service.thread(db, user, dossier_id),
        "back": _back(user, dossier_id),
        "entered": entered,
        "errors": errors or [],
    }
    return render(request, "messages.html", context, status_code=status_code)


@router.get("/dossiers/{dossier_id}/echanges", response_class=HTMLResponse)
def messages_page(request: Request, dossier_id: int, db: DB, user: Reader) -> HTMLResponse:
    return _page(request, db, user, dossier_id)


@router.post("/dossiers/{dossier_id}/messages", response_class=HTMLResponse, response_model=None)
def post_message(
    request: Request,
    dossier_id: int,
    db: DB,
    user: Reader,
    csrf: Annotated[str, Form()] = "",
    texte: Annotated[str, Form()] = "",
    audience: Annotated[str, Form()] = "echange",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    try:
        message = service.post_message(db, user, dossier_id, texte, audience, now())
    except (Invalid, NotFound) as exc:
        if isinstance(exc, NotFound):
            raise
        db.rollback()
        errors = [{"message": e.get("message", exc.message)} for e in exc.errors] or [
            {"message": exc.message}
        ]
        entered = {"texte": texte, "audience": audience}
        return _page(request, db, user, dossier_id, entered=entered, errors=errors, status_code=422)
    flash(
        request,
        "Note interne enregistrée."
        if message.audience == "interne"
        else "Message envoyé ; ses destinataires sont prévenus par courriel.",
    )
    return RedirectResponse(_back(user, dossier_id) + "#echanges", status_code=303)
