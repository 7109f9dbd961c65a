"""The dialogue's page and form, for every role that sees a dossier (the rules are in the service)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from aap.attachments import files
from aap.clock import now
from aap.deps import DB, AppSettings
from aap.dossiers.service import get_dossier
from aap.errors import AppError
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
    page: int = 1,
    entered: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "user": user,
        "dossier": get_dossier(db, user, dossier_id),
        "thread": service.thread(db, user, dossier_id, page),
        "back": _back(user, dossier_id),
        "entered": entered,
        "errors": errors or [],
    }
    return render(request, "messages.html", context, status_code=status_code)


@router.get("/dossiers/{dossier_id}/echanges", response_class=HTMLResponse)
def messages_page(
    request: Request,
    dossier_id: int,
    db: DB,
    user: Reader,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """Every message, a page at a time: page 1 the latest, page 2 the ones before…"""
    return _page(request, db, user, dossier_id, page=page)


@router.post("/dossiers/{dossier_id}/messages", response_class=HTMLResponse, response_model=None)
async def post_message(
    request: Request, dossier_id: int, db: DB, user: Reader, settings: AppSettings
) -> HTMLResponse | RedirectResponse:
    """A message, with a file if one is chosen (multipart, streamed and checked like the pièces)."""
    received: files.Received | None = None
    multipart = request.headers.get("content-type", "").startswith("multipart/form-data")
    try:
        if multipart:
            await run_in_threadpool(service.check_may_write, db, user, dossier_id)
            try:
                received = await files.receive_upload(
                    request,
                    settings.max_upload_bytes,
                    settings.data_dir,
                    max_field_bytes=4 * service.MAX_LENGTH + 1024,
                    file_required=False,
                )
            except AppError as exc:
                if exc.status_code in (403, 404):
                    raise
                flash(request, f"Le message n'a pas été envoyé : {exc.message}", "error")
                return RedirectResponse(_back(user, dossier_id) + "#echanges", status_code=303)
            posted = received.fields
        else:
            posted = {k: str(v) for k, v in (await request.form()).items()}
        check_csrf(request, posted.get("csrf"))
        texte, audience = posted.get("texte", ""), posted.get("audience", "echange")
        try:
            message = await run_in_threadpool(
                lambda: service.post_message(
                    db,
                    user,
                    dossier_id,
                    texte,
                    audience,
                    now(),
                    received=received,
                    data_dir=settings.data_dir,
                )
            )
        except AppError as exc:
            await run_in_threadpool(db.rollback)
            if exc.status_code in (403, 404):
                raise
            errors = [{"message": e.get("message", exc.message)} for e in exc.errors or []] or [
                {"message": exc.message}
            ]
            if received is not None and received.has_file:
                errors.append({"message": "Choisissez à nouveau le fichier à joindre."})
            entered = {"texte": texte, "audience": audience}
            return await run_in_threadpool(
                lambda: _page(request, db, user, dossier_id, entered=entered, errors=errors, status_code=422)
            )
    finally:
        if received is not None:
            received.discard()
    flash(
        request,
        "Note interne enregistrée."
        if message.audience == "interne"
        else "Message envoyé ; ses destinataires sont prévenus par courriel.",
    )
    return RedirectResponse(_back(user, dossier_id) + "#echanges", status_code=303)
