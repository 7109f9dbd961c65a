"""Messages that follow an event (dépôt, compléments, décision, convention), queued in the outbox
in the same transaction as the transition that causes them."""

from datetime import datetime

from sqlalchemy.orm import Session

from aap.models import Dossier, DossierEvent


def after_transition(session: Session, dossier: Dossier, event: DossierEvent, now: datetime) -> None:
    """Queue the messages `event` calls for. Filled in by the reminders issue (outbox, rules)."""
    return None
