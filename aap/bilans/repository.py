"""Reads of bilans that other domains need (the CPO's payment of year N waits for bilan N-1)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.models import Bilan
from workflows.labels import BILAN_STATE_LABELS

STATES = ("a_faire", "brouillon", "depose", "a_corriger", "valide")
STATE_LABELS = BILAN_STATE_LABELS
# the bilans the annual report counts as filed (their figures are the porteur's final word)
FILED = ("depose", "valide")


def bilan_of(session: Session, dossier_id: int, *, lock: bool = False) -> Bilan | None:
    query = select(Bilan).where(Bilan.dossier_id == dossier_id)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def bilan_validated(session: Session, dossier_id: int) -> bool:
    """Whether this dossier's bilan is validated (`valider_bilan` also closes the dossier: `cloture`)."""
    state = session.scalar(select(Bilan.state).where(Bilan.dossier_id == dossier_id))
    return state == "valide"
