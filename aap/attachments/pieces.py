"""The pièces justificatives a dossier relies on: queries and checks the dossier service asks for.

A pièce with ``scope: organisation`` (statuts, RIB, list of directors…) is kept once per
organisation and reused by each of its dossiers until a newer one of the same kind replaces it
(``replaced_at``). A pièce with ``scope: dossier`` belongs to one dossier.

While the porteur may change the dossier, it uses the current pièces; at dépôt, when instruction
starts and when compléments are sent, their ids are written into ``answers.pieces``, so what the
financers read is what was deposited even if the organisation later replaces its RIB.

The dossier service does not know pièces: the linking, the missing pièces refusing a dépôt and the
check of pièce ids in the answers are registered in the transition effects table (``register``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from aap.dossiers.effects import AnswersContext, EffectsTable, PreconditionContext, TransitionContext
from aap.models import Attachment, Dossier, DossierPiece
from forms import FieldDef, FieldError, Form, load_form
from workflows.dossier import EDITABLE_STATES, Reason

# Leaving the porteur's hands: the pièces in use are written into the answers.
LINKING_TRANSITIONS = ("deposer", "prendre_en_instruction", "completer")


def _live(dossier: Dossier) -> bool:
    """The porteur may still change the dossier: it follows the organisation's current pièces."""
    return dossier.state in EDITABLE_STATES


def piece_fields(form: Form) -> dict[str, FieldDef]:
    """The pièce fields of a form by kind (their key), in form order."""
    return {f.key: f for f in form.pieces()}


def piece_section(form: Form) -> str | None:
    """The section holding the pièces (``pieces`` in the guichet unique), None when the form has none."""
    for section in form.sections:
        if any(f.type == "attachment" for f in section.fields):
            return section.key
    return None


def current_organisation_pieces(session: Session, organisation_id: int) -> dict[str, Attachment]:
    """The organisation's current pièce of each kind (not replaced)."""
    rows = session.scalars(
        select(Attachment)
        .where(
            Attachment.organisation_id == organisation_id,
            Attachment.dossier_id.is_(None),
            Attachment.replaced_at.is_(None),
        )
        .order_by(Attachment.id)
    )
    return {a.kind: a for a in rows}


def current_dossier_pieces(session: Session, dossier_id: int) -> dict[str, Attachment]:
    rows = session.scalars(
        select(Attachment)
        .where(Attachment.dossier_id == dossier_id, Attachment.replaced_at.is_(None))
        .order_by(Attachment.id)
    )
    return {a.kind: a for a in rows}


def _is_current(attachment: Attachment, dossier: Dossier) -> bool:
    """A pièce in force for the dossier: its own, or its organisation's (not replaced)."""
    if attachment.replaced_at is not None:
        return False
    if attachment.dossier_id is None:
        return attachment.organisation_id == dossier.organisation_id
    return attachment.dossier_id == dossier.id


@lru_cache(maxsize=8)
def _in_play_statement(linked: bool, live: bool, relied_on: bool) -> Select[Attachment, bool] | None:
    """The query of `_pieces_in_play` for one combination of what is asked, built once (its union's
    column collection cost more than the database's answer), the dossier's values bound at execution:
    `linked` (expanding list of ids), `organisation_id`, `dossier_id`."""
    wanted: list[ColumnElement[bool]] = []
    if linked:
        wanted.append(Attachment.id.in_(bindparam("linked", expanding=True)))
    if live:
        wanted.append(
            and_(
                Attachment.replaced_at.is_(None),
                or_(
                    and_(
                        Attachment.organisation_id == bindparam("organisation_id"),
                        Attachment.dossier_id.is_(None),
                    ),
                    Attachment.dossier_id == bindparam("dossier_id"),
                ),
            )
        )
    parts = [select(Attachment, literal(False).label("relied_on")).where(or_(*wanted))] if wanted else []
    if relied_on:
        parts.append(
            select(Attachment, literal(True).label("relied_on"))
            .join(DossierPiece, DossierPiece.attachment_id == Attachment.id)
            .where(DossierPiece.dossier_id == bindparam("dossier_id"))
        )
    if not parts:
        return None
    found = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    return select(aliased(Attachment, found), found.c.relied_on).order_by(found.c.id)


def _pieces_in_play(
    session: Session, dossier: Dossier, linked_ids: list[int], *, live: bool, relied_on: bool = False
) -> tuple[dict[str, Attachment], dict[str, Attachment], dict[int, Attachment], set[int]]:
    """In one query: the organisation's and the dossier's current pièces by kind (when `live`), the
    attachments the answers link to by id, and (`relied_on`) the ids of the dossier's `DossierPiece` rows."""
    query = _in_play_statement(bool(linked_ids), live, relied_on)
    if query is None:
        return {}, {}, {}, set()
    params: dict[str, Any] = {"organisation_id": dossier.organisation_id, "dossier_id": dossier.id}
    if linked_ids:
        params["linked"] = linked_ids
    org: dict[str, Attachment] = {}
    own: dict[str, Attachment] = {}
    by_id: dict[int, Attachment] = {}
    relied: set[int] = set()
    for attachment, is_relied_on in session.execute(query, params):
        if is_relied_on:
            relied.add(attachment.id)
            continue
        by_id[attachment.id] = attachment
        if live and _is_current(attachment, dossier):
            (own if attachment.dossier_id is not None else org)[attachment.kind] = attachment
    return org, own, {i: by_id[i] for i in linked_ids if i in by_id}, relied


def _linked(answers: dict[str, Any], section: str | None) -> dict[str, Any]:
    value = answers.get(section) if section else None
    return value if isinstance(value, dict) else {}


def effective_pieces(
    session: Session, dossier: Dossier, form: Form, *, live: bool | None = None
) -> dict[str, Attachment | None]:
    """For each pièce field, the file the dossier relies on now (None when there is none).

    Live dossiers (the porteur may edit them) take the current pièces; a deposited dossier keeps
    those linked at its dépôt.
    """
    return _effective(session, dossier, form, live=live)[0]


def _effective(
    session: Session, dossier: Dossier, form: Form, *, live: bool | None = None, relied_on: bool = False
) -> tuple[dict[str, Attachment | None], set[int]]:
    """`effective_pieces`, and the ids of the dossier's `DossierPiece` rows when `relied_on` (same query)."""
    fields = piece_fields(form)
    linked = _linked(dossier.answers or {}, piece_section(form))
    ids = [v for v in linked.values() if isinstance(v, int) and not isinstance(v, bool)]
    live = _live(dossier) if live is None else live
    org, own, by_id, relied = _pieces_in_play(session, dossier, ids, live=live, relied_on=relied_on)
    out: dict[str, Attachment | None] = {}
    for kind, f in fields.items():
        current = (org if f.scope == "organisation" else own).get(kind)
        if current is None:
            candidate = by_id.get(linked.get(kind))  # type: ignore[arg-type]
            current = candidate if candidate is not None and _belongs(candidate, dossier, f) else None
        out[kind] = current
    return out, relied


def _belongs(attachment: Attachment, dossier: Dossier, f: FieldDef) -> bool:
    if attachment.kind != f.key:
        return False
    if f.scope == "organisation":
        return attachment.organisation_id == dossier.organisation_id and attachment.dossier_id is None
    return attachment.dossier_id == dossier.id


def missing_pieces(session: Session, dossier: Dossier, form: Form) -> list[Reason]:
    """One reason per required pièce the dossier lacks (code ``piece_manquante``, field ``pieces.<kind>``)."""
    section = piece_section(form)
    have = effective_pieces(session, dossier, form)
    return [
        Reason(
            "piece_manquante",
            f"Pièce justificative manquante : {f.short_label or f.label}.",
            f"{section}.{kind}",
        )
        for kind, f in piece_fields(form).items()
        if f.required and have.get(kind) is None
    ]


def link_pieces(session: Session, dossier: Dossier, form: Form) -> None:
    """Writes the ids of the pièces the dossier relies on into its answers (at dépôt)."""
    section = piece_section(form)
    if section is None:
        return
    current, rows = _effective(session, dossier, form, live=True, relied_on=True)
    have = {kind: a.id for kind, a in current.items() if a is not None}
    answers = dict(dossier.answers or {})
    linked = {k: v for k, v in _linked(answers, section).items() if k not in piece_fields(form)}
    linked.update(have)
    if linked != _linked(answers, section):  # the same links are not written again (nor re-indexed)
        if linked:
            answers[section] = linked
        else:
            answers.pop(section, None)
        dossier.answers = answers
    # the same ids as rows: what financers may read of replaced versions, what retention keeps
    if rows == set(have.values()):
        return
    session.execute(delete(DossierPiece).where(DossierPiece.dossier_id == dossier.id))
    if have:
        session.execute(
            insert(DossierPiece), [{"dossier_id": dossier.id, "attachment_id": i} for i in set(have.values())]
        )


def reference_errors(
    session: Session, dossier: Dossier, form: Form, answers: dict[str, Any]
) -> list[FieldError]:
    """A pièce id written in the answers must be a file of this organisation (or dossier) of that kind."""
    section = piece_section(form)
    if section is None:
        return []
    fields = piece_fields(form)
    linked = {
        k: v
        for k, v in _linked(answers, section).items()
        if k in fields and isinstance(v, int) and not isinstance(v, bool)
    }
    if not linked:
        return []
    found = {a.id: a for a in session.scalars(select(Attachment).where(Attachment.id.in_(linked.values())))}
    errors = []
    for kind, attachment_id in linked.items():
        attachment = found.get(attachment_id)
        if attachment is None or not _belongs(attachment, dossier, fields[kind]):
            errors.append(
                FieldError(
                    f"{section}.{kind}",
                    "piece_inconnue",
                    f"{fields[kind].short_label or fields[kind].label} : cette pièce n'est pas une pièce "
                    "de votre organisme de ce type.",
                )
            )
    return errors


def _link_on_leaving_porteur(ctx: TransitionContext) -> None:
    """What the financers read is what was deposited, even if the organisation replaces a pièce later."""
    link_pieces(ctx.session, ctx.dossier, load_form(ctx.dossier.form_code, ctx.dossier.form_version))


def _missing_at_deposit(ctx: PreconditionContext) -> list[Reason]:
    """A missing pièce makes the form incomplete, like a missing answer (same code, its own field)."""
    if ctx.dossier.state != "brouillon":
        return []
    form = load_form(ctx.dossier.form_code, ctx.dossier.form_version)
    return [
        Reason("form_incomplete", r.message, r.field) for r in missing_pieces(ctx.session, ctx.dossier, form)
    ]


def _answer_references(ctx: AnswersContext) -> list[FieldError]:
    return reference_errors(ctx.session, ctx.dossier, ctx.form, ctx.answers)


def register(table: EffectsTable) -> None:
    table.on(LINKING_TRANSITIONS, _link_on_leaving_porteur, name="pieces.link")
    table.require("deposer", _missing_at_deposit, name="pieces.missing")
    table.check_answers(_answer_references, name="pieces.references")
