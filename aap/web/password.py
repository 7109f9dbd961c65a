"""The one-time link of a new account (`aap admin create`, a staff invitation): choose a password, then
log in."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from aap.clock import now
from aap.deps import DB, AppSettings
from aap.errors import Invalid
from aap.territories.onboarding import DeadLink, choose_password, invited_account
from aap.web.csrf import check_csrf
from aap.web.rendering import flash, render

router = APIRouter(include_in_schema=False)


@router.get("/mot-de-passe/{token}", response_class=HTMLResponse)
def set_password_page(request: Request, token: str, db: DB, settings: AppSettings) -> HTMLResponse:
    try:
        user = invited_account(db, settings.secret_key, token, now())
    except DeadLink as exc:
        return render(request, "set_password.html", {"user": None, "dead": exc.message}, status_code=404)
    return render(request, "set_password.html", {"user": None, "email": user.email, "token": token})


@router.post("/mot-de-passe/{token}", response_class=HTMLResponse, response_model=None)
def set_password_submit(
    request: Request,
    token: str,
    db: DB,
    settings: AppSettings,
    password: Annotated[str, Form()] = "",
    confirmation: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    try:
        user = choose_password(db, settings.secret_key, token, password, confirmation, now())
    except DeadLink as exc:
        return render(request, "set_password.html", {"user": None, "dead": exc.message}, status_code=404)
    except Invalid as exc:
        db.rollback()
        email = invited_account(db, settings.secret_key, token, now()).email
        context = {"user": None, "email": email, "token": token, "errors": exc.errors or []}
        return render(request, "set_password.html", context, status_code=422)
    flash(request, f"Mot de passe enregistré pour {user.email} : vous pouvez vous connecter.")
    return RedirectResponse("/connexion", status_code=303)
