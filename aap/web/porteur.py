"""The associations' pages: create an account, see the calls, fill, deposit and follow a dossier.

Thin routes: parse the form, call the service, render. What the pages show is computed in
`aap.web.porteur_views`; the rules live in the services and the pure core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from aap.accounts.mail import deliver_soon
from aap.accounts.service import MIN_PASSWORD_LENGTH, register_porteur
from aap.campaigns import service as campaigns
from aap.campaigns.forms import form_context
from aap.clock import now
from aap.deps import DB, AppSettings, Caller, MaybeCaller, Porteur
from aap.dossiers import complements
from aap.dossiers import service as dossiers
from aap.errors import AppError, Invalid, NotFound, PreconditionFailed
from aap.financing import ajustement, echeancier
from aap.financing.documents import list_documents
from aap.messages import service as messages
from aap.models import Dossier, User
from aap.ratelimit import RateLimit
from aap.web import porteur_views as views
from aap.web.csrf import check_csrf
from aap.web.posting import Posted, upload_then_back
from aap.web.rendering import LANDING, flash, render, time_short
from workflows import labels

router = APIRouter(include_in_schema=False)


def _version(raw: str | None) -> int | None:
    return int(raw) if raw and raw.strip().isdigit() else None


# --- account -----------------------------------------------------------------------------------------

REGISTRATION_FIELDS = (
    "email",
    "kind",
    "full_name",
    "name",
    "siret",
    "rna",
    "address_line",
    "postal_code",
    "city",
    "phone",
)


@router.get("/inscription", response_class=HTMLResponse, response_model=None)
def registration_page(request: Request, user: MaybeCaller) -> HTMLResponse | RedirectResponse:
    if user is not None:
        return RedirectResponse(LANDING.get(user.role, "/"), status_code=303)
    return render(
        request,
        "porteur/inscription.html",
        {"user": None, "values": {}, "errors": [], "field_errors": {}, "min_length": MIN_PASSWORD_LENGTH},
    )


@router.post("/inscription", response_class=HTMLResponse, response_model=None)
def register(
    request: Request, db: DB, form: Posted, tasks: BackgroundTasks, settings: AppSettings
) -> HTMLResponse | RedirectResponse:
    """The same page whether the address already has an account or not: « check your mailbox »."""
    data = {k: v for k, v in form if isinstance(v, str)}
    check_csrf(request, data.get("csrf"))
    values = {k: data.get(k, "").strip() for k in REGISTRATION_FIELDS}
    organisation: dict[str, str | None] = {
        k: values[k] for k in ("kind", "name", "siret", "rna", "address_line", "postal_code", "city", "phone")
    }
    try:
        register_porteur(
            db,
            values["email"],
            data.get("password", ""),
            organisation,
            full_name=values["full_name"],
            now=now(),
            base_url=settings.base_url,
        )
    except Invalid as exc:
        errors = exc.errors or []
        context = {
            "user": None,
            "values": values,
            "errors": errors,
            "min_length": MIN_PASSWORD_LENGTH,
            "field_errors": {e["path"]: e["message"] for e in errors},
        }
        return render(request, "porteur/inscription.html", context, status_code=422)
    tasks.add_task(deliver_soon, request.app.state.sessionmaker, settings, db)
    return render(request, "account/inscription_envoyee.html", {"user": None, "email": values["email"]})


REGISTRY_LOOKUPS = RateLimit(limit=30, window_seconds=600)


@router.get("/inscription/siret/{siret}", response_model=None)
def registration_siret(request: Request, siret: str, settings: AppSettings) -> JSONResponse:
    """The registry's name and address for a SIRET, for the registration page's prefill (JSON; the page
    works without it). Not logged in yet, hence beside the API's lookup, which needs a caller; limited
    per client so that nobody uses it as a free relay to the registry."""
    from aap.registry.service import lookup_siret

    try:
        REGISTRY_LOOKUPS.check(request.client.host if request.client else "?")
        return JSONResponse(lookup_siret(settings, siret))
    except AppError as exc:
        return JSONResponse({"detail": exc.detail()}, status_code=exc.status_code)


# --- my dossiers -------------------------------------------------------------------------------------


MY_PAGE = 50  # dossiers per page of « Mes dossiers »


@router.get("/mes-dossiers", response_class=HTMLResponse)
def my_dossiers(
    request: Request, db: DB, user: Porteur, page: Annotated[int, Query(ge=1)] = 1
) -> HTMLResponse:
    moment = now()
    items, total = dossiers.list_dossiers(db, user, limit=MY_PAGE, offset=(page - 1) * MY_PAGE)
    cards = [views.campaign_card(c, moment) for c in campaigns.list_campaigns(db, user)]
    targets = dossiers.reconduct_targets(db, items, [c["campaign"] for c in cards], moment)
    rows: list[dict[str, Any]] = [
        {"dossier": d, "deadline": views.deadline_of(d, moment), "reconduct_to": targets.get(d.id)}
        for d in items
    ]
    by_campaign = [
        {
            "campaign": card["campaign"],
            "rows": [r for r in rows if r["dossier"].campaign_id == card["campaign"].id],
        }
        for card in cards
    ]
    context = {
        "user": user,
        "open_cards": views.calls_to_show(cards),
        "groups": [g for g in by_campaign if g["rows"]],
        "organisations": user.organisations,
        "refusals": dossiers.filing_refusals(user, [card["campaign"] for card in cards]),
        "page": page,
        "pages": max(1, -(-total // MY_PAGE)),
    }
    return render(request, "porteur/mes_dossiers.html", context)


@router.post("/campagnes/{campaign_id}/dossiers", response_model=None)
def start_dossier(
    request: Request, campaign_id: int, db: DB, user: Porteur, csrf: Annotated[str, Form()] = ""
) -> RedirectResponse:
    check_csrf(request, csrf)
    dossier = dossiers.create_dossier(db, user, campaign_id, now())
    first = dossiers.campaign_form_of(dossier).sections[0].key
    flash(request, f"Le brouillon n° {dossier.number} est créé. Il n'est pas encore déposé.")
    return RedirectResponse(f"/dossiers/{dossier.id}/section/{first}", status_code=303)


@router.post("/dossiers/{dossier_id}/reconduire", response_model=None)
def reconduct(
    request: Request,
    dossier_id: int,
    db: DB,
    user: Porteur,
    csrf: Annotated[str, Form()] = "",
    campaign_id: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(request, csrf)
    target = _version(campaign_id)
    if target is None:
        raise Invalid("Choisissez l'appel à projets où reconduire ce dossier.", code="campagne_requise")
    dossier = dossiers.reconduct_dossier(db, user, dossier_id, target, now())
    flash(
        request,
        f"Le brouillon n° {dossier.number} reprend les réponses de l'an passé. Vérifiez chaque "
        "section, complétez les dates, le budget et l'attestation, puis déposez-le.",
    )
    return RedirectResponse(f"/dossiers/{dossier.id}", status_code=303)


# --- one dossier -------------------------------------------------------------------------------------


def _context(db: DB, user: User, dossier: Dossier) -> dict[str, Any]:
    """What every page of a dossier shows around its content."""
    moment = now()
    form = dossiers.campaign_form_of(dossier)
    ctx = form_context(db, dossier.campaign)
    return {
        "user": user,
        "dossier": dossier,
        "campaign": dossier.campaign,
        "form": form,
        "form_ctx": ctx,
        "editable": user.role == "porteur" and dossier.state in dossiers.EDITABLE_STATES,
        "checklist": dossier_checklist(db, form, dossier, dossier.answers, ctx),
        "deadline": views.deadline_of(dossier, moment),
        "depot_deadline": views.depot_deadline(dossier, dossier.campaign),
        "transitions": dossiers.transitions_for(user, dossier),
        "wording": labels.save_wording(dossier.state),
    }


def dossier_checklist(
    db: DB, form: Any, dossier: Dossier, answers: dict[str, Any], ctx: Any
) -> list[views.SectionStatus]:
    """The checklist with the pièces as the dépôt checks them (files of the organisation or dossier)."""
    from aap.attachments import pieces

    return views.checklist(
        form, answers, ctx, dossier.id, form.piece_paths(), pieces.missing_pieces(db, dossier, form)
    )


@router.get("/dossiers/{dossier_id}", response_class=HTMLResponse)
def dossier_page(request: Request, dossier_id: int, db: DB, user: Caller) -> HTMLResponse:
    dossier = dossiers.get_dossier(db, user, dossier_id)
    return _dossier_page(request, db, user, dossier)


def _dossier_page(
    request: Request,
    db: DB,
    user: User,
    dossier: Dossier,
    *,
    refused: AppError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = _context(db, user, dossier)
    names = {line.financeur.code: line.financeur.name for line in dossier.cofinancements}
    context.update(
        {
            "road": views.follow_road(dossier),
            "diagram": views.diagram(dossier.state),
            "history": views.history_rows(dossiers.history(db, user, dossier.id), names),
            "answers_html": context["form"].render_html(dossier.answers, context["form_ctx"], readonly=True),
            "refused": refused,
            "refused_reasons": views.reason_links(refused.errors, dossier.id) if refused else [],
            "missing_total": sum(len(s.missing) for s in context["checklist"]),
            "decision_labels": labels.DECISION_LABELS,
            "avis_labels": labels.AVIS_LABELS,
            "payment_labels": labels.PAYMENT_LABELS,
            "documents": list_documents(db, user, dossier.id),
            "echeancier": echeancier.schedules(db, dossier, user),
            "ajustement": ajustement.state_of(dossier),
            "thread": messages.thread(db, user, dossier.id),
            "requested_pieces": complements.requested_with_files(db, dossier),
        }
    )
    return render(request, "porteur/dossier.html", context, status_code=status_code)


def _section_or_404(form: Any, key: str) -> Any:
    for s in form.sections:
        if s.key == key:
            return s
    raise NotFound("Cette section du formulaire n'existe pas.", code="section_introuvable")


def _section_page(
    request: Request,
    db: DB,
    user: User,
    dossier: Dossier,
    key: str,
    *,
    answers: dict[str, Any] | None = None,
    errors: Sequence[Any] = (),
    problem: str | None = None,
    stale: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    context = _context(db, user, dossier)
    form = context["form"]
    section = _section_or_404(form, key)
    shown = dossier.answers if answers is None else answers
    context.update(
        views.section_context(form, key, shown, context["form_ctx"], errors, editable=context["editable"])
    )
    context.update({"problem": problem, "stale": stale, "pieces": _pieces(db, user, dossier, section)})
    return render(request, "porteur/section.html", context, status_code=status_code)


@router.post("/dossiers/{dossier_id}/pieces", response_model=None)
async def upload_piece(
    request: Request, dossier_id: int, db: DB, user: Porteur, settings: AppSettings
) -> Response:
    """A pièce sent from the dossier's pièces section (multipart); one of the organisation's is kept for
    all its dossiers. Streamed like the API's upload, then back to the section with a message."""
    from aap.attachments import service as attachments

    section = request.query_params.get("section", "pieces")
    back = RedirectResponse(
        f"/dossiers/{dossier_id}#complements"
        if section == "complements"
        else f"/dossiers/{dossier_id}/section/{section}",
        status_code=303,
    )
    return await upload_then_back(
        request,
        db,
        settings,
        back,
        check=lambda: attachments.check_dossier_upload(db, user, dossier_id, now()),
        attach=lambda received: attachments.add_to_dossier(
            db, user, dossier_id, received, settings.data_dir, now()
        ),
        refused="La pièce n'a pas été enregistrée",
        done="Pièce « {filename} » enregistrée.",
    )


def _pieces(db: DB, user: User, dossier: Dossier, section: Any) -> list[dict[str, Any]]:
    """The pièces asked in this section, each with the file in place (the organisation's or the dossier's)."""
    from aap.attachments import service as attachments

    if not any(f.type == "attachment" for f in section.fields):
        return []
    keys = {f.key for f in section.fields if f.type == "attachment"}
    _items, checklist = attachments.dossier_files(db, user, dossier.id)
    return [entry for entry in checklist if entry["kind"] in keys]


@router.get("/dossiers/{dossier_id}/section/{key}", response_class=HTMLResponse)
def section_page(request: Request, dossier_id: int, key: str, db: DB, user: Caller) -> HTMLResponse:
    dossier = dossiers.get_dossier(db, user, dossier_id)
    return _section_page(request, db, user, dossier, key)


@router.post("/dossiers/{dossier_id}/section/{key}", response_model=None)
def save_section(
    request: Request, dossier_id: int, key: str, db: DB, user: Porteur, form_items: Posted
) -> Response:
    """Saves one section (a plain form post, or the autosave's fetch that answers JSON)."""
    autosave = request.headers.get("x-autosave") == "1"
    flat = views.flat_form(form_items)
    check_csrf(request, flat.get("csrf") if isinstance(flat.get("csrf"), str) else None)  # type: ignore[arg-type]
    version = _version(flat.get("version") if isinstance(flat.get("version"), str) else None)  # type: ignore[arg-type]
    action = flat.get("action") or "rester"
    dossier = dossiers.get_dossier(db, user, dossier_id)
    form = dossiers.campaign_form_of(dossier)
    _section_or_404(form, key)
    patch = form.answers_from_form(flat, form_context(db, dossier.campaign), section=key)
    try:
        saved = dossiers.update_answers(db, user, dossier_id, patch, version, now())
    except AppError as exc:
        db.rollback()
        if autosave:
            return JSONResponse(
                {
                    "ok": False,
                    "status": exc.status_code,
                    "code": exc.code,
                    "message": exc.message,
                    "errors": exc.errors or [],
                },
                status_code=exc.status_code,
            )
        current = dossiers.get_dossier(db, user, dossier_id)
        typed = form.merge(current.answers, patch)  # what the person typed, shown again, never lost
        stale = isinstance(exc, PreconditionFailed)
        message = exc.message
        if stale:
            message = (
                "Ce dossier a été modifié ailleurs depuis que vous avez ouvert cette page (autre onglet ou "
                "autre membre de l'association). Vos saisies ci-dessous n'ont PAS été enregistrées : "
                f"vérifiez-les, puis cliquez à nouveau sur « {labels.save_wording(current.state).button} »."
            )
        return _section_page(
            request,
            db,
            user,
            current,
            key,
            answers=typed,
            errors=views.field_errors(exc.errors),
            problem=message,
            stale=stale,
            status_code=exc.status_code,
        )
    ctx = form_context(db, saved.campaign)
    if autosave:
        status = dossier_checklist(db, form, saved, saved.answers, ctx)
        return JSONResponse(
            {
                "ok": True,
                "version": saved.version,
                "saved_at": time_short(saved.updated_at),
                "message": labels.save_wording(saved.state).saved.format(time=time_short(saved.updated_at)),
                "missing": {s.key: len(s.missing) for s in status},
                "missing_total": sum(len(s.missing) for s in status),
            }
        )
    keys = [s.key for s in form.sections]
    i = keys.index(key)
    flash(request, labels.save_wording(saved.state).saved.format(time=time_short(saved.updated_at)))
    if action == "suivante" and i + 1 < len(keys):
        return RedirectResponse(f"/dossiers/{dossier_id}/section/{keys[i + 1]}", status_code=303)
    if action == "suivante":
        return RedirectResponse(f"/dossiers/{dossier_id}#depot", status_code=303)
    return RedirectResponse(f"/dossiers/{dossier_id}/section/{key}", status_code=303)


def _fire(
    request: Request,
    db: DB,
    user: User,
    dossier_id: int,
    name: str,
    payload: dict[str, Any],
    version: int | None,
) -> Dossier | HTMLResponse:
    """Fires a transition; a refusal re-renders the dossier page with every reason."""
    try:
        return dossiers.fire_transition(
            db,
            user,
            dossier_id,
            name,
            payload,
            now(),
            if_match=version,
            data_dir=request.app.state.settings.data_dir,
        )
    except AppError as exc:
        db.rollback()
        if exc.status_code == 404:
            raise
        dossier = dossiers.get_dossier(db, user, dossier_id)
        return _dossier_page(request, db, user, dossier, refused=exc, status_code=exc.status_code)


@router.post("/dossiers/{dossier_id}/deposer", response_model=None)
def deposit(
    request: Request,
    dossier_id: int,
    db: DB,
    user: Porteur,
    csrf: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    result = _fire(request, db, user, dossier_id, "deposer", {}, _version(version))
    if isinstance(result, HTMLResponse):
        return result
    return RedirectResponse(f"/dossiers/{dossier_id}/accuse-de-reception", status_code=303)


@router.get("/dossiers/{dossier_id}/accuse-de-reception", response_class=HTMLResponse, response_model=None)
def acknowledgement(request: Request, dossier_id: int, db: DB, user: Caller) -> Response:
    dossier = dossiers.get_dossier(db, user, dossier_id)
    if dossier.deposited_at is None:
        return RedirectResponse(f"/dossiers/{dossier_id}", status_code=303)
    context = {
        "user": user,
        "dossier": dossier,
        "campaign": dossier.campaign,
        "decision_expected": dossier.campaign.date_of("validation"),
    }
    return render(request, "porteur/accuse.html", context)


@router.get("/dossiers/{dossier_id}/abandonner", response_class=HTMLResponse)
def abandon_page(request: Request, dossier_id: int, db: DB, user: Porteur) -> HTMLResponse:
    dossier = dossiers.get_dossier(db, user, dossier_id)
    return render(request, "porteur/abandonner.html", _context(db, user, dossier))


@router.post("/dossiers/{dossier_id}/abandonner", response_model=None)
def abandon(
    request: Request,
    dossier_id: int,
    db: DB,
    user: Porteur,
    csrf: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    if confirm != "oui":
        dossier = dossiers.get_dossier(db, user, dossier_id)
        context = _context(db, user, dossier)
        context["problem"] = "Cochez la case pour confirmer l'abandon du dossier."
        return render(request, "porteur/abandonner.html", context, status_code=422)
    payload = {"comment": comment.strip()} if comment.strip() else {}
    result = _fire(request, db, user, dossier_id, "abandonner", payload, _version(version))
    if isinstance(result, HTMLResponse):
        return result
    flash(request, "Le dossier est abandonné. Il reste consultable dans « Mes dossiers ».")
    return RedirectResponse(f"/dossiers/{dossier_id}", status_code=303)


# The porteur's transitions that take a comment only, with what the page says once done (this route
# catches /dossiers/{id}/<anything> and so comes last).
COMMENTED_TRANSITIONS = {
    "completer": ("completer", "Vos compléments sont transmis : l'instruction de votre dossier reprend."),
    "bilan": ("deposer_bilan", "Votre bilan est déposé : l'équipe du contrat de ville va l'examiner."),
}


@router.post("/dossiers/{dossier_id}/{step}", response_model=None)
def commented_transition(
    request: Request,
    dossier_id: int,
    step: str,
    db: DB,
    user: Porteur,
    csrf: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    """« Transmettre les compléments » and « Déposer le bilan »: a transition with an optional comment."""
    if step not in COMMENTED_TRANSITIONS:
        raise NotFound("Cette page n'existe pas.", code="page_introuvable")
    check_csrf(request, csrf)
    name, done = COMMENTED_TRANSITIONS[step]
    payload = {"comment": comment.strip()} if comment.strip() else {}
    result = _fire(request, db, user, dossier_id, name, payload, _version(version))
    if isinstance(result, HTMLResponse):
        return result
    flash(request, done)
    return RedirectResponse(f"/dossiers/{dossier_id}", status_code=303)
