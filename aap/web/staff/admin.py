"""The contract's team: campaigns (dates, form, enveloppes), accounts and roles, the territory."""

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.accounts.mail import deliver_soon
from aap.accounts.staff import MIN_PASSWORD_LENGTH, STAFF_ROLES, StaffInvite, create_staff_account, set_active
from aap.accounts.staff_invitation import INVITED_ROLES, MAX_CSV_BYTES, import_staff, invite_staff
from aap.campaigns import service as campaigns
from aap.clock import now
from aap.deps import DB, AppSettings
from aap.errors import AppError, Conflict, Invalid, NotFound
from aap.financing import service as financing
from aap.models import Commune, Priority, Territory, User
from aap.rgpd import personal_data
from aap.web.csrf import check_csrf
from aap.web.rendering import flash, render
from aap.web.staff import queries
from aap.web.staff.common import error_list, page_user, parse_money, see_other
from workflows.calendar import CalendarNotFound, load_calendar

router = APIRouter(include_in_schema=False)
AdminUser = Annotated[User, Depends(page_user("admin"))]


def _campaign_views(db: Session, user: User) -> list[dict[str, Any]]:
    out = []
    for c in campaigns.list_campaigns(db, user):
        try:
            calendar = load_calendar(c.calendar)
            label, names = calendar.label, calendar.date_label
            phase = campaigns.phase(c, now()).label
        except CalendarNotFound:
            label, names, phase = c.calendar, (lambda name: name), ""
        dates = sorted(c.parsed_dates().items(), key=lambda kv: kv[1])
        out.append(
            {
                "campaign": c,
                "calendar": label,
                "dates": [(names(n), d) for n, d in dates],
                "phase": phase,
                "envelopes": financing.enveloppes(db, user, c.id),
            }
        )
    return out


def _campaigns_page(
    request: Request,
    db: Session,
    user: User,
    *,
    status_code: int = 200,
    problem: dict[str, Any] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "staff/admin_campaigns.html",
        {
            "user": user,
            "items": _campaign_views(db, user),
            "problem": problem,
        },
        status_code=status_code,
    )


@router.get("/admin", response_class=HTMLResponse)
def campaigns_page(request: Request, db: DB, user: AdminUser) -> HTMLResponse:
    return _campaigns_page(request, db, user)


@router.post(
    "/admin/campagnes/{campaign_id}/enveloppes/{financeur}", response_class=HTMLResponse, response_model=None
)
def set_enveloppe(
    request: Request,
    campaign_id: int,
    financeur: str,
    db: DB,
    user: AdminUser,
    csrf: Annotated[str, Form()] = "",
    enveloppe: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    field_id = f"e-{campaign_id}-{financeur}"
    amount = parse_money(enveloppe)
    try:
        if amount is None:
            raise Invalid(
                "L'enveloppe n'a pas été modifiée.",
                code="montant_invalide",
                errors=[
                    {"path": "enveloppe", "message": "Indiquez un montant en euros, par exemple 45 000,00."}
                ],
            )
        financing.set_enveloppe(db, user, campaign_id, financeur, amount, comment.strip() or None)
    except AppError as exc:
        if not isinstance(exc, Invalid):
            raise
        db.rollback()
        problem = {
            "campaign_id": campaign_id,
            "financeur": financeur,
            "errors": error_list(exc, {"enveloppe": field_id}),
            "entered": enveloppe,
        }
        return _campaigns_page(request, db, user, status_code=422, problem=problem)
    flash(request, f"Enveloppe de {financeur} enregistrée.")
    return see_other(f"/admin#campagne-{campaign_id}")


USERS_PAGE_SIZE = 100


def _users_page(
    request: Request,
    db: Session,
    user: User,
    *,
    page: int = 1,
    status_code: int = 200,
    problem: dict[str, Any] | None = None,
) -> HTMLResponse:
    accounts, total = queries.users_of_territory(
        db, user.territory_id, limit=USERS_PAGE_SIZE, offset=(page - 1) * USERS_PAGE_SIZE
    )
    return render(
        request,
        "staff/admin_users.html",
        {
            "user": user,
            "accounts": accounts,
            "accounts_total": total,
            "page": page,
            "pages": max((total + USERS_PAGE_SIZE - 1) // USERS_PAGE_SIZE, 1),
            "financeurs": queries.financeurs(db, user.territory_id),
            "problem": problem,
            "min_password": MIN_PASSWORD_LENGTH,
            "staff_roles": STAFF_ROLES,
            "invited_roles": INVITED_ROLES,
        },
        status_code=status_code,
    )


@router.get("/admin/utilisateurs", response_class=HTMLResponse)
def users_page(
    request: Request, db: DB, user: AdminUser, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1
) -> HTMLResponse:
    return _users_page(request, db, user, page=page)


@router.post("/admin/utilisateurs", response_class=HTMLResponse, response_model=None)
def create_account(
    request: Request,
    db: DB,
    user: AdminUser,
    csrf: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    financeur: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    try:
        created = create_staff_account(
            db,
            user,
            email=email,
            full_name=full_name,
            role=role,
            financeur_code=financeur or None,
            password=password,
        )
    except Invalid as exc:
        db.rollback()
        ids = {k: f"u-{k.replace('_', '-')}" for k in ("email", "full_name", "role", "financeur", "password")}
        problem = {
            "errors": error_list(exc, ids),
            "entered": {"email": email, "full_name": full_name, "role": role, "financeur": financeur},
        }
        return _users_page(request, db, user, status_code=422, problem=problem)
    flash(request, f"Compte créé pour {created.email}. Transmettez-lui son mot de passe provisoire.")
    return see_other("/admin/utilisateurs")


@router.post("/admin/utilisateurs/invitations", response_class=HTMLResponse, response_model=None)
def invite_account(
    request: Request,
    db: DB,
    user: AdminUser,
    settings: AppSettings,
    tasks: BackgroundTasks,
    csrf: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    financeur: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """The same service as `POST /api/v1/users/invitations`: an account without password, a link by e-mail."""
    check_csrf(request, csrf)
    try:
        invited = invite_staff(
            db,
            user,
            StaffInvite(email, full_name, role, financeur or None),
            now=now(),
            base_url=settings.base_url,
        )
    except Invalid as exc:
        db.rollback()
        ids = {k: f"i-{k.replace('_', '-')}" for k in ("email", "full_name", "role", "financeur")}
        problem = {
            "invite_errors": error_list(exc, ids),
            "invite_entered": {"email": email, "full_name": full_name, "role": role, "financeur": financeur},
        }
        return _users_page(request, db, user, status_code=422, problem=problem)
    tasks.add_task(deliver_soon, request.app.state.sessionmaker, request.app.state.settings, db)
    flash(
        request, f"Invitation envoyée à {invited.email} : le lien pour choisir son mot de passe vaut 7 jours."
    )
    return see_other("/admin/utilisateurs")


@router.post("/admin/utilisateurs/import", response_class=HTMLResponse, response_model=None)
def import_accounts(
    request: Request,
    db: DB,
    user: AdminUser,
    settings: AppSettings,
    tasks: BackgroundTasks,
    csrf: Annotated[str, Form()] = "",
    fichier: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse | RedirectResponse:
    """A CSV of staff (email, nom, role, financeur), all or nothing, the same service as `aap admin import-staff`."""
    check_csrf(request, csrf)
    content = fichier.file.read(MAX_CSV_BYTES + 1) if fichier is not None else b""
    try:
        invited = import_staff(db, user, user.territory_id, content, now=now(), base_url=settings.base_url)
    except Invalid as exc:
        db.rollback()
        problem = {"import_errors": error_list(exc)}
        return _users_page(request, db, user, status_code=422, problem=problem)
    tasks.add_task(deliver_soon, request.app.state.sessionmaker, request.app.state.settings, db)
    flash(request, f"{len(invited)} invitation(s) envoyée(s).")
    return see_other("/admin/utilisateurs")


@router.post("/admin/utilisateurs/{account_id}/effacer", response_model=None)
def erase_account(
    request: Request,
    account_id: int,
    db: DB,
    user: AdminUser,
    csrf: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Anonymises the account (`aap.rgpd.personal_data.erase`); a refusal is shown with its reason."""
    check_csrf(request, csrf)
    try:
        personal_data.erase(db, user, account_id, email, now())
    except (Invalid, Conflict) as exc:
        db.rollback()
        flash(request, f"Les données n'ont pas été effacées : {exc.message}", "error")
        return see_other(f"/admin/utilisateurs#compte-{account_id}")
    flash(request, "Données du compte effacées : nom et adresse remplacés, sessions fermées.")
    return see_other(f"/admin/utilisateurs#compte-{account_id}")


@router.post("/admin/utilisateurs/{account_id}/{action}", response_model=None)
def set_account_active(
    request: Request, account_id: int, action: str, db: DB, user: AdminUser, csrf: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """« Désactiver » cuts every session and token of the account at once; « Réactiver » lets it log in."""
    check_csrf(request, csrf)
    if action not in ("desactiver", "reactiver"):
        raise NotFound("Cette page n'existe pas.", code="page_introuvable")
    target = set_active(db, user, account_id, action == "reactiver")
    done = "réactivé" if target.active else "désactivé : ses sessions et jetons sont fermés"
    flash(request, f"Compte {target.email} {done}.")
    return see_other(f"/admin/utilisateurs#compte-{target.id}")


@router.get("/admin/territoire", response_class=HTMLResponse)
def territory_page(request: Request, db: DB, user: AdminUser) -> HTMLResponse:
    territory = db.get(Territory, user.territory_id) if user.territory_id else None
    tid = user.territory_id
    tree = queries.orientations(db, tid)
    children: dict[str | None, list[Any]] = {}
    for o in tree:
        children.setdefault(o.parent_code, []).append(o)
    communes = {c.insee: c.name for c in db.scalars(select(Commune).where(Commune.territory_id == tid))}
    return render(
        request,
        "staff/admin_territory.html",
        {
            "user": user,
            "territory": territory,
            "communes": communes,
            "qpvs": list(territory.qpvs) if territory else [],
            "children": children,
            "priorities": list(
                db.scalars(select(Priority).where(Priority.territory_id == tid).order_by(Priority.position))
            ),
            "financeurs": queries.financeurs(db, tid),
        },
    )
