"""The CPO pages: the list (the porteur's CPOs, the CPOs a financer signs, the territory's for staff,
with the gauge of the share under CPO against 50 %), one CPO with its years and what the caller may
do (sign, resiliate, record an avance voted before the bilan), and the instructeur's proposal form.

Thin routes: they parse the form, call `aap.cpo.service`, and render or redirect; the figures and the
labels come from the services and `workflows.cpo`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from aap.campaigns import service as campaigns
from aap.clock import now
from aap.cpo import repository, service
from aap.cpo import totaux as cpo_totaux
from aap.deps import DB
from aap.dossiers import service as dossiers
from aap.errors import AppError
from aap.models import Campaign, User
from aap.web.csrf import check_csrf
from aap.web.rendering import flash, render
from aap.web.staff import queries
from aap.web.staff.charts import Bar, bar_chart
from aap.web.staff.common import error_list, page_user, see_other
from workflows import cpo as lifecycle

router = APIRouter(include_in_schema=False)
Anyone = Annotated[User, Depends(page_user("admin", "instructeur", "financeur", "porteur"))]
Staff = Annotated[User, Depends(page_user("admin", "instructeur"))]
MAX_YEARS = lifecycle.MAX_YEARS


def _gauge(db: Session, user: User, campaign: Campaign | None) -> tuple[Any, list[dict[str, Any]]]:
    if campaign is None or user.role == "porteur":
        return None, []
    shares = cpo_totaux.cpo_shares(db, user, campaign)
    chart = bar_chart(
        "jauge-cpo",
        f"Part des montants accordés sous CPO en {campaign.year}, face à l'objectif de 50 %",
        [
            Bar(
                s["financeur_name"],
                Decimal(s["part"]) * 100,
                f"{Decimal(s['part']) * 100:.1f} %".replace(".", ","),
            )
            for s in shares
        ],
        maximum=100,
        target=(Decimal(50), "Objectif : 50 %"),
    )
    return chart, shares


@router.get("/cpo", response_class=HTMLResponse)
def cpo_list(
    request: Request,
    db: DB,
    user: Anyone,
    etat: Annotated[str | None, Query()] = None,
    campagne: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    state = etat if etat in lifecycle.STATES else None
    items, total = repository.find(db, user, state=state, limit=500)
    moment = now()
    views = [service.view(db, user, c, moment) for c in items]
    campaign: Campaign | None = None
    if user.role != "porteur":
        listed = campaigns.list_campaigns(db, user)
        if campagne and campagne.isdigit():
            campaign = campaigns.get_campaign(db, user, int(campagne))
        else:
            campaign = queries.default_campaign(db, listed)
    else:
        listed = []
    chart, shares = _gauge(db, user, campaign)
    return render(
        request,
        "cpo/list.html",
        {
            "user": user,
            "cpos": views,
            "total": total,
            "state": state,
            "states": lifecycle.STATE_LABELS,
            "campaign": campaign,
            "campaigns": listed,
            "chart": chart,
            "shares": shares,
        },
    )


def _detail(
    request: Request, db: Session, user: User, cpo_id: int, *, problem: dict[str, Any] | None = None
) -> HTMLResponse:
    cpo = service.get_cpo(db, user, cpo_id)
    view = service.view(db, user, cpo, now())
    return render(
        request,
        "cpo/detail.html",
        {
            "user": user,
            "cpo": view,
            "history": service.history(db, user, cpo_id),
            "event_labels": lifecycle.HISTORY_LABELS,
            "problem": problem,
            "mine": user.financeur.code if user.financeur else None,
        },
        status_code=422 if problem else 200,
    )


@router.get("/cpo/{cpo_id:int}", response_class=HTMLResponse)
def cpo_detail(request: Request, cpo_id: int, db: DB, user: Anyone) -> HTMLResponse:
    return _detail(request, db, user, cpo_id)


@router.post("/cpo/{cpo_id:int}/transitions/{name}", response_class=HTMLResponse, response_model=None)
def cpo_transition(
    request: Request,
    cpo_id: int,
    name: str,
    db: DB,
    user: Anyone,
    csrf: Annotated[str | None, Form()] = None,
    motif: Annotated[str | None, Form()] = None,
    montants: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    payload: dict[str, Any] = {}
    if motif is not None:
        payload["motif"] = motif
    if montants:
        payload["montants"] = montants
    try:
        service.fire_transition(db, user, cpo_id, name, payload, now())
    except AppError as exc:
        db.rollback()
        return _detail(request, db, user, cpo_id, problem={"action": name, "errors": error_list(exc)})
    flash(request, "CPO signée." if name == "signer" else "CPO mise à jour.")
    return see_other(f"/cpo/{cpo_id}")


@router.post("/cpo/{cpo_id:int}/avance-avant-bilan", response_class=HTMLResponse, response_model=None)
def cpo_advance(
    request: Request,
    cpo_id: int,
    db: DB,
    user: Anyone,
    csrf: Annotated[str | None, Form()] = None,
    annee: Annotated[str, Form()] = "",
    financeur: Annotated[str, Form()] = "",
    justification: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    try:
        year = int(annee) if annee.strip().isdigit() else 0
        service.record_advance_before_bilan(db, user, cpo_id, year, financeur, justification, now())
    except AppError as exc:
        db.rollback()
        return _detail(request, db, user, cpo_id, problem={"action": "avance", "errors": error_list(exc)})
    flash(request, "Avance votée avant le bilan enregistrée.")
    return see_other(f"/cpo/{cpo_id}")


def _proposal_page(
    request: Request,
    db: Session,
    user: User,
    dossier_id: int,
    *,
    entered: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> HTMLResponse:
    dossier = dossiers.get_dossier(db, user, dossier_id)
    lines = [line for line in dossier.cofinancements if line.decision == "accorde"] or list(
        dossier.cofinancements
    )
    defaults: dict[str, str] = {"debut": str(dossier.campaign.year), "duree": "3"}
    for line in lines:
        defaults[f"signe-{line.financeur.code}"] = "on"
        amount = line.montant_accorde or line.montant_propose or line.montant_demande
        for i in range(MAX_YEARS):
            defaults[f"montant-{line.financeur.code}-{i}"] = f"{amount:.2f}"
    return render(
        request,
        "cpo/proposer.html",
        {
            "user": user,
            "dossier": dossier,
            "lines": lines,
            "values": entered or defaults,
            "errors": errors or [],
            "max_years": MAX_YEARS,
            "ready": dossier.state in service.ORIGIN_STATES,
        },
        status_code=422 if errors else 200,
    )


@router.get("/cpo/proposer/{dossier_id:int}", response_class=HTMLResponse)
def proposal_form(request: Request, dossier_id: int, db: DB, user: Staff) -> HTMLResponse:
    return _proposal_page(request, db, user, dossier_id)


@router.post("/cpo/proposer/{dossier_id:int}", response_class=HTMLResponse, response_model=None)
async def propose(request: Request, dossier_id: int, db: DB, user: Staff) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    entered = {k: str(v) for k, v in form.items() if k != "csrf"}
    debut, duree = entered.get("debut", "").strip(), entered.get("duree", "").strip()
    years: object = (
        list(range(int(debut), int(debut) + int(duree))) if debut.isdigit() and duree.isdigit() else debut
    )
    count = int(duree) if duree.isdigit() else 0
    codes = [k.removeprefix("signe-") for k in entered if k.startswith("signe-")]
    amounts = {
        code: [entered.get(f"montant-{code}-{i}", "").strip().replace(",", ".") for i in range(count)]
        for code in codes
    }
    try:
        cpo = service.propose(
            db,
            user,
            dossier_id,
            years,
            amounts,
            now(),
            objectifs=entered.get("objectifs") or None,
            indicateurs=entered.get("indicateurs") or None,
        )
    except AppError as exc:
        db.rollback()
        ids = {f"financeurs.{c}.{i}": f"montant-{c}-{i}" for c in codes for i in range(count)}
        ids |= {"annees": "debut", "financeurs": "financeurs"}
        return _proposal_page(request, db, user, dossier_id, entered=entered, errors=error_list(exc, ids))
    flash(request, "CPO proposée : chaque financeur signataire peut maintenant la signer.")
    return see_other(f"/cpo/{cpo.id}")
