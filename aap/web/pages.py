"""Web pages: the home page and logging in and out; each role lands on the page about its work."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from aap.accounts.login import Attempt, TooManyAttempts, log_in
from aap.accounts.recovery import log_out_everywhere
from aap.accounts.sessions import start_session
from aap.deps import DB, ClientAddress, Limiter, MaybeCaller
from aap.web.csrf import check_csrf
from aap.web.rendering import LANDING, render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str | None:
    """Only a path of this site (never «//ailleurs.fr» nor «https://…»)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/", response_class=HTMLResponse, response_model=None)
def home(request: Request, user: MaybeCaller) -> HTMLResponse | RedirectResponse:
    if user is not None:
        return RedirectResponse(LANDING.get(user.role, "/"), status_code=303)
    return render(request, "home.html", {"user": None})


@router.get("/dossiers", response_class=HTMLResponse, response_model=None)
def my_dossiers(user: MaybeCaller) -> RedirectResponse:
    """The digests' « vos dossiers » link (role-neutral): each role's list, or the login page first."""
    if user is None:
        return RedirectResponse("/connexion?suivant=/dossiers", status_code=303)
    return RedirectResponse(LANDING.get(user.role, "/"), status_code=303)


@router.get("/connexion", response_class=HTMLResponse)
def login_page(request: Request, suivant: str | None = None) -> HTMLResponse:
    return render(request, "login.html", {"user": None, "email": "", "suivant": safe_next(suivant) or ""})


@router.post("/connexion", response_class=HTMLResponse, response_model=None)
def login(
    request: Request,
    db: DB,
    limiter: Limiter,
    client: ClientAddress,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    suivant: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    context = {"user": None, "email": email, "suivant": safe_next(suivant) or ""}
    try:
        user = log_in(db, limiter, Attempt(email, password, client))
    except TooManyAttempts as refused:
        response = render(request, "login.html", {**context, "error": refused.message}, status_code=429)
        response.headers.update(refused.headers or {})
        return response
    if user is None:
        error = "Adresse électronique ou mot de passe incorrect."
        return render(request, "login.html", {**context, "error": error}, status_code=401)
    if user.email_verified_at is None:
        error = (
            "Confirmez d'abord votre adresse électronique : ouvrez le lien que nous vous avons envoyé "
            "(pensez à regarder dans les indésirables)."
        )
        return render(request, "login.html", {**context, "error": error}, status_code=403)
    start_session(request.session, user)
    return RedirectResponse(safe_next(suivant) or LANDING.get(user.role, "/"), status_code=303)


@router.post("/deconnexion")
def logout(
    request: Request, db: DB, user: MaybeCaller, csrf: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """Logs out everywhere: this cookie, any copy of it, and the account's bearer tokens stop working."""
    check_csrf(request, csrf)
    if user is not None:
        log_out_everywhere(db, user)
    request.session.clear()
    return RedirectResponse("/", status_code=303)
