"""Compléments: the documents the instructeur names, and what changed when they come back.

When asking for compléments, the instructeur may name documents (« Devis du traiteur »): each becomes a
kind of file the porteur may attach to the dossier, and the compléments cannot be sent back before each
is attached. When they come back, the history says which answers changed (before → after) and which
files were sent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.dossiers.effects import EffectsTable, PreconditionContext, TransitionContext
from aap.models import Attachment, Dossier
from forms import Form, load_form
from forms.diff import changes
from workflows.reasons import Reason

MAX_PIECES = 10
MAX_LABEL = 200


def requested_pieces(dossier: Dossier) -> list[dict[str, str]]:
    """The documents asked with the compléments still awaited (kind and label)."""
    if dossier.state != "complements_demandes":
        return []
    return list(dossier.complements_pieces or [])


def attached(
    session: Session, dossier: Dossier, pieces: list[dict[str, str]] | None = None
) -> dict[str, Attachment]:
    """The file in place for each requested document (default: those still awaited), by kind."""
    kinds = [p["kind"] for p in (requested_pieces(dossier) if pieces is None else pieces)]
    if not kinds:
        return {}
    rows = session.scalars(
        select(Attachment).where(
            Attachment.dossier_id == dossier.id, Attachment.kind.in_(kinds), Attachment.replaced_at.is_(None)
        )
    )
    return {a.kind: a for a in rows}


def requested_with_files(session: Session, dossier: Dossier) -> list[dict[str, Any]]:
    files = attached(session, dossier)
    return [{**p, "attachment": files.get(p["kind"])} for p in requested_pieces(dossier)]


def _names(payload: dict[str, Any]) -> list[Any]:
    raw = payload.get("pieces_demandees") or []
    return raw if isinstance(raw, list) else [raw]


def _check_names(ctx: PreconditionContext) -> list[Reason]:
    names = _names(ctx.payload)
    reasons = []
    if len(names) > MAX_PIECES:
        reasons.append(
            Reason("trop_de_pieces", f"{MAX_PIECES} documents au plus par demande.", "pieces_demandees")
        )
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            reasons.append(
                Reason("piece_sans_nom", "Nommez chaque document demandé.", f"pieces_demandees.{i}")
            )
        elif len(name.strip()) > MAX_LABEL:
            reasons.append(
                Reason("piece_nom_trop_long", f"{MAX_LABEL} caractères au plus.", f"pieces_demandees.{i}")
            )
    return reasons


def _check_attached(ctx: PreconditionContext) -> list[Reason]:
    files = attached(ctx.session, ctx.dossier)
    return [
        Reason(
            "piece_complement_manquante",
            f"Joignez le document « {p['label']} » demandé par l'instructeur.",
            f"pieces_demandees.{i}",
        )
        for i, p in enumerate(requested_pieces(ctx.dossier))
        if p["kind"] not in files
    ]


def _remember(ctx: TransitionContext) -> None:
    ctx.dossier.answers_at_complements = dict(ctx.dossier.answers or {})
    names = [n.strip() for n in _names(ctx.payload)]
    ctx.dossier.complements_pieces = [
        {"kind": f"complement-{ctx.event.id}-{i}", "label": name} for i, name in enumerate(names, start=1)
    ] or None
    if names:
        ctx.event.data = {**(ctx.event.data or {}), "pieces_demandees": names}


def _is_piece(form: Form, path: str) -> bool:
    field = form.field(path)
    return field is not None and field.type == "attachment"


def _record_changes(ctx: TransitionContext) -> None:
    data = dict(ctx.event.data or {})
    before = ctx.dossier.answers_at_complements
    if before is not None:
        form = load_form(ctx.dossier.form_code, ctx.dossier.form_version)
        data["changements"] = [
            c.as_dict()
            for c in changes(form.definition, before, ctx.dossier.answers or {})
            if not _is_piece(form, c.path)  # pièce ids are linked by the system, not typed by the porteur
        ]
    asked = list(ctx.dossier.complements_pieces or [])  # the dossier has already left complements_demandes
    files = attached(ctx.session, ctx.dossier, asked)
    sent = [
        {"label": p["label"], "attachment_id": files[p["kind"]].id, "filename": files[p["kind"]].filename}
        for p in asked
        if p["kind"] in files
    ]
    if sent:
        data["pieces_transmises"] = sent
    ctx.event.data = data
    ctx.dossier.answers_at_complements = None
    ctx.dossier.complements_pieces = None


def register(table: EffectsTable) -> None:
    table.require("demander_complements", _check_names, name="complements.names")
    table.require("completer", _check_attached, name="complements.attached")
    table.on("demander_complements", _remember, name="complements.snapshot")
    table.on("completer", _record_changes, name="complements.changes")
