"""Compléments: when they come back, the history says which answers changed (before → after)."""

from __future__ import annotations

from aap.dossiers.effects import EffectsTable, TransitionContext
from forms import Form, load_form
from forms.diff import changes


def _is_piece(form: Form, path: str) -> bool:
    field = form.field(path)
    return field is not None and field.type == "attachment"


def _remember_answers(ctx: TransitionContext) -> None:
    ctx.dossier.answers_at_complements = dict(ctx.dossier.answers or {})


def _record_changes(ctx: TransitionContext) -> None:
    before = ctx.dossier.answers_at_complements
    if before is None:
        return
    form = load_form(ctx.dossier.form_code, ctx.dossier.form_version)
    found = [
        c.as_dict()
        for c in changes(form.definition, before, ctx.dossier.answers or {})
        if not _is_piece(form, c.path)  # pièce ids are linked by the system, not typed by the porteur
    ]
    ctx.event.data = {**(ctx.event.data or {}), "changements": found}
    ctx.dossier.answers_at_complements = None


def register(table: EffectsTable) -> None:
    table.on("demander_complements", _remember_answers, name="complements.snapshot")
    table.on("completer", _record_changes, name="complements.changes")
