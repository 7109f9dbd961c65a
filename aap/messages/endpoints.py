"""The dialogue over HTTP: parse, call the service, shape the answer."""

from fastapi import APIRouter

from aap.clock import now
from aap.deps import DB, Caller
from aap.messages import service
from aap.messages.schemas import MessageOut, MessagePage, NewMessage, message_out

router = APIRouter(tags=["échanges"])


@router.get(
    "/dossiers/{dossier_id}/messages",
    response_model=MessagePage,
    summary="Les échanges et, pour l'équipe, les notes internes d'un dossier",
)
def list_messages(dossier_id: int, db: DB, user: Caller) -> MessagePage:
    items = [message_out(m) for m in service.list_messages(db, user, dossier_id)]
    return MessagePage(items=items, total=len(items))


@router.post(
    "/dossiers/{dossier_id}/messages",
    status_code=201,
    response_model=MessageOut,
    summary="Écrire au porteur ou à l'équipe, ou laisser une note interne",
)
def post_message(dossier_id: int, body: NewMessage, db: DB, user: Caller) -> MessageOut:
    return message_out(service.post_message(db, user, dossier_id, body.texte, body.audience, now()))
