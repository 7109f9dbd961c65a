"""Web pages: the home page and logging in and out; each role lands on the page about its work."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from aap.accounts.service import authenticate
from aap.deps import DB, MaybeCaller
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
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    suivant: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    user = authenticate(db, email, password)
    if user is None:
        error = "Adresse électronique ou mot de passe incorrect."
        context = {"user": None, "email": email, "error": error, "suivant": safe_next(suivant) or ""}
        return render(request, "login.html", context, status_code=401)
    request.session.clear()
    request.session["uid"] = user.id
    return RedirectResponse(safe_next(suivant) or LANDING.get(user.role, "/"), status_code=303)


@router.post("/deconnexion")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/", status_code=303)
