"""Recording an avance or a solde from the dossier page (instructeur, admin or the financer's agent):
the same service as the API (`financing.record_payment`), errors shown beside the form."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from aap.clock import now
from aap.deps import DB
from aap.errors import AppError, Invalid, NotFound
from aap.financing import service as financing
from aap.models import User
from aap.web.csrf import check_csrf
from aap.web.rendering import flash
from aap.web.staff import financeur as financeur_pages
from aap.web.staff import instruction as instruction_pages
from aap.web.staff.common import error_list, page_user, parse_day, parse_money, see_other
from workflows.cofinancement import format_euros
from workflows.labels import PAYMENT_LABELS

router = APIRouter(include_in_schema=False)
Payer = Annotated[User, Depends(page_user("instructeur", "admin", "financeur"))]


@router.post("/paiements/dossiers/{dossier_id}/{code}", response_class=HTMLResponse, response_model=None)
def record(
    request: Request,
    dossier_id: int,
    code: str,
    db: DB,
    user: Payer,
    csrf: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    paid_on: Annotated[str, Form()] = "",
    montant: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    back = (
        f"/financeur/dossiers/{dossier_id}"
        if user.role == "financeur"
        else f"/instruction/dossiers/{dossier_id}"
    )
    ids = {"kind": f"pay-{code}-kind", "montant": f"pay-{code}-montant", "date": f"pay-{code}-date"}
    amount, day = parse_money(montant), parse_day(paid_on)
    try:
        errors = []
        if amount is None:
            errors.append(
                {"path": "montant", "message": "Indiquez le montant versé en euros (par exemple 1 200,00)."}
            )
        if day is None:
            errors.append({"path": "date", "message": "Indiquez la date du versement (jj/mm/aaaa)."})
        if errors:
            raise Invalid("Versement refusé.", code="versement_invalide", errors=errors)
        assert amount is not None and isinstance(day, date)
        financing.record_payment(db, user, dossier_id, code, kind, day, amount, now())
    except AppError as exc:
        if isinstance(exc, NotFound) and exc.code == "dossier_introuvable":
            raise
        db.rollback()
        problem = {
            "kind": "paiement",
            "financeur": code,
            "errors": error_list(exc, ids),
            "entered": {"kind": kind, "paid_on": paid_on, "montant": montant},
        }
        page = (
            financeur_pages.render_dossier_page
            if user.role == "financeur"
            else instruction_pages.render_dossier_page
        )
        return page(request, db, user, dossier_id, status_code=exc.status_code, problem=problem)
    flash(
        request,
        f"{PAYMENT_LABELS.get(kind, kind)} de {format_euros(amount)} enregistré(e) le {day:%d/%m/%Y}.",
    )
    return see_other(back + "#paiements")
