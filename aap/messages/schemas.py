"""Messages over HTTP."""

from typing import Literal

from pydantic import BaseModel, Field

from aap.messages.service import AUDIENCES
from aap.models import DossierMessage


class NewMessage(BaseModel):
    texte: str = Field(description="Le message (5 000 caractères au plus).")
    audience: Literal["echange", "interne"] = Field(
        "echange",
        description="`echange` : lu par le porteur et l'équipe ; `interne` : note de l'équipe, jamais "
        "montrée au porteur.",
    )


class MessageOut(BaseModel):
    id: int
    audience: str
    audience_label: str
    auteur: str
    role: str
    texte: str
    at: str


class MessagePage(BaseModel):
    items: list[MessageOut]
    total: int


def message_out(m: DossierMessage) -> MessageOut:
    return MessageOut(
        id=m.id,
        audience=m.audience,
        audience_label=AUDIENCES[m.audience],
        auteur=m.author_name or m.author_email,
        role=m.author_role,
        texte=m.body,
        at=m.created_at.isoformat(),
    )
