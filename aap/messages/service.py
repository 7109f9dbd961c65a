"""Messages and private notes on a dossier; the only writer of `dossier_messages`.

Who reads what is decided here, once: everyone who sees the dossier reads the exchange (`echange`);
only staff (the team, the instructeurs, the financers concerned) read the notes (`interne`). A message
of the exchange is e-mailed to the other side through the outbox, in the same transaction. A message
may carry a file (the same checks as the pièces: size, type by content); the file is read by whoever
reads its message, never listed among the dossier's pièces.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from aap.attachments import files
from aap.attachments.repository import readable_files
from aap.dossiers.access import readable_message_audiences as readable_audiences
from aap.dossiers.service import get_dossier
from aap.errors import Forbidden, Invalid
from aap.models import Attachment, Dossier, DossierMessage, User
from notifications.events import DossierNews, after_transition
from workflows.labels import AUDIENCE_LABELS

Audience = Literal["echange", "interne"]
AUDIENCES = AUDIENCE_LABELS  # who reads each box (`workflows/labels.py`)
MAX_LENGTH = 5000
WRITES_EXCHANGE = ("porteur", "admin", "instructeur")


def writable_audiences(user: User) -> tuple[str, ...]:
    """A porteur writes to the team; the team writes both; a financer leaves notes for the team."""
    if user.role == "porteur":
        return ("echange",)
    if user.role in ("admin", "instructeur"):
        return ("echange", "interne")
    if user.role == "financeur":
        return ("interne",)
    return ()


PAGE_SIZE = 50  # a dossier page shows the latest messages; older ones a page at a time
MAX_LIMIT = 500


def _readable(user: User, dossier_id: int) -> Select[DossierMessage]:
    return select(DossierMessage).where(
        DossierMessage.dossier_id == dossier_id,
        DossierMessage.audience.in_(readable_audiences(user)),
    )


def list_messages(
    session: Session, user: User, dossier_id: int, *, limit: int = MAX_LIMIT, offset: int = 0
) -> list[DossierMessage]:
    """A page of the messages the caller reads, oldest first."""
    get_dossier(session, user, dossier_id)  # a hidden dossier is a 404
    return list(
        session.scalars(
            _readable(user, dossier_id)
            .order_by(DossierMessage.id)
            .limit(max(1, min(limit, MAX_LIMIT)))
            .offset(max(offset, 0))
        )
    )


def count_messages(session: Session, user: User, dossier_id: int) -> int:
    """How many messages of the dossier the caller reads (its access checked by `list_messages`)."""
    query = _readable(user, dossier_id).with_only_columns(func.count(DossierMessage.id))
    return session.scalar(query) or 0


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


def check_may_write(session: Session, user: User, dossier_id: int) -> None:
    """Before a file streams in: the dossier is visible to the caller, who may write on it at all.
    Ends the read transaction either way (nothing held while the body is read)."""
    try:
        get_dossier(session, user, dossier_id)
        if not writable_audiences(user):
            raise Forbidden("Votre rôle ne permet pas d'écrire sur ce dossier.", code="audience_interdite")
    finally:
        session.rollback()


def post_message(
    session: Session,
    user: User,
    dossier_id: int,
    body: str,
    audience: str,
    now: datetime,
    *,
    received: files.Received | None = None,
    data_dir: Path | None = None,
) -> DossierMessage:
    """Writes a message or a note, with its file if any; the other side of an exchange gets an e-mail."""
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
    attached = (
        [_attach(session, dossier, message, received, data_dir, user, now)]
        if received is not None and received.has_file and data_dir is not None
        else []
    )
    if audience == "echange":
        _tell_the_other_side(session, dossier, message, user, now, [a.filename for a in attached])
    session.commit()
    return message


def _attach(
    session: Session,
    dossier: Dossier,
    message: DossierMessage,
    received: files.Received,
    data_dir: Path,
    user: User,
    now: datetime,
) -> Attachment:
    """The file of a message: typed by its content like every upload, stored by its hash."""
    content_type = files.check_type(received.path)
    files.store(session, data_dir, received)
    attachment = Attachment(
        organisation_id=dossier.organisation_id,
        dossier_id=dossier.id,
        message_id=message.id,
        kind="message",
        filename=files.clean_filename(received.filename, content_type),
        content_type=content_type,
        size=received.size,
        sha256=received.sha256,
        uploaded_by_id=user.id,
        uploaded_at=now,
    )
    session.add(attachment)
    session.flush()
    return attachment


def files_of(session: Session, user: User, messages: list[DossierMessage]) -> dict[int, list[Attachment]]:
    """The files of these messages that the caller may read (`readable_files`), by message."""
    out: dict[int, list[Attachment]] = {m.id: [] for m in messages}
    if not out:
        return out
    rows = session.scalars(
        readable_files(user).where(Attachment.message_id.in_(list(out))).order_by(Attachment.id)
    )
    for a in rows:
        if a.message_id is not None:
            out[a.message_id].append(a)
    return out


def _tell_the_other_side(
    session: Session,
    dossier: Dossier,
    message: DossierMessage,
    user: User,
    now: datetime,
    filenames: list[str],
) -> None:
    event = "message_du_porteur" if user.role == "porteur" else "message_de_l_equipe"
    author = (
        f"{message.author_name} ({dossier.organisation.name})"
        if user.role == "porteur"
        else f"{message.author_name}, équipe du contrat de ville"
    )
    news = DossierNews(
        f"m{message.id}", event, now, message.body, {"auteur": author, "pieces_jointes": filenames}
    )
    after_transition(session, dossier, news, now)


def thread(session: Session, user: User, dossier_id: int, page: int = 1) -> dict[str, object]:
    """What a dossier page shows of the dialogue: the latest messages this caller reads (page 2, 3…:
    older ones), oldest first, and the boxes it may write in, each saying who will read it."""
    get_dossier(session, user, dossier_id)  # a hidden dossier is a 404
    total = count_messages(session, user, dossier_id)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    latest = session.scalars(
        _readable(user, dossier_id)
        .order_by(DossierMessage.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    items = list(reversed(list(latest)))
    return {
        "dossier_id": dossier_id,
        "items": items,
        "total": total,
        "page": page,
        "pages": pages,
        "files": files_of(session, user, items),
        "audiences": [(code, AUDIENCES[code]) for code in writable_audiences(user)],
        "labels": AUDIENCES,
    }
