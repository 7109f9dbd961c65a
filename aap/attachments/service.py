"""Attachments: the only writer of files and of their rows.

Who may do what: the porteur members of an organisation upload its pièces and the files of its
dossiers while those may be edited; whoever may read a dossier may download its files and the
pièces of its organisation. Anything else answers 404, as if the file did not exist.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aap import access_log
from aap.attachments import files
from aap.attachments.pieces import effective_pieces, piece_fields
from aap.attachments.repository import readable_files
from aap.dossiers import repository as dossiers
from aap.dossiers.access import check_editable
from aap.dossiers.complements import requested_pieces
from aap.errors import Invalid, NotFound
from aap.models import Attachment, Dossier, Organisation, User
from forms import FieldDef, load_form
from forms import form as form_module


def organisation_kinds() -> dict[str, FieldDef]:
    """Every organisation-wide pièce some form asks for (latest version of each form), by kind."""
    codes = sorted({p.name.split(".v")[0] for p in form_module.DEFINITIONS.glob("*.v*.yaml")})
    out: dict[str, FieldDef] = {}
    for code in codes:
        for f in load_form(code).pieces():
            if f.scope == "organisation":
                out.setdefault(f.key, f)
    return out


def _unknown_kind(kind: str | None, allowed: dict[str, Any]) -> Invalid:
    listed = ", ".join(allowed) or "aucune"
    return Invalid(
        f"Type de pièce « {kind or ''} » inconnu : pièces attendues ici : {listed}.",
        code="piece_type_inconnu",
        errors=[{"path": "kind", "code": "enum", "message": f"valeurs : {listed}"}],
    )


def _member_organisation(user: User, organisation_id: int) -> Organisation:
    if user.role == "porteur":
        for org in user.organisations:
            if org.id == organisation_id:
                return org
    raise NotFound("Organisation introuvable.", code="organisation_introuvable")


# --- before reading the body: may this caller upload here at all? -----------------------------------


def _editable_dossier(session: Session, user: User, dossier_id: int, now: datetime) -> Dossier:
    dossier = dossiers.get_dossier(session, user, dossier_id)
    check_editable(user, dossier, now)
    return dossier


def check_dossier_upload(session: Session, user: User, dossier_id: int, now: datetime) -> None:
    """May this caller add a file to this dossier now? Ends the read transaction either way, so that
    nothing (not even SQLite's write lock) is held while the file streams in."""
    try:
        _editable_dossier(session, user, dossier_id, now)
    finally:
        session.rollback()


def check_organisation_upload(user: User, organisation_id: int) -> Organisation:
    return _member_organisation(user, organisation_id)


# --- writing ---------------------------------------------------------------------------------------


def _save(
    session: Session,
    received: files.Received,
    data_dir: Path,
    *,
    kind: str,
    organisation_id: int,
    dossier_id: int | None,
    user: User,
    now: datetime,
) -> Attachment:
    content_type = files.check_type(received.path)
    files.store(session, data_dir, received)
    same = Attachment.dossier_id == dossier_id if dossier_id is not None else Attachment.dossier_id.is_(None)
    session.execute(
        update(Attachment)
        .where(
            Attachment.organisation_id == organisation_id,
            same,
            Attachment.kind == kind,
            Attachment.replaced_at.is_(None),
        )
        .values(replaced_at=now)
    )
    attachment = Attachment(
        organisation_id=organisation_id,
        dossier_id=dossier_id,
        kind=kind,
        filename=files.clean_filename(received.filename, content_type),
        content_type=content_type,
        size=received.size,
        sha256=received.sha256,
        uploaded_by_id=user.id,
        uploaded_at=now,
    )
    session.add(attachment)
    session.commit()
    return attachment


def store_dossier_file(
    session: Session,
    received: files.Received,
    data_dir: Path,
    *,
    kind: str,
    dossier: Dossier,
    user: User,
    now: datetime,
) -> Attachment:
    """A file of one dossier outside its guichet unique form (the bilan's financial statements); the
    caller has checked who may add it. It replaces the dossier's previous file of that kind."""
    return _save(
        session,
        received,
        data_dir,
        kind=kind,
        organisation_id=dossier.organisation_id,
        dossier_id=dossier.id,
        user=user,
        now=now,
    )


def add_to_dossier(
    session: Session, user: User, dossier_id: int, received: files.Received, data_dir: Path, now: datetime
) -> Attachment:
    """A file for a dossier; a pièce of the organisation sent from a dossier becomes the organisation's."""
    dossier = _editable_dossier(session, user, dossier_id, now)
    allowed = piece_fields(dossiers.campaign_form_of(dossier))
    requested = {p["kind"]: p["label"] for p in requested_pieces(dossier)}  # named with the compléments
    kind = received.fields.get("kind")
    if kind not in allowed and kind not in requested:
        raise _unknown_kind(kind, {**allowed, **requested})
    scope = allowed[kind].scope if kind in allowed else "dossier"
    return _save(
        session,
        received,
        data_dir,
        kind=kind,
        organisation_id=dossier.organisation_id,
        dossier_id=None if scope == "organisation" else dossier.id,
        user=user,
        now=now,
    )


def add_to_organisation(
    session: Session,
    user: User,
    organisation_id: int,
    received: files.Received,
    data_dir: Path,
    now: datetime,
) -> Attachment:
    """A new pièce of the organisation; it replaces the previous one of the same kind."""
    organisation = _member_organisation(user, organisation_id)
    allowed = organisation_kinds()
    kind = received.fields.get("kind")
    if kind not in allowed:
        raise _unknown_kind(kind, allowed)
    return _save(
        session,
        received,
        data_dir,
        kind=kind,
        organisation_id=organisation.id,
        dossier_id=None,
        user=user,
        now=now,
    )


def store_organisation_piece(
    session: Session,
    organisation: Organisation,
    kind: str,
    filename: str,
    content: bytes,
    data_dir: Path,
    now: datetime,
    user: User | None = None,
) -> Attachment:
    """A pièce given in memory (the demo loader, scripts); same replacement rule, no commit."""
    sha, path = files.store_bytes(session, data_dir, content)
    content_type = files.check_type(path)
    session.execute(
        update(Attachment)
        .where(
            Attachment.organisation_id == organisation.id,
            Attachment.dossier_id.is_(None),
            Attachment.kind == kind,
            Attachment.replaced_at.is_(None),
        )
        .values(replaced_at=now)
    )
    attachment = Attachment(
        organisation_id=organisation.id,
        dossier_id=None,
        kind=kind,
        filename=files.clean_filename(filename),
        content_type=content_type,
        size=len(content),
        sha256=sha,
        uploaded_by_id=user.id if user else None,
        uploaded_at=now,
    )
    session.add(attachment)
    session.flush()
    return attachment


# --- reading ---------------------------------------------------------------------------------------


def dossier_files(session: Session, user: User, dossier_id: int) -> tuple[list[Attachment], list[dict]]:
    """The files of a dossier (its own and the pièces of its organisation it relies on) and the checklist
    of its pièces: kind, label, scope, required and the file in place (or None)."""
    dossier = dossiers.get_dossier(session, user, dossier_id)
    form = dossiers.campaign_form_of(dossier)
    pieces = effective_pieces(session, dossier, form)
    own = list(
        session.scalars(
            readable_files(user)
            .where(Attachment.dossier_id == dossier.id, Attachment.message_id.is_(None))  # not the thread's
            .order_by(Attachment.id)
        )
    )
    items = {a.id: a for a in own}
    for attachment in pieces.values():
        if attachment is not None:
            items.setdefault(attachment.id, attachment)
    checklist = [
        {"kind": kind, "label": f.label, "scope": f.scope, "required": f.required, "attachment": pieces[kind]}
        for kind, f in piece_fields(form).items()
    ]
    return sorted(items.values(), key=lambda a: a.id), checklist


def organisation_pieces(
    session: Session, user: User, organisation_id: int, *, include_replaced: bool = False
) -> list[Attachment]:
    organisation = _member_organisation(user, organisation_id)
    query = select(Attachment).where(
        Attachment.organisation_id == organisation.id, Attachment.dossier_id.is_(None)
    )
    if not include_replaced:
        query = query.where(Attachment.replaced_at.is_(None))
    return list(session.scalars(query.order_by(Attachment.kind, Attachment.id)))


def readable(session: Session, user: User, attachment_id: int, data_dir: Path) -> tuple[Attachment, Path]:
    """The file if the caller may read it (`readable_files`), else 404 as if it did not exist."""
    attachment = session.scalar(readable_files(user).where(Attachment.id == attachment_id))
    if attachment is None:
        raise NotFound("Pièce jointe introuvable.", code="piece_introuvable")
    access_log.read(session, "attachments", attachment.id)  # a pièce, a RIB: whoever opens it is logged
    path = files.stored_path(data_dir, attachment.sha256)
    if not path.exists():
        raise NotFound("Le fichier de cette pièce n'est plus disponible.", code="fichier_absent")
    return attachment, path
