"""Messages over HTTP."""

from typing import Literal

from pydantic import BaseModel, Field

from aap.messages.service import AUDIENCES
from aap.models import Attachment, DossierMessage


class NewMessage(BaseModel):
    texte: str = Field(description="Le message (5 000 caractères au plus).")
    audience: Literal["echange", "interne"] = Field(
        "echange",
        description="`echange` : lu par le porteur et l'équipe ; `interne` : note de l'équipe, jamais "
        "montrée au porteur.",
    )


class MessageFile(BaseModel):
    """A file sent with a message: read by whoever reads the message."""

    id: int
    filename: str
    content_type: str
    size: int
    url: str = Field(description="Le téléchargement (`GET /api/v1/attachments/{id}`).")


class MessageOut(BaseModel):
    id: int
    audience: str
    audience_label: str
    auteur: str
    role: str
    texte: str
    at: str
    pieces_jointes: list[MessageFile] = Field(default_factory=list)


class MessagePage(BaseModel):
    items: list[MessageOut]
    total: int


def message_out(m: DossierMessage, attached: list[Attachment] | None = None) -> MessageOut:
    return MessageOut(
        id=m.id,
        audience=m.audience,
        audience_label=AUDIENCES[m.audience],
        auteur=m.author_name or m.author_email,
        role=m.author_role,
        texte=m.body,
        at=m.created_at.isoformat(),
        pieces_jointes=[
            MessageFile(
                id=a.id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                url=f"/api/v1/attachments/{a.id}",
            )
            for a in attached or []
        ],
    )
