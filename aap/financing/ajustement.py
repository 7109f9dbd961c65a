"""The budget adjusted after a partial grant: when a financer grants less than asked (or refuses),
the porteur files the action's budget again, its subsidies set to what was accorded, before the
convention; the convention and the letters annex it (`documents.adjusted_budget`).

It goes through the same form engine as the dossier (the form's `budget` section, checked complete
and balanced); it is kept in the answers under ``budget_ajuste`` with its own version number, each
filing bumps the dossier's version (If-Match, 412), is recorded in the history and tells the instructeurs
(e-mail `budget_ajuste_recu`, and their daily digest `instructeurs_budgets_ajustes`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from aap.campaigns.forms import form_context
from aap.dossiers import service as dossiers
from aap.errors import Conflict, Forbidden, Invalid
from aap.models import Dossier, User
from forms import FieldError
from forms.diff import changes
from workflows.cofinancement import format_euros

ADJUSTABLE_STATES = ("programme",)
ZERO = Decimal("0.00")


def expected_subsidies(dossier: Dossier) -> dict[str, Decimal]:
    """What each solicited financer finally gives: the accorded amount, nothing when refused."""
    return {
        line.financeur.code: (line.montant_accorde or ZERO) if line.decision == "accorde" else ZERO
        for line in dossier.cofinancements
    }


def required(dossier: Dossier) -> bool:
    """Less granted than asked, in total: the budget no longer holds as deposited."""
    asked = sum((line.montant_demande or ZERO for line in dossier.cofinancements), ZERO)
    return sum(expected_subsidies(dossier).values(), ZERO) < asked


def state_of(dossier: Dossier) -> dict[str, Any]:
    answers = dossier.answers if isinstance(dossier.answers, dict) else {}
    filed = answers.get("budget_ajuste")
    return {
        "required": required(dossier),
        "open": dossier.state in ADJUSTABLE_STATES and required(dossier),
        "budget": filed,
        "budget_version": filed.get("version", 0) if isinstance(filed, dict) else 0,
        "subventions": {code: f"{v:.2f}" for code, v in expected_subsidies(dossier).items()},
        "version": dossier.version,
    }


def file_adjusted_budget(
    session: Session, user: User, dossier_id: int, budget: dict[str, Any], if_match: int | None, now: datetime
) -> Dossier:
    dossier = dossiers.get_dossier(session, user, dossier_id, lock=True)
    dossiers.check_version(dossier, if_match)
    if user.role != "porteur":
        raise Forbidden("Seul le porteur dépose le budget ajusté.", code="role_interdit")
    if dossier.state not in ADJUSTABLE_STATES:
        raise Conflict(
            "Le budget ajusté se dépose une fois le dossier programmé et avant la convention.",
            code="etat_incompatible",
        )
    if not required(dossier):
        raise Conflict(
            "Les financeurs ont accordé ce qui était demandé : le budget déposé vaut.",
            code="ajustement_inutile",
        )
    form = dossiers.campaign_form_of(dossier)
    ctx = form_context(session, dossier.campaign)
    candidate = form.merge(
        {k: v for k, v in (dossier.answers or {}).items() if k != "budget"}, {"budget": budget}
    )
    errors = [
        e for e in form.check_complete(candidate, ctx) if e.path == "budget" or e.path.startswith("budget.")
    ]
    given = candidate.get("budget", {}).get("financements") or {}
    for code, amount in expected_subsidies(dossier).items():
        value = Decimal(str(given.get(code) or "0"))
        if value != amount:
            errors.append(
                FieldError(
                    f"budget.financements.{code}",
                    "subvention_non_accordee",
                    f"Indiquez ce que ce financeur a accordé : {format_euros(amount)} (et non {format_euros(value)}).",
                )
            )
    if errors:
        raise Invalid(
            "Le budget ajusté est incomplet ou déséquilibré ; rien n'a été enregistré.",
            code="budget_ajuste_invalide",
            errors=dossiers.field_errors(errors),
        )
    answers = dict(dossier.answers or {})
    previous = answers.get("budget_ajuste")
    version = (previous.get("version", 0) if isinstance(previous, dict) else 0) + 1
    answers["budget_ajuste"] = {**candidate["budget"], "version": version, "depose_le": now.isoformat()}
    # what the history shows: this budget against the one it replaces (the last filed, else the deposited)
    before = (
        {k: v for k, v in previous.items() if k not in ("version", "depose_le")}
        if isinstance(previous, dict)
        else answers.get("budget")
    )
    changed = [
        c.as_dict() for c in changes(form.definition, {"budget": before}, {"budget": candidate["budget"]})
    ]
    dossier.answers = answers
    dossier.version += 1
    dossier.updated_at = now
    # the history row, and the e-mail to the instructeurs the effects table queues for it
    dossiers.record_news(
        session, dossier, user, now, "budget_ajuste", {"version": version, "changements": changed}
    )
    session.commit()
    return dossiers.get_dossier(session, user, dossier.id)
