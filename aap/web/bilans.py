"""The bilan's pages (the porteur's, section by section with its checklist and autosave; the
instructeur's review with the prévu/réalisé gaps first), the focus bénéficiaires, the annual report.

Thin routes over the same services as the API (`aap.bilans`): no rule, figure or label of their own.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from aap.bilans import focus, rapport, service
from aap.bilans.repository import STATE_LABELS as BILAN_LABELS
from aap.clock import now, territory_today
from aap.deps import DB, AppSettings, Caller, Porteur
from aap.dossiers import service as dossiers
from aap.errors import AppError, Invalid, NotFound, PreconditionFailed
from aap.models import Bilan, Dossier, User
from aap.web import porteur_views as views
from aap.web.csrf import check_csrf
from aap.web.posting import Posted, upload_then_back
from aap.web.rendering import flash, render, time_short
from workflows.labels import AGE_LABELS, BILAN_STEP_DONE

router = APIRouter(include_in_schema=False)


def _checklist(db: DB, dossier: Dossier, bilan: Bilan) -> list[views.SectionStatus]:
    by_section = service.checklist(db, dossier, bilan)
    out = []
    for s in service.form_of(bilan).sections:
        missing = [
            {
                "message": e.message,
                "href": f"/dossiers/{dossier.id}/bilan/section/{s.key}#{views.element_id(e.path)}",
            }
            for e in by_section.get(s.key, [])
        ]
        out.append(views.SectionStatus(s.key, s.label, missing))
    return out


def _context(db: DB, user: User, dossier: Dossier, bilan: Bilan) -> dict[str, Any]:
    day = territory_today(dossier.campaign, now())  # late from the day after, where the contract is
    checklist = _checklist(db, dossier, bilan)
    return {
        "user": user,
        "dossier": dossier,
        "bilan": bilan,
        "campaign": dossier.campaign,
        "form": service.form_of(bilan),
        "form_ctx": service.context(db, dossier),
        "editable": user.role == "porteur"
        and dossier.state == "conventionne"
        and bilan.state in service.EDITABLE_BILAN_STATES,
        "checklist": checklist,
        "missing_total": sum(len(s.missing) for s in checklist),
        "gaps": service.gaps(db, dossier, bilan),
        "threshold": service.context(db, dossier).gap_threshold,
        "overdue": service.overdue(bilan, day),
        "transitions": dossiers.transitions_for(user, dossier),
        "BILAN_LABELS": BILAN_LABELS,
        "today": day,
        "crumb": "Bilan",
    }


def _bilan_page(
    request: Request,
    db: DB,
    user: User,
    dossier_id: int,
    *,
    refused: AppError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    dossier, bilan = service.get_bilan(db, user, dossier_id, now())
    context = _context(db, user, dossier, bilan)
    gap_paths = {g["path"] for g in context["gaps"]}
    context.update(
        {
            "answers_html": context["form"].render_html(bilan.answers, context["form_ctx"], readonly=True),
            "gap_paths": gap_paths,
            "refused": refused,
            "refused_reasons": [
                {
                    "message": e.get("message", ""),
                    "href": f"/dossiers/{dossier.id}/bilan/section/{(e.get('field') or '').split('.')[0]}"
                    f"#{views.element_id(e.get('field') or '')}"
                    if e.get("field")
                    else None,
                }
                for e in (refused.errors or [] if refused else [])
            ],
        }
    )
    return render(request, "bilans/bilan.html", context, status_code=status_code)


@router.get("/dossiers/{dossier_id}/bilan", response_class=HTMLResponse)
def bilan_page(request: Request, dossier_id: int, db: DB, user: Caller) -> HTMLResponse:
    return _bilan_page(request, db, user, dossier_id)


def _section_page(
    request: Request,
    db: DB,
    user: User,
    dossier: Dossier,
    bilan: Bilan,
    key: str,
    *,
    answers: dict[str, Any] | None = None,
    errors: list[Any] | tuple[()] = (),
    problem: str | None = None,
    stale: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    context = _context(db, user, dossier, bilan)
    form = context["form"]
    if key not in [s.key for s in form.sections]:
        raise NotFound("Cette section du bilan n'existe pas.", code="section_introuvable")
    shown = bilan.answers if answers is None else answers
    context.update(
        views.section_context(form, key, shown, context["form_ctx"], errors, editable=context["editable"])
    )
    context.update(
        {
            "problem": problem,
            "stale": stale,
            "pieces": [
                {"kind": f.key, "label": f.label, "attachment_id": (bilan.answers.get(key) or {}).get(f.key)}
                for f in context["section"].fields
                if f.type == "attachment"
            ],
        }
    )
    return render(request, "bilans/section.html", context, status_code=status_code)


@router.get("/dossiers/{dossier_id}/bilan/section/{key}", response_class=HTMLResponse)
def section_page(request: Request, dossier_id: int, key: str, db: DB, user: Caller) -> HTMLResponse:
    dossier, bilan = service.get_bilan(db, user, dossier_id, now())
    return _section_page(request, db, user, dossier, bilan, key)


@router.post("/dossiers/{dossier_id}/bilan/section/{key}", response_model=None)
def save_section(
    request: Request, dossier_id: int, key: str, db: DB, user: Porteur, form_items: Posted
) -> Response:
    """Saves one section of the bilan (a plain post, or the autosave's fetch answering JSON)."""
    autosave = request.headers.get("x-autosave") == "1"
    flat = views.flat_form(form_items)
    check_csrf(request, flat.get("csrf") if isinstance(flat.get("csrf"), str) else None)  # type: ignore[arg-type]
    raw_version = flat.get("version")
    version = int(raw_version) if isinstance(raw_version, str) and raw_version.isdigit() else None
    dossier, bilan = service.get_bilan(db, user, dossier_id, now())
    form = service.form_of(bilan)
    if key not in [s.key for s in form.sections]:
        raise NotFound("Cette section du bilan n'existe pas.", code="section_introuvable")
    patch = form.answers_from_form(flat, service.context(db, dossier), section=key)
    try:
        dossier, saved = service.update_bilan(db, user, dossier_id, patch, version, now())
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
        dossier, current = service.get_bilan(db, user, dossier_id, now())
        stale = isinstance(exc, PreconditionFailed)
        return _section_page(
            request,
            db,
            user,
            dossier,
            current,
            key,
            answers=form.merge(current.answers, patch),  # what was typed, shown again, never lost
            errors=views.field_errors(exc.errors),
            problem=exc.message,
            stale=stale,
            status_code=exc.status_code,
        )
    if autosave:
        status = _checklist(db, dossier, saved)
        return JSONResponse(
            {
                "ok": True,
                "version": saved.version,
                "saved_at": time_short(saved.updated_at),
                "message": f"Bilan enregistré à {time_short(saved.updated_at)} (pas encore déposé).",
                "missing": {s.key: len(s.missing) for s in status},
                "missing_total": sum(len(s.missing) for s in status),
            }
        )
    flash(request, f"Bilan enregistré à {time_short(saved.updated_at)}. Il n'est pas encore déposé.")
    keys = [s.key for s in form.sections]
    i = keys.index(key)
    if flat.get("action") == "suivante":
        target = f"section/{keys[i + 1]}" if i + 1 < len(keys) else ""
        return RedirectResponse(f"/dossiers/{dossier_id}/bilan/{target}".rstrip("/"), status_code=303)
    return RedirectResponse(f"/dossiers/{dossier_id}/bilan/section/{key}", status_code=303)


@router.post("/dossiers/{dossier_id}/bilan/pieces", response_model=None)
async def upload_piece(
    request: Request, dossier_id: int, db: DB, user: Porteur, settings: AppSettings
) -> Response:
    return await upload_then_back(
        request,
        db,
        settings,
        RedirectResponse(f"/dossiers/{dossier_id}/bilan/section/pieces", status_code=303),
        check=lambda: service.check_before_upload(db, user, dossier_id, now()),
        attach=lambda received: service.attach_file(db, user, dossier_id, received, settings.data_dir, now())[
            1
        ],
        refused="Le fichier n'a pas été enregistré",
        done="Fichier « {filename} » joint au bilan.",
        raised=(403, 404),
    )


BILAN_STEPS = {"deposer": "deposer_bilan", "renvoyer": "renvoyer_bilan", "valider": "valider_bilan"}


@router.post("/dossiers/{dossier_id}/bilan/{step}", response_model=None)
def bilan_transition(
    request: Request,
    dossier_id: int,
    step: str,
    db: DB,
    user: Caller,
    csrf: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    due_date: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    name = BILAN_STEPS.get(step)
    if name is None:
        raise NotFound("Action inconnue.", code="action_inconnue")
    payload: dict[str, Any] = {}
    if comment.strip():
        payload["comment"] = comment.strip()
    if due_date:
        payload["due_date"] = due_date
    try:
        dossiers.fire_transition(db, user, dossier_id, name, payload, now())
    except AppError as exc:
        db.rollback()
        if exc.status_code == 404:
            raise
        return _bilan_page(request, db, user, dossier_id, refused=exc, status_code=exc.status_code)
    flash(request, BILAN_STEP_DONE[name])
    return RedirectResponse(f"/dossiers/{dossier_id}/bilan", status_code=303)


# --- the focus bénéficiaires ---------------------------------------------------------------------


def _funded(db: DB, user: User) -> list[Dossier]:
    if user.role != "porteur":
        return []
    items = []
    for state in focus.FUNDED_STATES:
        found, _ = dossiers.list_dossiers(db, user, state=state, limit=200)
        items.extend(found)
    return items


@router.get("/focus", response_class=HTMLResponse)
def focus_page(request: Request, db: DB, user: Caller, annee: int | None = None) -> HTMLResponse:
    try:
        sessions = focus.list_sessions(db, user, None, annee)
    except Invalid:
        sessions = []
    return render(
        request,
        "bilans/focus.html",
        {
            "user": user,
            "sessions": focus.sessions_out(db, user, sessions),
            "funded": _funded(db, user),
            "age_bands": focus.AGE_BANDS,
            "age_labels": AGE_LABELS,
        },
    )


def _int(value: str) -> int:
    value = value.strip()
    return int(value) if value.isdigit() else 0


@router.post("/focus", response_model=None)
def create_focus(
    request: Request,
    db: DB,
    user: Caller,
    csrf: Annotated[str, Form()] = "",
    day: Annotated[str, Form(alias="date")] = "",
    heure: Annotated[str, Form()] = "",
    lieu: Annotated[str, Form()] = "",
    qpv: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        flash(request, "La séance n'a pas été créée : indiquez une date.", "error")
        return RedirectResponse("/focus", status_code=303)
    if not lieu.strip():
        flash(request, "La séance n'a pas été créée : indiquez le lieu.", "error")
        return RedirectResponse("/focus", status_code=303)
    try:
        focus.create_session(
            db, user, day=parsed, heure=heure or None, lieu=lieu, qpv=qpv or None, annee=None, now=now()
        )
    except AppError as exc:
        db.rollback()
        if exc.status_code == 403:
            raise
        flash(request, f"La séance n'a pas été créée : {exc.message}", "error")
        return RedirectResponse("/focus", status_code=303)
    flash(request, "Séance du focus bénéficiaires créée : les opérateurs financés seront invités.")
    return RedirectResponse("/focus", status_code=303)


@router.post("/focus/{focus_id}/participations", response_model=None)
def register_participation(
    request: Request, focus_id: int, db: DB, user: Porteur, form_items: Posted
) -> Response:
    flat = dict((k, v) for k, v in form_items if isinstance(v, str))
    check_csrf(request, flat.get("csrf"))
    counts = {
        k: _int(flat.get(k, "")) for k in ("femmes", "hommes", *focus.AGE_BANDS) if flat.get(k, "").strip()
    }
    try:
        focus.register_participation(db, user, focus_id, _int(flat.get("dossier_id", "")), counts, now())
    except AppError as exc:
        db.rollback()
        if exc.status_code in (403, 404):
            raise
        details = "; ".join(e["message"] for e in exc.errors or []) or exc.message
        flash(request, f"Inscription refusée : {details}.", "error")
        return RedirectResponse("/focus", status_code=303)
    flash(request, "Vos bénéficiaires sont inscrits au focus.")
    return RedirectResponse("/focus", status_code=303)


@router.post("/focus/{focus_id}/contributions", response_model=None)
def add_contribution(
    request: Request,
    focus_id: int,
    db: DB,
    user: Caller,
    csrf: Annotated[str, Form()] = "",
    theme: Annotated[str, Form()] = "",
    texte: Annotated[str, Form()] = "",
    propositions: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    if not theme.strip() or not texte.strip():
        flash(request, "Contribution non enregistrée : indiquez le thème et ce qui a été dit.", "error")
        return RedirectResponse("/focus", status_code=303)
    focus.add_contribution(db, user, focus_id, theme, texte, propositions or None, now())
    flash(request, "Contribution enregistrée.")
    return RedirectResponse("/focus", status_code=303)


# --- the annual report ------------------------------------------------------------------------------


@router.get("/campagnes/{campaign_id}/rapport", response_class=HTMLResponse)
def report_page(request: Request, campaign_id: int, db: DB, user: Caller) -> HTMLResponse:
    data = rapport.report(db, user, campaign_id, now())
    return render(request, "bilans/rapport.html", {"user": user, "data": data, "age_labels": AGE_LABELS})
