"""The bilan conditions the money: a CPO year's payments wait for last year's bilan to be validated.

An admin may record an avance voted before that bilan (`avance_avant_bilan`, with its justification in
the CPO's history): that financer's avance of that year then goes through.

Whether a bilan is validated is the bilans domain's answer, handed in at the composition root
(`aap/wiring.py`): this domain imports nothing of bilans.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import Session

from aap.cpo import repository
from aap.models import Cofinancement, Dossier
from workflows.reasons import Reason, fr_date


class PaymentAttempt(Protocol):
    """What the payment service hands its guards (`aap.financing.guards.PaymentAttempt`); described here
    so the CPO domain needs nothing of financing (the guard is registered in `aap/wiring.py`). Read-only
    members, so that the frozen dataclass matches."""

    @property
    def session(self) -> Session: ...
    @property
    def dossier(self) -> Dossier: ...
    @property
    def line(self) -> Cofinancement: ...
    @property
    def kind(self) -> str: ...


BilanValidated = Callable[[Session, int], bool]
"""(session, dossier id) -> whether that dossier's bilan is validated: the bilans domain answers."""

PaymentGuard = Callable[[PaymentAttempt], list[Reason]]


def previous_bilan_pending(bilan_validated: BilanValidated) -> PaymentGuard:
    """The guard, asking `bilan_validated` (the bilans domain's) about last year's dossier."""

    def guard(attempt: PaymentAttempt) -> list[Reason]:
        return _previous_bilan_pending(attempt, bilan_validated)

    return guard


def _previous_bilan_pending(attempt: PaymentAttempt, bilan_validated: BilanValidated) -> list[Reason]:
    annee = repository.year_of_dossier(attempt.session, attempt.dossier.id)
    if annee is None:
        return []
    previous = repository.previous_year_dossier(attempt.session, annee)
    if previous is None or bilan_validated(attempt.session, previous.id):
        return []
    code = attempt.line.financeur.code
    if attempt.kind == "avance" and repository.advance_allowed(
        attempt.session, annee.cpo_id, annee.annee, code
    ):
        return []
    due = f" (attendu le {fr_date(previous.bilan_due)})" if previous.bilan_due else ""
    return [
        Reason(
            "cpo_bilan_precedent_non_valide",
            f"Ce dossier est l'année {annee.annee} de la CPO n° {annee.cpo_id} : ses versements attendent la "
            f"validation du bilan de l'année {annee.annee - 1} (dossier n° {previous.number}){due}. Une avance "
            "votée avant ce bilan peut être enregistrée par l'équipe du contrat de ville.",
            "bilan",
        )
    ]
