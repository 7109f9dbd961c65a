"""The porteur's page for the budget adjusted after a partial grant: the form's budget section, filed
through the same service as `PUT /api/v1/dossiers/{id}/budget-ajuste` (`aap/financing/ajustement.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aap.campaigns.forms import form_context
from aap.clock import now
from aap.deps import DB, Caller, Porteur
from aap.dossiers import service as dossiers
from aap.errors import AppError, PreconditionFailed
from aap.financing import ajustement
from aap.models import Dossier, User
from aap.web import porteur_views as views
from aap.web.csrf import check_csrf
from aap.web.rendering import flash, render

router = APIRouter(include_in_schema=False)


async def _posted(request: Request) -> list[tuple[str, Any]]:
    return list((await request.form()).multi_items())


def _starting_budget(dossier: Dossier, state: dict[str, Any]) -> dict[str, Any]:
    """What the page proposes: the budget filed last, else the deposited one with the subsidies set to
    what was accorded (the service checks them; the person adjusts the charges)."""
    filed = state["budget"]
    if isinstance(filed, dict):
        return {k: v for k, v in filed.items() if k not in ("version", "depose_le")}
    deposited = (dossier.answers or {}).get("budget")
    budget = dict(deposited) if isinstance(deposited, dict) else {}
    budget["financements"] = dict(state["subventions"])
    return budget


def _page(
    request: Request,
    db: DB,
    user: User,
    dossier: Dossier,
    *,
    budget: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    state = ajustement.state_of(dossier)
    form = dossiers.campaign_form_of(dossier)
    ctx = form_context(db, dossier.campaign)
    answers = {"budget": budget if budget is not None else _starting_budget(dossier, state)}
    names = {line.financeur.code: line.financeur.name for line in dossier.cofinancements}
    context = {
        "user": user,
        "dossier": dossier,
        "campaign": dossier.campaign,
        "crumb": "Budget ajusté",
        "heading": "Budget ajusté après la décision des financeurs",
        "ajustement": state,
        "accorde": [(names.get(code, code), amount) for code, amount in state["subventions"].items()],
        "editable": user.role == "porteur" and state["open"],
        "form_html": form.render_html(
            answers,
            ctx,
            views.field_errors(errors),
            section="budget",
            readonly=not (user.role == "porteur" and state["open"]),
        ),
        "problem": problem,
    }
    return render(request, "porteur/budget_ajuste.html", context, status_code=status_code)


@router.get("/dossiers/{dossier_id}/budget-ajuste", response_class=HTMLResponse)
def budget_page(request: Request, dossier_id: int, db: DB, user: Caller) -> HTMLResponse:
    return _page(request, db, user, dossiers.get_dossier(db, user, dossier_id))


@router.post("/dossiers/{dossier_id}/budget-ajuste", response_model=None)
def file_budget(
    request: Request,
    dossier_id: int,
    db: DB,
    user: Porteur,
    items: list[tuple[str, Any]] = Depends(_posted),
) -> Response:
    flat = views.flat_form(items)
    csrf, version = flat.get("csrf"), flat.get("version")
    check_csrf(request, csrf if isinstance(csrf, str) else None)
    dossier = dossiers.get_dossier(db, user, dossier_id)
    form = dossiers.campaign_form_of(dossier)
    budget = form.answers_from_form(flat, form_context(db, dossier.campaign), section="budget").get(
        "budget", {}
    )
    if_match = int(version) if isinstance(version, str) and version.isdigit() else None
    try:
        saved = ajustement.file_adjusted_budget(db, user, dossier_id, budget, if_match, now())
    except AppError as exc:
        db.rollback()
        if exc.status_code in (403, 404):
            raise
        problem = exc.message
        if isinstance(exc, PreconditionFailed):
            problem = (
                "Ce dossier a été modifié ailleurs depuis que vous avez ouvert cette page : vos saisies ci-dessous "
                "ne sont PAS enregistrées ; vérifiez-les puis déposez à nouveau."
            )
        current = dossiers.get_dossier(db, user, dossier_id)
        return _page(
            request,
            db,
            user,
            current,
            budget=budget,
            errors=exc.errors,
            problem=problem,
            status_code=exc.status_code,
        )
    version_no = ajustement.state_of(saved)["budget_version"]
    flash(request, f"Budget ajusté déposé (version {version_no}) : la convention s'y référera.")
    return RedirectResponse(f"/dossiers/{dossier_id}#fin-title", status_code=303)
