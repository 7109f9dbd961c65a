"""The dialogue over HTTP: parse, call the service, shape the answer."""

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from aap.attachments import files
from aap.clock import now
from aap.deps import DB, AppSettings, Caller
from aap.messages import service
from aap.messages.schemas import MessageOut, MessagePage, NewMessage, message_out
from aap.routes import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["échanges"])

MESSAGE_WITH_FILE: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["texte"],
                    "properties": {
                        "texte": {"type": "string", "description": "Le message (5 000 caractères au plus)."},
                        "audience": {
                            "type": "string",
                            "enum": ["echange", "interne"],
                            "default": "echange",
                            "description": "`echange` : lu par le porteur et l'équipe ; `interne` : note de "
                            "l'équipe, jamais montrée au porteur (ni son fichier).",
                        },
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "Facultatif : PDF, PNG, JPEG, ODT, DOCX ou XLSX (type reconnu au "
                            "contenu, même taille maximale que les pièces).",
                        },
                    },
                }
            }
        },
    }
}


@router.get(
    "/dossiers/{dossier_id}/messages",
    response_model=MessagePage,
    summary="Les échanges et, pour l'équipe, les notes internes d'un dossier",
)
def list_messages(
    dossier_id: int,
    db: DB,
    user: Caller,
    limit: int = Query(100, ge=1, le=service.MAX_LIMIT, description="Messages par page, du plus ancien"),
    offset: int = Query(0, ge=0),
) -> MessagePage:
    messages = service.list_messages(db, user, dossier_id, limit=limit, offset=offset)
    attached = service.files_of(db, user, messages)
    items = [message_out(m, attached[m.id]) for m in messages]
    return MessagePage(items=items, total=service.count_messages(db, user, dossier_id))


@router.post(
    "/dossiers/{dossier_id}/messages",
    status_code=201,
    response_model=MessageOut,
    summary="Écrire au porteur ou à l'équipe, ou laisser une note interne",
)
def post_message(dossier_id: int, body: NewMessage, db: DB, user: Caller) -> MessageOut:
    return message_out(service.post_message(db, user, dossier_id, body.texte, body.audience, now()))


@router.post(
    "/dossiers/{dossier_id}/messages/piece-jointe",
    status_code=201,
    response_model=MessageOut,
    openapi_extra=MESSAGE_WITH_FILE,
    summary="Écrire un message ou une note avec un fichier joint (multipart : texte, audience, file)",
)
async def post_message_with_file(
    dossier_id: int, request: Request, db: DB, user: Caller, settings: AppSettings
) -> MessageOut:
    await run_in_threadpool(service.check_may_write, db, user, dossier_id)
    received = await files.receive_upload(
        request,
        settings.max_upload_bytes,
        settings.data_dir,
        max_field_bytes=4 * service.MAX_LENGTH + 1024,
        file_required=False,
    )
    try:
        fields = received.fields
        message = await run_in_threadpool(
            lambda: service.post_message(
                db,
                user,
                dossier_id,
                fields.get("texte", ""),
                fields.get("audience", "echange"),
                now(),
                received=received,
                data_dir=settings.data_dir,
            )
        )
        attached = await run_in_threadpool(service.files_of, db, user, [message])
    finally:
        received.discard()
    return message_out(message, attached[message.id])
