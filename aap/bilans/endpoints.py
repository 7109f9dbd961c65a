"""The bilan over HTTP: read, the form's JSON Schema, save (If-Match), attach the financial statements.

Its lifecycle goes through the dossier's transitions (`deposer_bilan`, `renvoyer_bilan`,
`valider_bilan` on `POST /dossiers/{id}/transitions/{name}`).
"""

from typing import Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from aap.attachments import files
from aap.attachments.endpoints import UPLOAD_BODY, attachment_out
from aap.bilans import focus, rapport, rapport_files, service
from aap.bilans.schemas import (
    BilanAttachmentOut,
    BilanOut,
    BilanPatch,
    Contribution,
    ContributionOut,
    FocusOut,
    FocusPage,
    NewFocus,
    Participation,
    ParticipationOut,
    RapportOut,
    bilan_out,
)
from aap.campaigns.schemas import FormJsonSchema
from aap.clock import now, territory_today
from aap.deps import DB, Admin, AppSettings, Caller
from aap.dossiers.endpoints import parse_if_match
from aap.models import Bilan, Dossier
from aap.routes import API_PREFIX
from aap.schemas import PDF, XLSX, file_of

router = APIRouter(prefix=API_PREFIX, tags=["bilans"])


def answer(session: Session, response: Response | None, dossier: Dossier, bilan: Bilan) -> dict[str, Any]:
    if response is not None:
        response.headers["ETag"] = f'"{bilan.version}"'
    return bilan_out(
        dossier,
        bilan,
        service.checklist(session, dossier, bilan),
        service.gaps(session, dossier, bilan),
        territory_today(dossier.campaign, now()),
    )


@router.get("/dossiers/{dossier_id}/bilan", summary="Le bilan de l'action", response_model=BilanOut)
def get_bilan(dossier_id: int, db: DB, user: Caller, response: Response) -> dict[str, Any]:
    dossier, bilan = service.get_bilan(db, user, dossier_id, now())
    return answer(db, response, dossier, bilan)


@router.get(
    "/dossiers/{dossier_id}/bilan/form",
    summary="Le formulaire du bilan (JSON Schema 2020-12)",
    response_model=FormJsonSchema,
    response_model_exclude_unset=True,
)
def bilan_form(dossier_id: int, db: DB, user: Caller) -> dict[str, Any]:
    dossier, bilan = service.get_bilan(db, user, dossier_id, now())
    return service.form_of(bilan).json_schema(service.context(db, dossier))


@router.patch(
    "/dossiers/{dossier_id}/bilan", summary="Enregistrer des réponses du bilan", response_model=BilanOut
)
def patch_bilan(
    dossier_id: int,
    body: BilanPatch,
    db: DB,
    user: Caller,
    response: Response,
    if_match: str | None = Header(None),
) -> dict[str, Any]:
    version = parse_if_match(if_match, required=True)
    dossier, bilan = service.update_bilan(db, user, dossier_id, body.answers, version, now())
    return answer(db, response, dossier, bilan)


@router.post(
    "/dossiers/{dossier_id}/bilan/attachments",
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    summary="Joindre les états financiers au bilan (multipart : file, kind)",
    response_model=BilanAttachmentOut,
)
async def upload_to_bilan(
    dossier_id: int, request: Request, db: DB, user: Caller, settings: AppSettings
) -> dict[str, Any]:
    await run_in_threadpool(service.check_before_upload, db, user, dossier_id, now())
    received = await files.receive_upload(request, settings.max_upload_bytes, settings.data_dir)
    try:
        bilan, attachment = await run_in_threadpool(
            service.attach_file, db, user, dossier_id, received, settings.data_dir, now()
        )
    finally:
        received.discard()
    return {**attachment_out(attachment), "bilan_version": bilan.version}


# --- the focus bénéficiaires -------------------------------------------------------------------------


@router.get("/focus", summary="Les séances du focus bénéficiaires d'un territoire", response_model=FocusPage)
def list_focus(
    db: DB, user: Caller, territory: str | None = None, annee: int | None = Query(None, ge=2000, le=2100)
) -> dict[str, Any]:
    sessions = focus.list_sessions(db, user, territory, annee)
    items = focus.sessions_out(db, user, sessions)
    return {"items": items, "total": len(items)}


@router.post(
    "/focus",
    status_code=201,
    summary="Organiser une séance (équipe du contrat de ville)",
    response_model=FocusOut,
)
def create_focus(body: NewFocus, db: DB, user: Admin) -> dict[str, Any]:
    created = focus.create_session(
        db, user, day=body.date, heure=body.heure, lieu=body.lieu, qpv=body.qpv, annee=body.annee, now=now()
    )
    return focus.sessions_out(db, user, [created])[0]


@router.post(
    "/focus/{focus_id}/participations",
    status_code=201,
    summary="Inscrire les bénéficiaires qu'une action financée amène (porteur)",
    response_model=ParticipationOut,
)
def register_participation(focus_id: int, body: Participation, db: DB, user: Caller) -> dict[str, Any]:
    row = focus.register_participation(db, user, focus_id, body.dossier_id, body.beneficiaires, now())
    return focus.participation_out(row)


@router.post(
    "/focus/{focus_id}/contributions",
    status_code=201,
    summary="Consigner une contribution de la séance (équipe du contrat de ville)",
    response_model=ContributionOut,
)
def add_contribution(focus_id: int, body: Contribution, db: DB, user: Admin) -> dict[str, Any]:
    row = focus.add_contribution(db, user, focus_id, body.theme, body.texte, body.propositions, now())
    return focus.contribution_out(row)


# --- the annual report ----------------------------------------------------------------------------


@router.get(
    "/campaigns/{campaign_id}/rapport",
    summary="Le rapport de suivi et de bilan (json, pdf, xlsx)",
    response_model=RapportOut,
    responses={
        200: file_of(PDF, XLSX, description="Le rapport (JSON par défaut, PDF ou XLSX selon `format`)")
    },
)
def campaign_report(
    campaign_id: int,
    db: DB,
    user: Caller,
    format: Literal["json", "pdf", "xlsx"] = Query("json", description="json (défaut), pdf ou xlsx"),
) -> Any:
    data = rapport.report(db, user, campaign_id, now())
    stem = f"rapport-{data['campaign']['code']}"
    if format == "pdf":
        return Response(
            rapport_files.report_pdf(data),
            media_type=PDF,
            headers={"Content-Disposition": f'attachment; filename="{stem}.pdf"'},
        )
    if format == "xlsx":
        return Response(
            rapport_files.report_xlsx(data),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
        )
    return data
