"""The financers' pages: the dossiers that solicit them, one decision or many at once, their enveloppe."""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from aap.campaigns import service as campaigns
from aap.clock import now, territory_today
from aap.deps import DB
from aap.dossiers import service as dossiers
from aap.errors import AppError, Invalid, NotFound
from aap.financing import service as financing
from aap.models import Campaign, User
from aap.web.csrf import check_csrf
from aap.web.rendering import flash, render
from aap.web.staff import queries
from aap.web.staff.common import error_list, page_user, parse_money, see_other
from aap.web.staff.instruction import dossier_context
from workflows.dossier import STATE_LABELS

router = APIRouter(include_in_schema=False)
Agent = Annotated[User, Depends(page_user("financeur"))]
DECISIONS = ("accorde", "refuse", "ajourne")
PAGE_SIZE = 50  # the list of every line, a page at a time
BULK_SIZE = 100  # the bulk form: the first lines awaiting a decision; decided ones make room for the next


def _campaign(db: Session, user: User, campagne: str | None) -> tuple[Campaign | None, list[Campaign]]:
    """The chosen campaign, else the first one with something to decide, else the most recent."""
    items = campaigns.list_campaigns(db, user)
    if campagne and campagne.isdigit():
        return campaigns.get_campaign(db, user, int(campagne)), items
    for c in items:
        if queries.has_awaiting(db, user, c.id):
            return c, items
    return (items[0] if items else None), items


def _envelope(db: Session, user: User, campaign: Campaign) -> dict[str, Any] | None:
    code = user.financeur.code if user.financeur else None
    return next((e for e in financing.enveloppes(db, user, campaign.id) if e["financeur"] == code), None)


def _list_page(
    request: Request,
    db: Session,
    user: User,
    campagne: str | None,
    *,
    page: int = 1,
    status_code: int = 200,
    bulk: dict[str, Any] | None = None,
) -> HTMLResponse:
    campaign, items = _campaign(db, user, campagne)
    empty = queries.LinePage(items=[], total=0)
    lines = (
        queries.financer_lines(db, user, campaign.id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        if campaign
        else empty
    )
    awaiting = (
        queries.financer_lines(db, user, campaign.id, awaiting=True, limit=BULK_SIZE) if campaign else empty
    )
    return render(
        request,
        "staff/financeur.html",
        {
            "user": user,
            "campaign": campaign,
            "campaigns": items,
            "lines": lines.items,
            "lines_total": lines.total,
            "page": page,
            "pages": max((lines.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            "awaiting": awaiting.items,
            "awaiting_total": awaiting.total,
            "envelope": _envelope(db, user, campaign) if campaign else None,
            "bulk": bulk,
        },
        status_code=status_code,
    )


@router.get("/financeur", response_class=HTMLResponse)
def home(
    request: Request,
    db: DB,
    user: Agent,
    campagne: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    return _list_page(request, db, user, campagne, page=page)


def _bulk_items(
    form: Any, ids: list[int]
) -> tuple[list[financing.BulkDecision], list[dict[str, str | None]], dict[int, dict[str, str]]]:
    """The rows with a decision chosen, the errors found before asking the service, what was typed."""
    items: list[financing.BulkDecision] = []
    errors: list[dict[str, str | None]] = []
    entered: dict[int, dict[str, str]] = {}
    for dossier_id in ids:
        decision = str(form.get(f"b-{dossier_id}-decision", "")).strip()
        montant_text = str(form.get(f"b-{dossier_id}-montant", "")).strip()
        motif = str(form.get(f"b-{dossier_id}-motif", "")).strip()
        number = str(form.get(f"b-{dossier_id}-numero", dossier_id))
        entered[dossier_id] = {"decision": decision, "montant": montant_text, "motif": motif}
        if not decision:
            continue
        if decision not in DECISIONS:
            errors.append(
                {"message": f"Dossier {number} : décision inconnue.", "target": f"b-{dossier_id}-decision"}
            )
            continue
        montant: Decimal | None = None
        if decision == "accorde":
            montant = parse_money(montant_text)
            if montant is None:
                errors.append(
                    {
                        "message": f"Dossier {number} : indiquez le montant accordé en euros "
                        "(par exemple 1 200,00).",
                        "target": f"b-{dossier_id}-montant",
                    }
                )
                continue
        items.append(financing.BulkDecision(dossier_id, decision, montant, motif or None))
    return items, errors, entered


@router.post("/financeur/decisions", response_class=HTMLResponse, response_model=None)
async def decide_many(request: Request, db: DB, user: Agent) -> HTMLResponse | RedirectResponse:
    """The comité's list: every chosen decision at once, or none (each error shown on its row)."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    campagne = str(form.get("campagne", ""))
    ids = [int(v) for v in form.getlist("dossier") if isinstance(v, str) and v.isdigit()]
    items, errors, entered = _bulk_items(form, ids)
    if not errors and not items:
        errors.append({"message": "Choisissez une décision pour au moins un dossier.", "target": None})
    if not errors:
        campaign_id = int(campagne) if campagne.isdigit() else 0
        try:
            stored = financing.decide_bulk(db, user, campaign_id, items, now())
        except AppError as exc:
            if not isinstance(exc, Invalid):
                raise
            db.rollback()
            errors = [
                {"message": e.get("message", ""), "target": _bulk_target(e, items)} for e in exc.errors or []
            ]
            errors = errors or [{"message": exc.message, "target": None}]
        else:
            count = stored.body.get("total", len(items)) if isinstance(stored.body, dict) else len(items)
            flash(
                request, f"{count} décision{'s' if count > 1 else ''} enregistrée{'s' if count > 1 else ''}."
            )
            return see_other(f"/financeur?campagne={campagne}")
    bulk = {
        "errors": errors,
        "entered": entered,
        "rows": {e["target"].split("-")[1] for e in errors if e["target"]},
    }
    return _list_page(request, db, user, campagne, status_code=422, bulk=bulk)


def _bulk_target(error: dict[str, Any], items: list[financing.BulkDecision]) -> str | None:
    index = error.get("index")
    if not isinstance(index, int) or not 0 <= index < len(items):
        return None
    path = str(error.get("path", ""))
    field = path.rsplit(".", 1)[-1] if path.count(".") >= 2 else "decision"
    field = field if field in ("montant", "motif", "decision") else "decision"
    return f"b-{items[index].dossier_id}-{field}"


# --- one dossier -----------------------------------------------------------------------------------


def _dossier_page(
    request: Request,
    db: Session,
    user: User,
    dossier_id: int,
    *,
    status_code: int = 200,
    problem: dict[str, Any] | None = None,
) -> HTMLResponse:
    dossier = dossiers.get_dossier(db, user, dossier_id)
    ctx = dossier_context(db, user, dossier, now())
    line = next((c for c in dossier.cofinancements if c.financeur_id == user.financeur_id), None)
    if line is None:
        raise NotFound("Dossier introuvable.", code="dossier_introuvable")
    ctx.update(
        {
            "user": user,
            "line": line,
            "problem": problem,
            "can_decide": queries.awaiting_decision(dossier, line),
            "envelope": _envelope(db, user, dossier.campaign),
            "today": territory_today(dossier.campaign, now()),
        }
    )
    return render(request, "staff/financeur_dossier.html", ctx, status_code=status_code)


render_dossier_page = _dossier_page  # the payment form answers on this page too


@router.get("/financeur/dossiers/{dossier_id}", response_class=HTMLResponse)
def dossier_page(request: Request, dossier_id: int, db: DB, user: Agent) -> HTMLResponse:
    return _dossier_page(request, db, user, dossier_id)


@router.post("/financeur/dossiers/{dossier_id}/decision", response_class=HTMLResponse, response_model=None)
def decide(
    request: Request,
    dossier_id: int,
    db: DB,
    user: Agent,
    csrf: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
    montant: Annotated[str, Form()] = "",
    motif: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    ids = {"decision": "dec-decision", "montant": "dec-montant", "motif": "dec-motif"}
    amount = parse_money(montant) if decision == "accorde" else None
    try:
        if decision not in DECISIONS:
            raise Invalid(
                "Décision refusée.",
                code="decision_invalide",
                errors=[{"path": "decision", "message": "Choisissez : accordé, refusé ou ajourné."}],
            )
        if decision == "accorde" and amount is None:
            raise Invalid(
                "Décision refusée.",
                code="montant_invalide",
                errors=[
                    {
                        "path": "montant",
                        "message": "Indiquez le montant accordé en euros (par exemple 1 200,00).",
                    }
                ],
            )
        code = user.financeur.code if user.financeur else ""
        dossier = financing.decide(db, user, dossier_id, code, decision, amount, motif.strip() or None, now())
    except AppError as exc:
        if isinstance(exc, NotFound) and exc.code == "dossier_introuvable":
            raise
        db.rollback()
        problem = {
            "errors": error_list(exc, ids),
            "entered": {"decision": decision, "montant": montant, "motif": motif},
        }
        return _dossier_page(request, db, user, dossier_id, status_code=exc.status_code, problem=problem)
    flash(
        request,
        f"Décision enregistrée pour le dossier {dossier.number}. "
        f"Le dossier est à l'état « {STATE_LABELS[dossier.state]} ».",
    )
    return see_other(f"/financeur/dossiers/{dossier_id}")
