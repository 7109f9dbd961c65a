"""Messages and private notes on a dossier; the only writer of `dossier_messages`.

Who reads what is decided here, once: everyone who sees the dossier reads the exchange (`echange`);
only staff (the team, the instructeurs, the financers concerned) read the notes (`interne`). A message
of the exchange is e-mailed to the other side through the outbox, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.dossiers.service import get_dossier
from aap.errors import Forbidden, Invalid
from aap.models import Dossier, DossierMessage, User
from notifications.events import DossierNews, after_transition
from workflows.labels import AUDIENCE_LABELS

Audience = Literal["echange", "interne"]
AUDIENCES = AUDIENCE_LABELS  # who reads each box (`workflows/labels.py`)
MAX_LENGTH = 5000
STAFF = ("admin", "instructeur", "financeur")
WRITES_EXCHANGE = ("porteur", "admin", "instructeur")


def readable_audiences(user: User) -> tuple[str, ...]:
    return ("echange", "interne") if user.role in STAFF else ("echange",)


def writable_audiences(user: User) -> tuple[str, ...]:
    """A porteur writes to the team; the team writes both; a financer leaves notes for the team."""
    if user.role == "porteur":
        return ("echange",)
    if user.role in ("admin", "instructeur"):
        return ("echange", "interne")
    if user.role == "financeur":
        return ("interne",)
    return ()


def list_messages(session: Session, user: User, dossier_id: int) -> list[DossierMessage]:
    get_dossier(session, user, dossier_id)  # a hidden dossier is a 404
    return list(
        session.scalars(
            select(DossierMessage)
            .where(
                DossierMessage.dossier_id == dossier_id,
                DossierMessage.audience.in_(readable_audiences(user)),
            )
            .order_by(DossierMessage.id)
        )
    )


def _checked_body(body: str) -> str:
    text = (body or "").strip()
    problem = None
    if not text:
        problem = ("required", "Écrivez votre message.")
    elif len(text) > MAX_LENGTH:
        problem = ("trop_long", f"Le message dépasse {MAX_LENGTH} caractères ({len(text)}).")
    elif "\x00" in text:
        problem = ("caractere_interdit", "Le message contient un caractère non imprimable.")
    if problem:
        raise Invalid(
            "Le message n'a pas été envoyé.",
            code="message_invalide",
            errors=[{"path": "texte", "code": problem[0], "message": problem[1]}],
        )
    return text


def post_message(
    session: Session, user: User, dossier_id: int, body: str, audience: str, now: datetime
) -> DossierMessage:
    """Writes a message or a note; the other side of an exchange gets an e-mail."""
    dossier = get_dossier(session, user, dossier_id, lock=True)
    if audience not in AUDIENCES:
        raise Invalid(
            "Destinataires inconnus.",
            code="audience_invalide",
            errors=[
                {"path": "audience", "code": "audience_invalide", "message": "« echange » ou « interne »."}
            ],
        )
    if audience not in writable_audiences(user):
        raise Forbidden(
            "Votre rôle ne permet pas d'écrire une note interne."
            if audience == "interne"
            else "Un financeur laisse une note interne à l'équipe ; l'échange avec le porteur passe par "
            "l'instructeur.",
            code="audience_interdite",
        )
    message = DossierMessage(
        dossier_id=dossier.id,
        audience=audience,
        author_id=user.id,
        author_email=user.email,
        author_name=user.full_name or user.email,
        author_role=user.role,
        body=_checked_body(body),
        created_at=now,
    )
    session.add(message)
    session.flush()
    if audience == "echange":
        _tell_the_other_side(session, dossier, message, user, now)
    session.commit()
    return message


def _tell_the_other_side(
    session: Session, dossier: Dossier, message: DossierMessage, user: User, now: datetime
) -> None:
    event = "message_du_porteur" if user.role == "porteur" else "message_de_l_equipe"
    author = (
        f"{message.author_name} ({dossier.organisation.name})"
        if user.role == "porteur"
        else f"{message.author_name}, équipe du contrat de ville"
    )
    news = DossierNews(f"m{message.id}", event, now, message.body, {"auteur": author})
    after_transition(session, dossier, news, now)


def thread(session: Session, user: User, dossier_id: int) -> dict[str, object]:
    """What a dossier page shows of the dialogue: the messages this caller reads, and the boxes it may
    write in, each saying who will read it."""
    return {
        "dossier_id": dossier_id,
        "items": list_messages(session, user, dossier_id),
        "audiences": [(code, AUDIENCES[code]) for code in writable_audiences(user)],
        "labels": AUDIENCES,
    }
