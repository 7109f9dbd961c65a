"""The bilan of a funded action: read, save (versioned, autosave-friendly), and what the dossier's
transitions do to it; the only writer of bilans.

The bilan's lifecycle rides on the dossier's (`deposer_bilan`, `renvoyer_bilan`, `valider_bilan` in
`workflows/dossier.py`): this module registers, in the effects table, the check that a bilan is
complete before it is filed and what each transition changes in the bilan; and, in the payment
guards, that a `solde` waits for the validated bilan.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aap import access_log
from aap.attachments import files, pieces
from aap.attachments import service as attachments
from aap.bilans.repository import STATE_LABELS, bilan_of
from aap.campaigns.forms import form_context
from aap.dossiers import repository as dossier_reads
from aap.dossiers import service as dossiers
from aap.dossiers.effects import EffectsTable, PreconditionContext, TransitionContext
from aap.errors import Conflict, Forbidden, Invalid, PreconditionFailed
from aap.financing.guards import PaymentAttempt, PaymentGuards
from aap.models import Attachment, Bilan, BilanFigure, Dossier, User
from aap.settings import get_settings
from forms import FieldError, Form, FormContext, load_form
from forms.validate import gap_exceeds
from forms.values import parse_amount
from forms.walk import get_path
from workflows.reasons import Reason, fr_date

# The dossier states in which a bilan exists (owed, filed, validated).
BILAN_DOSSIER_STATES = ("conventionne", "bilan_depose", "cloture")
# The lighter bilan of the small forms (FPH); every other form's action owes the full bilan.
BILAN_FORMS = {"fph": "bilan_fph"}
DEFAULT_BILAN_FORM = "bilan"
MONTHS_AFTER_END = 6


# --- the form and its context ------------------------------------------------------------------------


def bilan_form_code(dossier: Dossier) -> str:
    return BILAN_FORMS.get(dossier.form_code, DEFAULT_BILAN_FORM)


def form_of(bilan: Bilan) -> Form:
    return load_form(bilan.form_code, bilan.form_version)


def context(session: Session, dossier: Dossier) -> FormContext:
    """The campaign's enumerations, and the gap threshold of the settings (15 % by default)."""
    return dataclasses.replace(
        form_context(session, dossier.campaign), gap_threshold=get_settings().bilan_gap_threshold
    )


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(sub, f"{prefix}.{key}" if prefix else str(key), out)
    elif prefix:
        out[prefix] = value


def prefill_source(dossier: Dossier) -> dict[str, Any]:
    """What the bilan is prefilled from: the dossier's answers by dotted path, the organisation's
    profile, and `cofinancements` (each financer's accorded amount)."""
    source: dict[str, Any] = dict(dossier.organisation.profile())
    _flatten(dossier.answers or {}, "", source)
    source["cofinancements"] = [
        {"financeur": line.financeur.code, "accorde": f"{line.montant_accorde:.2f}"}
        for line in dossier.cofinancements
        if line.decision == "accorde" and line.montant_accorde is not None
    ]
    return source


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def end_of_action(dossier: Dossier) -> date | None:
    answers = dossier.answers or {}
    for path in ("action.date_fin", "projet.date"):
        raw = get_path(answers, path)
        if isinstance(raw, str):
            try:
                return date.fromisoformat(raw)
            except ValueError:
                continue
    return None


def due_date_for(dossier: Dossier) -> date:
    """The campaign's `bilan_limite` when its calendar names one; otherwise the end of the action plus
    six months (the compte rendu financier's legal delay), else the end of the campaign year + 6 months."""
    limit = dossier.campaign.date_of("bilan_limite")
    if limit is not None:
        return limit
    end = end_of_action(dossier) or date(dossier.campaign.year, 12, 31)
    return _add_months(end, MONTHS_AFTER_END)


# --- reading ------------------------------------------------------------------------------------------


def _new_bilan(dossier: Dossier, now: datetime) -> Bilan:
    form = load_form(bilan_form_code(dossier))
    return Bilan(
        dossier_id=dossier.id,
        state="a_faire",
        version=1,
        form_code=form.code,
        form_version=form.version,
        answers=form.prefill(prefill_source(dossier)),
        due_date=dossier.bilan_due or due_date_for(dossier),
        created_at=now,
        updated_at=now,
    )


def ensure_bilan(session: Session, dossier: Dossier, now: datetime, *, lock: bool = False) -> Bilan:
    """The dossier's bilan, made (prefilled) the first time it is asked for; no commit."""
    if dossier.state not in BILAN_DOSSIER_STATES:
        raise Conflict(
            "Le bilan n'est attendu qu'une fois le dossier conventionné.", code="bilan_pas_encore_attendu"
        )
    bilan = bilan_of(session, dossier.id, lock=lock)
    if bilan is None:
        bilan = _new_bilan(dossier, now)
        try:
            with session.begin_nested():
                session.add(bilan)
        except IntegrityError:  # made meanwhile by a concurrent request
            found = bilan_of(session, dossier.id, lock=lock)
            assert found is not None
            bilan = found
    return bilan


def get_bilan(session: Session, user: User, dossier_id: int, now: datetime) -> tuple[Dossier, Bilan]:
    """Whoever sees the dossier reads its bilan (a bilan of another organisation answers 404)."""
    dossier = dossier_reads.get_dossier(session, user, dossier_id)
    bilan = ensure_bilan(session, dossier, now)
    access_log.read(session, "bilans", bilan.id)  # its beneficiaries' figures
    session.commit()
    return dossier, bilan


def checklist(session: Session, dossier: Dossier, bilan: Bilan) -> dict[str, list[FieldError]]:
    form = form_of(bilan)
    out = form.checklist(bilan.answers, context(session, dossier))
    for error in pieces.reference_errors(session, dossier, form, bilan.answers):
        out.setdefault(error.path.split(".")[0], []).append(error)
    return out


def gaps(session: Session, dossier: Dossier, bilan: Bilan) -> list[dict[str, Any]]:
    """Every budget line whose réalisé moves from its prévu beyond the threshold: what the instructeur
    reviews first (with the explanation given, if any)."""
    form = form_of(bilan)
    threshold = context(session, dossier).gap_threshold
    out = []
    for rule in form.definition.rules:
        if rule.kind != "gap_explained" or not (rule.planned and rule.actual and rule.explanation):
            continue
        rows = get_path(bilan.answers, rule.path)
        for i, row in enumerate(rows if isinstance(rows, list) else []):
            if not isinstance(row, dict):
                continue
            planned = parse_amount(row.get(rule.planned)) or Decimal(0)
            actual = parse_amount(row.get(rule.actual))
            if actual is None or not gap_exceeds(planned, actual, threshold):
                continue
            share = ((actual - planned) / planned).quantize(Decimal("0.001")) if planned else None
            out.append(
                {
                    "path": f"{rule.path}.{i}",
                    "libelle": row.get("libelle") or row.get("financeur") or f"ligne {i + 1}",
                    "prevu": f"{planned:.2f}",
                    "realise": f"{actual:.2f}",
                    "ecart": format(share, "f") if share is not None else None,
                    "explication": row.get(rule.explanation),
                }
            )
    return out


# --- saving -------------------------------------------------------------------------------------------

EDITABLE_BILAN_STATES = ("a_faire", "brouillon", "a_corriger")


def _check_version(bilan: Bilan, if_match: int | None) -> None:
    if if_match is not None and if_match != bilan.version:
        raise PreconditionFailed(
            f"Le bilan a été modifié entre-temps (version {bilan.version}, vous aviez la version "
            f"{if_match}) : rechargez-le, vos modifications n'ont pas été enregistrées.",
            code="version_perimee",
        )


def _may_edit(user: User, dossier: Dossier, bilan: Bilan) -> None:
    if user.role != "porteur":
        raise Forbidden("Seul le porteur de projet remplit le bilan.", code="role_interdit")
    if dossier.state != "conventionne" or bilan.state not in EDITABLE_BILAN_STATES:
        label = STATE_LABELS.get(bilan.state, bilan.state)
        raise Conflict(f"Un bilan à l'état « {label} » ne se modifie plus.", code="bilan_non_modifiable")


def update_bilan(
    session: Session, user: User, dossier_id: int, patch: dict[str, Any], if_match: int | None, now: datetime
) -> tuple[Dossier, Bilan]:
    """Saves part of the bilan (autosave): what is written must be valid; a draft may be incomplete."""
    dossier = dossier_reads.get_dossier(session, user, dossier_id, lock=True)
    bilan = ensure_bilan(session, dossier, now, lock=True)
    _check_version(bilan, if_match)
    _may_edit(user, dossier, bilan)
    form = form_of(bilan)
    ctx = context(session, dossier)
    merged = form.merge(bilan.answers, patch)
    errors = form.check_partial(merged, ctx) + pieces.reference_errors(session, dossier, form, merged)
    if errors:
        raise Invalid(
            "Certaines réponses du bilan sont invalides ; rien n'a été enregistré.",
            code="reponses_invalides",
            errors=dossiers.field_errors(errors),
        )
    _save(session, dossier, bilan, merged, now)
    session.commit()
    return dossier, bilan


def _save(session: Session, dossier: Dossier, bilan: Bilan, answers: dict[str, Any], now: datetime) -> None:
    bilan.answers = answers
    bilan.version += 1
    bilan.updated_at = now
    if bilan.state == "a_faire":
        bilan.state = "brouillon"
    write_figures(session, dossier, bilan)


def attach_file(
    session: Session,
    user: User,
    dossier_id: int,
    received: files.Received,
    data_dir: Path,
    now: datetime,
) -> tuple[Bilan, Attachment]:
    """A file of the bilan (the financial statements): stored and written into its answers."""
    dossier = dossier_reads.get_dossier(session, user, dossier_id, lock=True)
    bilan = ensure_bilan(session, dossier, now, lock=True)
    _may_edit(user, dossier, bilan)
    form = form_of(bilan)
    allowed = pieces.piece_fields(form)
    kind = received.fields.get("kind") or next(iter(allowed), None)
    if kind not in allowed:
        listed = ", ".join(allowed) or "aucune"
        raise Invalid(
            f"Type de pièce « {kind or ''} » inconnu : pièces attendues ici : {listed}.",
            code="piece_type_inconnu",
            errors=[{"path": "kind", "code": "enum", "message": f"valeurs : {listed}"}],
        )
    section = pieces.piece_section(form)
    assert section is not None and kind is not None
    attachment = attachments.store_dossier_file(
        session, received, data_dir, kind=kind, dossier=dossier, user=user, now=now
    )
    dossier = dossier_reads.get_dossier(session, user, dossier_id, lock=True)
    bilan = ensure_bilan(session, dossier, now, lock=True)
    _save(session, dossier, bilan, form.merge(bilan.answers, {section: {kind: attachment.id}}), now)
    session.commit()
    return bilan, attachment


def check_before_upload(session: Session, user: User, dossier_id: int, now: datetime) -> None:
    """May this caller add a file to this bilan now? Ends the read transaction either way."""
    try:
        dossier = dossier_reads.get_dossier(session, user, dossier_id)
        _may_edit(user, dossier, ensure_bilan(session, dossier, now))
        session.commit()
    finally:
        session.rollback()


# --- the figures the annual report adds up ----------------------------------------------------------


def _count(value: Any) -> Decimal | None:
    return Decimal(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _line_total(rows: Any, column: str) -> Decimal:
    total = Decimal(0)
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict):
            total += parse_amount(row.get(column)) or Decimal(0)
    return total


# one figure of a bilan: (dimension, key, prévu, réalisé, texte)
Figure = tuple[str, str, Decimal | None, Decimal | None, str | None]


def figures(dossier: Dossier, answers: dict[str, Any]) -> list[Figure]:
    """(dimension, key, prévu, réalisé, texte) rows of one bilan's answers."""
    benef = answers.get("beneficiaires") if isinstance(answers.get("beneficiaires"), dict) else {}
    assert isinstance(benef, dict)
    budget = answers.get("budget") if isinstance(answers.get("budget"), dict) else {}
    assert isinstance(budget, dict)
    indicators = answers.get("indicateurs") if isinstance(answers.get("indicateurs"), dict) else {}
    assert isinstance(indicators, dict)
    return [*_beneficiary_figures(benef), *_money_figures(dossier, budget), *_indicator_figures(indicators)]


def _beneficiary_figures(benef: dict[str, Any]) -> list[Figure]:
    rows: list[Figure] = []
    if (total := _count(benef.get("total"))) is not None:
        rows.append(("total", "beneficiaires", None, total, None))
    for dimension in ("sexe", "age"):
        group = benef.get(dimension)
        for key, value in group.items() if isinstance(group, dict) else []:
            if (count := _count(value)) is not None:
                rows.append((dimension, key, None, count, None))
    for row in benef.get("par_qpv") or []:
        count = _count(row.get("nombre")) if isinstance(row, dict) else None
        if count is not None and isinstance(row.get("qpv"), str):
            rows.append(("qpv", row["qpv"], None, count, None))
    if (outside := _count(benef.get("hors_qpv"))) is not None:
        rows.append(("qpv", "hors_qpv", None, outside, None))
    return rows


def _money_figures(dossier: Dossier, budget: dict[str, Any]) -> list[Figure]:
    """Per financer, then for the action's orientation: what was planned and what was spent."""
    rows: list[Figure] = [
        (
            "financeur",
            row["financeur"],
            parse_amount(row.get("prevu")),
            parse_amount(row.get("realise")),
            None,
        )
        for row in budget.get("financements") or []
        if isinstance(row, dict) and isinstance(row.get("financeur"), str)
    ]
    orientation = get_path(dossier.answers or {}, "action.orientation")
    spent_rows = budget.get("charges") if "charges" in budget else budget.get("depenses")
    if isinstance(orientation, str) and spent_rows:
        rows.append(
            (
                "orientation",
                orientation,
                _line_total(spent_rows, "prevu"),
                _line_total(spent_rows, "realise"),
                None,
            )
        )
    return rows


def _indicator_figures(indicators: dict[str, Any]) -> list[Figure]:
    listed = [indicators.get("droit_commun")] + list(indicators.get("autres") or [])
    return [
        (
            "droit_commun" if i == 0 else "indicateur",
            row["indicateur"][:300],
            None,
            None,
            str(row.get("valeur") or ""),
        )
        for i, row in enumerate(listed)
        if isinstance(row, dict) and isinstance(row.get("indicateur"), str)
    ]


def write_figures(session: Session, dossier: Dossier, bilan: Bilan) -> None:
    if bilan.id is None:
        session.flush()
    session.execute(delete(BilanFigure).where(BilanFigure.bilan_id == bilan.id))
    for dimension, key, prevu, realise, texte in figures(dossier, bilan.answers or {}):
        session.add(
            BilanFigure(
                bilan_id=bilan.id, dimension=dimension, key=key, prevu=prevu, realise=realise, texte=texte
            )
        )
    session.flush()


# --- the dossier's transitions, as registered effects ---------------------------------------------


def _complete_reasons(ctx: PreconditionContext) -> list[Reason]:
    """`deposer_bilan` only for a complete bilan: every missing or wrong answer, at its field."""
    dossier = ctx.dossier
    if dossier.state != "conventionne":
        return []
    bilan = ensure_bilan(ctx.session, dossier, ctx.now)
    form = form_of(bilan)
    errors = form.check_complete(bilan.answers, context(ctx.session, dossier))
    errors += pieces.reference_errors(ctx.session, dossier, form, bilan.answers)
    return [Reason(e.code if e.code != "required" else "bilan_incomplet", e.message, e.path) for e in errors]


def _on_conventionner(ctx: TransitionContext) -> None:
    dossier = ctx.dossier
    dossier.bilan_due = due_date_for(dossier)
    bilan = ensure_bilan(ctx.session, dossier, ctx.now)
    bilan.due_date = dossier.bilan_due


def _on_deposer(ctx: TransitionContext) -> None:
    bilan = ensure_bilan(ctx.session, ctx.dossier, ctx.now)
    bilan.state, bilan.deposited_at, bilan.correction_due = "depose", ctx.now, None
    bilan.version += 1
    write_figures(ctx.session, ctx.dossier, bilan)


def _on_renvoyer(ctx: TransitionContext) -> None:
    """Sent back with a message and a new due date; the answers stay as they were."""
    bilan = ensure_bilan(ctx.session, ctx.dossier, ctx.now)
    due = ctx.payload["due_date"]
    due = due if isinstance(due, date) else date.fromisoformat(str(due))
    bilan.state, bilan.comment = "a_corriger", ctx.payload.get("comment")
    bilan.due_date = bilan.correction_due = due
    bilan.version += 1
    # the first deadline's reminders stop: the returned bilan's own hang on `correction_due`
    ctx.dossier.bilan_due = None
    ctx.event.data = {**(ctx.event.data or {}), "due_date": due.isoformat()}


def _on_valider(ctx: TransitionContext) -> None:
    bilan = ensure_bilan(ctx.session, ctx.dossier, ctx.now)
    bilan.state, bilan.validated_at, bilan.correction_due = "valide", ctx.now, None
    bilan.version += 1


def register(table: EffectsTable) -> None:
    table.require("deposer_bilan", _complete_reasons, name="bilans.complet")
    table.on("conventionner", _on_conventionner, name="bilans.echeance")
    table.on("deposer_bilan", _on_deposer, name="bilans.depose")
    table.on("renvoyer_bilan", _on_renvoyer, name="bilans.renvoye")
    table.on("valider_bilan", _on_valider, name="bilans.valide")


def _solde_waits(attempt: PaymentAttempt) -> list[Reason]:
    if attempt.kind != "solde":
        return []
    bilan = bilan_of(attempt.session, attempt.dossier.id)
    if bilan is not None and bilan.state == "valide":
        return []
    state = STATE_LABELS[bilan.state] if bilan is not None else STATE_LABELS["a_faire"]
    due = f", attendu au plus tard le {fr_date(bilan.due_date)}" if bilan and bilan.due_date else ""
    return [
        Reason(
            "bilan_non_valide",
            f"Le solde est versé après la validation du bilan de l'action (bilan « {state} »{due}).",
            "kind",
        )
    ]


def register_guards(guards: PaymentGuards) -> None:
    guards.add("bilans.solde", _solde_waits)


def overdue(bilan: Bilan, today: date) -> bool:
    return bilan.state in EDITABLE_BILAN_STATES and bilan.due_date is not None and today > bilan.due_date


def days_left(bilan: Bilan, today: date) -> int | None:
    return (bilan.due_date - today).days if bilan.due_date else None
