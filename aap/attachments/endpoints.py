"""Attachments over HTTP: upload (multipart, streamed), list, download.

Uploads are ``async`` routes so the body is read as a stream: the caller is authorised first,
then the body is read and refused as soon as it passes the size limit; the database work runs in
the thread pool.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from aap.attachments import files, service
from aap.attachments.schemas import AttachmentOut, DossierAttachments, OrganisationPieces
from aap.clock import now
from aap.deps import DB, AppSettings, Caller
from aap.dossiers.schemas import iso
from aap.models import Attachment
from aap.routes import API_PREFIX
from aap.schemas import FILE

router = APIRouter(prefix=API_PREFIX, tags=["pièces jointes"])

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "kind"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "PDF, PNG, JPEG, ODT, DOCX ou XLSX (type reconnu au contenu).",
                        },
                        "kind": {"type": "string", "description": "Le type de pièce : statuts, rib…"},
                    },
                }
            }
        },
    }
}


def attachment_out(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind,
        "scope": "organisation" if a.dossier_id is None else "dossier",
        "organisation_id": a.organisation_id,
        "dossier_id": a.dossier_id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "uploaded_at": iso(a.uploaded_at),
        "replaced_at": iso(a.replaced_at),
        "current": a.replaced_at is None,
        "url": f"/api/v1/attachments/{a.id}",
    }


@router.post(
    "/dossiers/{dossier_id}/attachments",
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    summary="Joindre une pièce au dossier (multipart : file, kind)",
    response_model=AttachmentOut,
)
async def upload_to_dossier(
    dossier_id: int, request: Request, db: DB, user: Caller, settings: AppSettings
) -> dict[str, Any]:
    await run_in_threadpool(service.check_dossier_upload, db, user, dossier_id, now())
    received = await files.receive_upload(request, settings.max_upload_bytes, settings.data_dir)
    try:
        attachment = await run_in_threadpool(
            service.add_to_dossier, db, user, dossier_id, received, settings.data_dir, now()
        )
    finally:
        received.discard()
    return attachment_out(attachment)


@router.get(
    "/dossiers/{dossier_id}/attachments", summary="Les pièces du dossier", response_model=DossierAttachments
)
def dossier_attachments(dossier_id: int, db: DB, user: Caller) -> dict[str, Any]:
    items, checklist = service.dossier_files(db, user, dossier_id)
    return {
        "items": [attachment_out(a) for a in items],
        "total": len(items),
        "pieces": [
            {**entry, "attachment": attachment_out(entry["attachment"]) if entry["attachment"] else None}
            for entry in checklist
        ],
    }


@router.get(
    "/attachments/{attachment_id}",
    summary="Télécharger une pièce jointe",
    response_class=FileResponse,
    responses={200: FILE},
)
def download(attachment_id: int, db: DB, user: Caller, settings: AppSettings) -> FileResponse:
    attachment, path = service.readable(db, user, attachment_id, settings.data_dir)
    return FileResponse(
        path,
        media_type=attachment.content_type,
        filename=attachment.filename,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )


@router.post(
    "/organisations/{organisation_id}/pieces",
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    summary="Déposer une pièce de l'organisme (reprise par tous ses dossiers)",
    response_model=AttachmentOut,
)
async def upload_organisation_piece(
    organisation_id: int, request: Request, db: DB, user: Caller, settings: AppSettings
) -> dict[str, Any]:
    await run_in_threadpool(service.check_organisation_upload, user, organisation_id)
    await run_in_threadpool(
        db.rollback
    )  # hold no transaction (nor SQLite's write lock) while the file streams
    received = await files.receive_upload(request, settings.max_upload_bytes, settings.data_dir)
    try:
        attachment = await run_in_threadpool(
            service.add_to_organisation, db, user, organisation_id, received, settings.data_dir, now()
        )
    finally:
        received.discard()
    return attachment_out(attachment)


@router.get(
    "/organisations/{organisation_id}/pieces",
    summary="Les pièces de l'organisme",
    response_model=OrganisationPieces,
)
def organisation_pieces(
    organisation_id: int, db: DB, user: Caller, include_replaced: bool = False
) -> dict[str, Any]:
    items = service.organisation_pieces(db, user, organisation_id, include_replaced=include_replaced)
    kinds = service.organisation_kinds()
    return {
        "items": [attachment_out(a) for a in items],
        "total": len(items),
        "kinds": [{"kind": k, "label": f.label, "required": f.required} for k, f in kinds.items()],
    }
