"""The instructeurs' pages: the dossiers with filters and counts, a dossier to instruct, the comité."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from aap.attachments import service as attachments
from aap.avis import service as avis
from aap.campaigns import service as campaigns
from aap.campaigns.forms import form_context
from aap.clock import now, territory_today
from aap.deps import DB
from aap.dossiers import queries as dossier_queries
from aap.dossiers import service as dossiers
from aap.errors import AppError, Invalid, NotFound
from aap.financing import ajustement, echeancier, programmation
from aap.financing import service as financing
from aap.financing.documents import document_out, list_documents
from aap.messages import service as messages
from aap.models import Dossier, User
from aap.web.csrf import check_csrf
from aap.web.rendering import flash, render
from aap.web.staff import queries
from aap.web.staff.common import error_list, page_links, page_user, parse_day, parse_money, see_other
from workflows import dossier as lifecycle
from workflows.labels import DOCUMENT_TITLES, PARTNER_AVIS_LABELS

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[User, Depends(page_user("instructeur", "admin"))]

# what each transition asks for, from its conditions in the lifecycle table
FIELDS_OF_CONDITION = {"comment_given": "comment", "due_date_future": "due_date", "avis_valid": "avis"}
PAGE_SIZE = 50
COMITE_PAGE_SIZE = 100


def transition_forms(user: User, dossier: Dossier) -> list[dict[str, Any]]:
    out = []
    for name in dossiers.transitions_for(user, dossier):
        t = lifecycle.spec(name)
        required = {FIELDS_OF_CONDITION[c] for c in t.conditions if c in FIELDS_OF_CONDITION}
        out.append(
            {
                "name": name,
                "label": t.label,
                "dest": t.dest,
                "required": required,
                "due_date": "due_date" in required,
                "avis": "avis" in required,
            }
        )
    return out


def lifecycle_view(dossier: Dossier, passed: set[str]) -> dict[str, Any]:
    """The states in lifecycle order (current marked, passed ones noted) and the table of transitions."""
    states = [
        {
            "code": s,
            "label": lifecycle.STATE_LABELS[s],
            "current": s == dossier.state,
            "passed": s in passed and s != dossier.state,
            "terminal": s in lifecycle.TERMINAL_STATES,
        }
        for s in lifecycle.STATES
    ]
    roles = {"porteur": "porteur", "instructeur": "instructeur", "admin": "équipe", "system": "automatique"}
    rows = [
        {
            "label": t.label,
            "sources": [lifecycle.STATE_LABELS[s] for s in t.sources],
            "dest": lifecycle.STATE_LABELS[t.dest],
            "from_current": dossier.state in t.sources,
            "by": ", ".join(roles[r] for r in sorted(t.roles) if r in roles),
        }
        for t in lifecycle.TRANSITIONS
    ]
    return {
        "states": states,
        "transitions": rows,
        "svg": Markup(lifecycle.svg(dossier.state)),
        "mermaid": lifecycle.mermaid(dossier.state),
    }


def dossier_context(session: Session, user: User, dossier: Dossier, when: datetime) -> dict[str, Any]:
    """Everything a staff dossier page shows: answers, pièces, history, lifecycle, lines."""
    form = dossiers.campaign_form_of(dossier)
    events = dossiers.history(session, user, dossier.id)
    passed = {e.from_state for e in events if e.from_state} | {e.to_state for e in events}
    return {
        "dossier": dossier,
        "answers_html": form.render_html(
            dossier.answers or {}, form_context(session, dossier.campaign), readonly=True
        ),
        "events": events,
        "pieces": attachments.dossier_files(session, user, dossier.id)[1],
        "lifecycle": lifecycle_view(dossier, passed),
        "requested": dossiers.requested_total(dossier),
        "overdue": queries.is_overdue(dossier, when),
        "qpvs": queries.qpvs_of(dossier),
        "orientation": queries.orientation_of(dossier),
        "thread": messages.thread(session, user, dossier.id),
        "documents": staff_documents(session, user, dossier),
        "echeancier": echeancier.schedules(session, dossier, user),
        "ajustement": ajustement.state_of(dossier),
        "PAYMENT_LABELS": echeancier.RECORDABLE_PAYMENTS,
        "DOCUMENT_TITLES": DOCUMENT_TITLES,
    }


def staff_documents(session: Session, user: User, dossier: Dossier) -> list[dict[str, Any]]:
    """The documents this staff member may open (a financer: its own), as the API lists them."""
    docs = list_documents(session, user, dossier.id)
    names = {line.financeur_id: line.financeur for line in dossier.cofinancements}
    out = []
    for doc in docs:
        item = document_out(doc, names)
        item["created_at"] = doc.uploaded_at
        out.append(item)
    return out


def _financeur_codes(db: Session, user: User, dossier_id: int) -> list[str]:
    return [line.financeur.code for line in dossiers.get_dossier(db, user, dossier_id).cofinancements]


@router.get("/instruction", response_class=HTMLResponse)
def dossier_list(
    request: Request,
    db: DB,
    user: StaffUser,
    campagne: Annotated[str | None, Query()] = None,
    etat: Annotated[str | None, Query()] = None,
    qpv: Annotated[str | None, Query()] = None,
    orientation: Annotated[str | None, Query()] = None,
    financeur: Annotated[str | None, Query()] = None,
    retard: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    tri: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    items = campaigns.list_campaigns(db, user)
    campaign_id = int(campagne) if campagne and campagne.isdigit() else None
    filters = queries.Filters(
        campaign_id=campaign_id,
        state=etat if etat in lifecycle.STATES else None,
        qpv=qpv or None,
        orientation=orientation or None,
        financeur=financeur or None,
        overdue=bool(retard),
        text=(q or "").strip() or None,
    )
    when = now()
    found = dossier_queries.page(
        db, user, filters, when, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, sort=tri or "numero"
    )
    pages = max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if page > pages:  # past the end (the list shrank): the last page
        page = pages
        found = dossier_queries.page(
            db, user, filters, when, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, sort=tri or "numero"
        )
    base_query = {
        k: v
        for k, v in {
            "campagne": campagne,
            "etat": filters.state,
            "qpv": filters.qpv,
            "orientation": filters.orientation,
            "financeur": filters.financeur,
            "retard": "1" if filters.overdue else None,
            "q": filters.text,
            "tri": tri if tri in dossier_queries.SORTS else None,
        }.items()
        if v
    }
    return render(
        request,
        "staff/instruction_list.html",
        {
            "user": user,
            "campaigns": items,
            "filters": filters,
            "rows": found.items,
            "total": found.total,
            "page": page,
            "pages": pages,
            "page_links": page_links(page, pages),
            "counts": found.ordered_counts(),
            "count_total": sum(found.counts.values()),
            "qpv_options": queries.qpv_options(db, user.territory_id),
            "orientations": queries.orientations(db, user.territory_id),
            "financeurs": queries.financeurs(db, user.territory_id),
            "states": [(s, lifecycle.STATE_LABELS[s]) for s in lifecycle.STATES],
            "overdue_days": queries.overdue_depose_days(),
            "base_query": base_query,
            "is_overdue": lambda d: queries.is_overdue(d, when),
            "qpvs_of": queries.qpvs_of,
            "orientation_of": queries.orientation_of,
        },
    )


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
    when = now()
    ctx = dossier_context(db, user, dossier, when)
    ctx.update(
        {
            "user": user,
            "transitions": transition_forms(user, dossier),
            "problem": problem,
            "can_propose": dossier.state in financing.PROPOSABLE_STATES,
            "can_extend": dossier.state in ("brouillon", "non_depose"),
            "today": territory_today(dossier.campaign, when),  # the dates' first day, where it is
            "avis_partenaires": avis.for_dossier(db, user, dossier.id),
            "avis_late": lambda a: avis.is_late(a, when),
            "can_ask_avis": dossier.state in avis.ASKABLE_STATES,
            "partners": avis.partners_of(db, user),
            "partner_labels": PARTNER_AVIS_LABELS,
        }
    )
    return render(request, "staff/instruction_dossier.html", ctx, status_code=status_code)


render_dossier_page = _dossier_page  # the pages of other domains answer on this page too


@router.get("/instruction/dossiers/{dossier_id}", response_class=HTMLResponse)
def dossier_page(request: Request, dossier_id: int, db: DB, user: StaffUser) -> HTMLResponse:
    return _dossier_page(request, db, user, dossier_id)


@router.post(
    "/instruction/dossiers/{dossier_id}/transitions/{name}", response_class=HTMLResponse, response_model=None
)
def fire(
    request: Request,
    dossier_id: int,
    name: str,
    db: DB,
    user: StaffUser,
    csrf: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    due_date: Annotated[str, Form()] = "",
    avis: Annotated[str, Form()] = "",
    pieces_demandees: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    payload: dict[str, Any] = {}
    if pieces_demandees.strip():
        payload["pieces_demandees"] = [line.strip() for line in pieces_demandees.splitlines() if line.strip()]
    if comment.strip():
        payload["comment"] = comment.strip()
    if due_date.strip():
        payload["due_date"] = parse_day(due_date) or due_date.strip()
    if avis:
        payload["avis"] = avis
    if_match = int(version) if version.isdigit() else None
    try:
        dossier = dossiers.fire_transition(
            db,
            user,
            dossier_id,
            name,
            payload,
            now(),
            if_match=if_match,
            data_dir=request.app.state.settings.data_dir,
        )
    except AppError as exc:
        if isinstance(exc, NotFound) and exc.code == "dossier_introuvable":
            raise
        db.rollback()
        ids = {f: f"t-{name}-{f.replace('_', '-')}" for f in ("comment", "due_date", "avis")}
        ids |= {"pieces_demandees": f"t-{name}-pieces"}
        ids |= {f"pieces_demandees.{i}": f"t-{name}-pieces" for i in range(20)}
        ids |= {
            f"cofinancements.{code}.montant_propose": f"p-{code}-montant"
            for code in _financeur_codes(db, user, dossier_id)
        }
        problem = {
            "kind": "transition",
            "name": name,
            "errors": error_list(exc, ids),
            "entered": {
                "comment": comment,
                "due_date": due_date,
                "avis": avis,
                "pieces_demandees": pieces_demandees,
            },
        }
        return _dossier_page(request, db, user, dossier_id, status_code=exc.status_code, problem=problem)
    label = lifecycle.spec(name).label
    flash(
        request,
        f"« {label} » : c'est fait. Le dossier est maintenant à l'état "
        f"« {lifecycle.STATE_LABELS[dossier.state]} ».",
    )
    return see_other(f"/instruction/dossiers/{dossier_id}")


@router.post(
    "/instruction/dossiers/{dossier_id}/propositions/{financeur}",
    response_class=HTMLResponse,
    response_model=None,
)
def propose(
    request: Request,
    dossier_id: int,
    financeur: str,
    db: DB,
    user: StaffUser,
    csrf: Annotated[str, Form()] = "",
    montant: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    field_id = f"p-{financeur}-montant"
    amount = parse_money(montant)
    try:
        if amount is None:
            raise Invalid(
                "Indiquez un montant en euros, par exemple 1 200,00.",
                code="montant_invalide",
                errors=[
                    {
                        "path": "montant",
                        "message": "Indiquez un montant en euros, par exemple "
                        "1 200,00 (deux décimales au plus).",
                    }
                ],
            )
        financing.propose(db, user, dossier_id, financeur, amount, now())
    except AppError as exc:
        if isinstance(exc, NotFound) and exc.code == "dossier_introuvable":
            raise
        db.rollback()
        problem = {
            "kind": "proposition",
            "financeur": financeur,
            "errors": error_list(exc, {"montant": field_id}),
            "entered": {"montant": montant},
        }
        return _dossier_page(request, db, user, dossier_id, status_code=exc.status_code, problem=problem)
    flash(request, f"Montant proposé enregistré pour {financeur}.")
    return see_other(f"/instruction/dossiers/{dossier_id}#cofinancements")


@router.post("/instruction/dossiers/{dossier_id}/delai", response_class=HTMLResponse, response_model=None)
def extend(
    request: Request,
    dossier_id: int,
    db: DB,
    user: StaffUser,
    csrf: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    day = parse_day(until)
    try:
        if day is None:
            raise Invalid(
                "Le délai n'a pas été accordé.",
                code="delai_invalide",
                errors=[{"path": "until", "message": "Indiquez la nouvelle date limite de dépôt."}],
            )
        dossiers.grant_extension(db, user, dossier_id, day, reason, now())
    except AppError as exc:
        if isinstance(exc, NotFound) and exc.code == "dossier_introuvable":
            raise
        db.rollback()
        problem = {
            "kind": "delai",
            "errors": error_list(exc, {"until": "d-until", "reason": "d-reason"}),
            "entered": {"until": until, "reason": reason},
        }
        return _dossier_page(request, db, user, dossier_id, status_code=exc.status_code, problem=problem)
    flash(request, "Le délai de dépôt est accordé.")
    return see_other(f"/instruction/dossiers/{dossier_id}")


@router.get("/instruction/comite", response_model=None)
def comite_default(db: DB, user: StaffUser) -> RedirectResponse:
    items = campaigns.list_campaigns(db, user)
    if not items:
        raise NotFound("Aucun appel à projets pour le moment.", code="campagne_introuvable")
    return see_other(f"/instruction/comite/{items[0].id}")


@router.get("/instruction/comite/{campaign_id}", response_class=HTMLResponse)
def comite(
    request: Request,
    campaign_id: int,
    db: DB,
    user: StaffUser,
    etats: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """The programme table the exports give (same rows, same totals: a page of rows, the totals of
    all), and totals against envelopes."""
    all_states = etats == "tous"
    states = programmation.parse_states("tous" if all_states else None)
    table = programmation.open_table(db, user, campaign_id, states)
    sums = programmation.sql_sums(db, user, table)
    pages = max((sums["dossiers"] + COMITE_PAGE_SIZE - 1) // COMITE_PAGE_SIZE, 1)
    page = min(page, pages)
    rows = programmation.page_rows(
        db, user, table, limit=COMITE_PAGE_SIZE, offset=(page - 1) * COMITE_PAGE_SIZE
    )
    campaign = campaigns.get_campaign(db, user, campaign_id)
    return render(
        request,
        "staff/comite.html",
        {
            "user": user,
            "campaign": campaign,
            "campaigns": campaigns.list_campaigns(db, user),
            "table": table,
            "rows": rows,
            "sums": sums,
            "page": page,
            "pages": pages,
            "page_links": page_links(page, pages),
            "all_states": all_states,
            "envelopes": financing.enveloppes(db, user, campaign.id),
            "default_states": [lifecycle.STATE_LABELS[s] for s in programmation.DEFAULT_STATES],
        },
    )
