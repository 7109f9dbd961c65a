"""Web pages: the home page and logging in and out (the full interface has its own issue)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from aap.accounts.service import authenticate
from aap.campaigns import service as campaigns
from aap.deps import DB, MaybeCaller
from aap.web.csrf import check_csrf
from aap.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DB, user: MaybeCaller) -> HTMLResponse:
    items = campaigns.list_campaigns(db, user) if user else []
    return render(request, "home.html", {"user": user, "campaigns": items})


@router.get("/connexion", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", {"user": None, "email": ""})


@router.post("/connexion", response_class=HTMLResponse, response_model=None)
def login(
    request: Request,
    db: DB,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    user = authenticate(db, email, password)
    if user is None:
        error = "Adresse électronique ou mot de passe incorrect."
        return render(request, "login.html", {"user": None, "email": email, "error": error}, status_code=401)
    request.session.clear()
    request.session["uid"] = user.id
    return RedirectResponse("/", status_code=303)


@router.post("/deconnexion")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/", status_code=303)
