"""Pages of the account: the links sent by e-mail (verify the address, reset the password, accept an
invitation), « Mon compte » (name, password, notification preferences, organisations and contacts) and
an organisation's members. Thin: parse, call the services of `aap.accounts`, render or redirect.

A link opens a page with a button: following it is a POST, so that a mail scanner that fetches links
does not spend them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from aap.accounts import email_change, links, membership, recovery, registration
from aap.accounts.contacts import team_contacts
from aap.accounts.mail import deliver_soon
from aap.accounts.passwords import MIN_PASSWORD_LENGTH
from aap.accounts.sessions import start_session
from aap.clock import now
from aap.deps import DB, SESSION_TERRITORY, Account, AppSettings, Caller, Porteur
from aap.errors import AppError, Forbidden, Invalid
from aap.models import User
from aap.territories.memberships import choices_for
from aap.web.csrf import check_csrf
from aap.web.rendering import LANDING, flash, render
from notifications import preferences
from workflows.labels import REGISTRATION_OUTCOMES

router = APIRouter(include_in_schema=False)


def _field_errors(exc: AppError) -> dict[str, str]:
    return {e.get("path", ""): e.get("message", "") for e in exc.errors or []}


def _send_later(request: Request, tasks: BackgroundTasks, db: Session) -> None:
    tasks.add_task(deliver_soon, request.app.state.sessionmaker, request.app.state.settings, db)


# --- address verification ---------------------------------------------------------------------------


@router.get("/verification/{token}", response_class=HTMLResponse)
def verification_page(request: Request, token: str, db: DB) -> HTMLResponse:
    links.peek(db, links.VERIFY_EMAIL, token, now())
    return render(request, "account/verification.html", {"user": None, "token": token})


@router.post("/verification/{token}", response_model=None)
def verify(
    request: Request,
    token: str,
    db: DB,
    settings: AppSettings,
    tasks: BackgroundTasks,
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(request, csrf)
    done = registration.verify(db, token, now=now(), base_url=settings.base_url)
    _send_later(request, tasks, db)
    start_session(request.session, done.user)
    org = done.organisation.name if done.organisation else ""
    flash(request, REGISTRATION_OUTCOMES[done.outcome].format(org=org))
    return RedirectResponse("/mes-dossiers" if done.user.organisations else "/mon-compte", status_code=303)


# --- forgotten password -----------------------------------------------------------------------------


@router.get("/mot-de-passe-oublie", response_class=HTMLResponse)
def forgotten_page(request: Request) -> HTMLResponse:
    return render(request, "account/mot_de_passe_oublie.html", {"user": None, "sent": None, "email": ""})


@router.post("/mot-de-passe-oublie", response_class=HTMLResponse)
def forgotten(
    request: Request,
    db: DB,
    settings: AppSettings,
    tasks: BackgroundTasks,
    csrf: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf)
    answer = recovery.request_reset(db, email[:320], now=now(), base_url=settings.base_url)
    _send_later(request, tasks, db)
    return render(request, "account/mot_de_passe_oublie.html", {"user": None, "sent": answer, "email": email})


def _reset_page(
    request: Request, db: DB, token: str, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> HTMLResponse:
    user = recovery.check_reset_link(db, token, now())
    context: dict[str, Any] = {
        "user": None,
        "token": token,
        "email": user.email,
        "errors": errors or {},
        "min_length": MIN_PASSWORD_LENGTH,
    }
    return render(request, "account/reinitialiser.html", context, status_code=status_code)


@router.get("/reinitialiser/{token}", response_class=HTMLResponse)
def reset_page(request: Request, token: str, db: DB) -> HTMLResponse:
    return _reset_page(request, db, token)


@router.post("/reinitialiser/{token}", response_class=HTMLResponse, response_model=None)
def reset(
    request: Request,
    token: str,
    db: DB,
    csrf: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    try:
        recovery.reset_password(db, token, password[:500], now=now())
    except Invalid as exc:
        db.rollback()
        return _reset_page(request, db, token, errors=_field_errors(exc), status_code=422)
    request.session.clear()
    flash(request, "Votre mot de passe est changé ; toutes vos sessions ont été fermées. Connectez-vous.")
    return RedirectResponse("/connexion", status_code=303)


# --- invitations ------------------------------------------------------------------------------------


def _invitation_page(
    request: Request,
    db: DB,
    token: str,
    *,
    errors: dict[str, str] | None = None,
    full_name: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "user": None,
        "token": token,
        "invitation": membership.read_invitation(db, token, now()),
        "errors": errors or {},
        "full_name": full_name,
        "min_length": MIN_PASSWORD_LENGTH,
    }
    return render(request, "account/invitation.html", context, status_code=status_code)


@router.get("/invitation/{token}", response_class=HTMLResponse)
def invitation_page(request: Request, token: str, db: DB) -> HTMLResponse:
    return _invitation_page(request, db, token)


@router.post("/invitation/{token}", response_class=HTMLResponse, response_model=None)
def accept_invitation(
    request: Request,
    token: str,
    db: DB,
    csrf: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    try:
        user = membership.accept_invitation(
            db, token, password=password[:500], full_name=full_name[:300], now=now()
        )
    except Invalid as exc:
        db.rollback()
        return _invitation_page(
            request, db, token, errors=_field_errors(exc), full_name=full_name, status_code=422
        )
    start_session(request.session, user)
    flash(request, "Bienvenue : vous êtes membre de l'organisme et voyez ses dossiers.")
    return RedirectResponse("/mes-dossiers", status_code=303)


# --- my account -------------------------------------------------------------------------------------


def _account_page(
    request: Request,
    db: DB,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "user": user,
        "preferences": preferences.list_for(db, user),
        "organisations": user.organisations,
        "contacts": team_contacts(db, user),
        "errors": errors or {},
        "min_length": MIN_PASSWORD_LENGTH,
        "landing": LANDING.get(user.role, "/"),
    }
    return render(request, "account/mon_compte.html", context, status_code=status_code)


def _account_change(
    request: Request, db: DB, user: User, csrf: str, change: Callable[[], str]
) -> HTMLResponse | RedirectResponse:
    """A change made from the account page: `change` returns what to say once it is made; a refusal
    shows the page again (422) with each field's reason, nothing recorded."""
    check_csrf(request, csrf)
    try:
        message = change()
    except Invalid as exc:
        db.rollback()
        return _account_page(request, db, user, errors=_field_errors(exc), status_code=422)
    flash(request, message)
    return RedirectResponse("/mon-compte", status_code=303)


@router.post("/territoire", response_model=None)
def choose_territory(
    request: Request,
    db: DB,
    user: Account,
    csrf: Annotated[str, Form()] = "",
    territoire: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """A person of several contracts chooses the one its pages act in (kept in the session); it lands
    on its work page there: the page it was on may belong to the other contract."""
    check_csrf(request, csrf)
    choices = {t["code"]: t for t in choices_for(db, user, territoire)}
    if territoire not in choices:
        raise Forbidden(
            "Votre compte ne travaille pas dans ce contrat de ville.",
            code="territoire_non_membre",
            errors=[
                {
                    "path": "territoire",
                    "code": "territoire_non_membre",
                    "message": "Choisissez un des contrats de ville de votre compte.",
                }
            ],
        )
    request.session[SESSION_TERRITORY] = territoire  # "": a porteur's every contract
    chosen = choices[territoire]
    flash(
        request,
        f"Vous travaillez maintenant dans le contrat de ville « {chosen['name']} »."
        if territoire
        else "Vous voyez maintenant les dossiers de tous vos contrats de ville.",
    )
    return RedirectResponse(LANDING.get(chosen["role"], "/"), status_code=303)


@router.get("/mon-compte", response_class=HTMLResponse)
def account_page(request: Request, db: DB, user: Caller) -> HTMLResponse:
    return _account_page(request, db, user)


@router.post("/mon-compte/nom", response_class=HTMLResponse, response_model=None)
def rename(
    request: Request,
    db: DB,
    user: Account,
    csrf: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    def change() -> str:
        recovery.rename(db, user, full_name)
        return "Votre nom est enregistré."

    return _account_change(request, db, user, csrf, change)


@router.post("/mon-compte/adresse", response_class=HTMLResponse, response_model=None)
def change_email(
    request: Request,
    db: DB,
    user: Account,
    settings: AppSettings,
    tasks: BackgroundTasks,
    csrf: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    email_password: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    def change() -> str:
        answer = email_change.request_change(
            db, user, email[:400], email_password[:500], now=now(), base_url=settings.base_url
        )
        _send_later(request, tasks, db)
        return answer

    return _account_change(request, db, user, csrf, change)


@router.get("/changement-adresse/{token}", response_class=HTMLResponse)
def email_change_page(request: Request, token: str, db: DB) -> HTMLResponse:
    row = links.peek(db, links.CHANGE_EMAIL, token, now())
    context = {"user": None, "token": token, "email": (row.data or {}).get("email", "")}
    return render(request, "account/changement_adresse.html", context)


@router.post("/changement-adresse/{token}", response_model=None)
def confirm_email_change(
    request: Request,
    token: str,
    db: DB,
    settings: AppSettings,
    tasks: BackgroundTasks,
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(request, csrf)
    user = email_change.confirm_change(db, token, now=now(), base_url=settings.base_url)
    _send_later(request, tasks, db)
    flash(request, f"Votre adresse est désormais {user.email}.")
    return RedirectResponse("/mon-compte", status_code=303)


@router.post("/mon-compte/mot-de-passe", response_class=HTMLResponse, response_model=None)
def change_password(
    request: Request,
    db: DB,
    user: Account,
    csrf: Annotated[str, Form()] = "",
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    def change() -> str:
        recovery.change_password(db, user, current_password[:500], new_password[:500])
        start_session(request.session, user)  # this browser stays logged in; every other session is cut
        return "Votre mot de passe est changé. Vos autres sessions et jetons d'accès sont fermés."

    return _account_change(request, db, user, csrf, change)


@router.post("/mon-compte/preferences", response_model=None)
async def set_preferences(request: Request, db: DB, user: Account) -> RedirectResponse:
    """One form with a checkbox per optional reminder: those left unticked are turned off."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    wanted = {str(v) for v in form.getlist("on")}
    from starlette.concurrency import run_in_threadpool

    def save() -> None:
        for item in preferences.list_for(db, user):
            if item["optional"] and item["enabled"] != (item["rule"] in wanted):
                preferences.set_for(db, user, item["rule"], item["rule"] in wanted)

    await run_in_threadpool(save)
    flash(request, "Vos préférences de notification sont enregistrées.")
    return RedirectResponse("/mon-compte#preferences", status_code=303)


# --- an organisation's members ----------------------------------------------------------------------


def _members_page(
    request: Request,
    db: DB,
    user: User,
    organisation_id: int,
    *,
    errors: dict[str, str] | None = None,
    entered: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "user": user,
        **membership.members_view(db, user, organisation_id, now()),
        "errors": errors or {},
        "entered": entered,
    }
    return render(request, "account/membres.html", context, status_code=status_code)


@router.get("/mon-compte/organismes/{organisation_id}", response_class=HTMLResponse)
def members_page(request: Request, organisation_id: int, db: DB, user: Porteur) -> HTMLResponse:
    return _members_page(request, db, user, organisation_id)


@router.post(
    "/mon-compte/organismes/{organisation_id}/invitations", response_class=HTMLResponse, response_model=None
)
def invite(
    request: Request,
    organisation_id: int,
    db: DB,
    user: Porteur,
    settings: AppSettings,
    tasks: BackgroundTasks,
    csrf: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    try:
        membership.invite(db, user, organisation_id, email[:400], now=now(), base_url=settings.base_url)
    except AppError as exc:
        if exc.status_code not in (409, 422):
            raise
        db.rollback()
        errors = _field_errors(exc) or {"email": exc.message}
        return _members_page(
            request, db, user, organisation_id, errors=errors, entered=email, status_code=exc.status_code
        )
    _send_later(request, tasks, db)
    flash(request, f"Invitation envoyée à {email.strip().lower()} : le lien est valable 7 jours.")
    return RedirectResponse(f"/mon-compte/organismes/{organisation_id}", status_code=303)


@router.post("/mon-compte/organismes/{organisation_id}/membres/{member_id}/retirer", response_model=None)
def remove_member(
    request: Request,
    organisation_id: int,
    member_id: int,
    db: DB,
    user: Porteur,
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(request, csrf)
    removed = membership.remove_member(db, user, organisation_id, member_id)
    if removed.id == user.id:
        flash(request, "Vous avez quitté l'organisme.")
        return RedirectResponse("/mon-compte", status_code=303)
    flash(request, f"{removed.full_name or removed.email} n'est plus membre de l'organisme.")
    return RedirectResponse(f"/mon-compte/organismes/{organisation_id}", status_code=303)


@router.post("/mon-compte/organismes/{organisation_id}/demandes/{request_id}", response_model=None)
def decide_join(
    request: Request,
    organisation_id: int,
    request_id: int,
    db: DB,
    user: Porteur,
    settings: AppSettings,
    tasks: BackgroundTasks,
    csrf: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(request, csrf)
    if decision not in ("accepter", "refuser"):
        raise Invalid("Choisissez d'accepter ou de refuser la demande.", code="decision_invalide")
    accept = decision == "accepter"
    done = membership.decide_join(
        db, user, organisation_id, request_id, accept, now=now(), base_url=settings.base_url
    )
    _send_later(request, tasks, db)
    who = done.user.full_name or done.user.email
    flash(request, f"{who} est maintenant membre." if accept else f"La demande de {who} est refusée.")
    return RedirectResponse(f"/mon-compte/organismes/{organisation_id}", status_code=303)
