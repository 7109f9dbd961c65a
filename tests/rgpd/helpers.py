"""What the RGPD tests share: the demo's Horizon association, its conventioned dossier the État reads."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.models import Attachment, Cofinancement, Dossier, Financeur, Organisation

PORTEUR = "porteur@demo.aap.test"
ADMIN = "admin@demo.aap.test"
ETAT = "etat@demo.aap.test"


def horizon(session: Session) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.name == "Association Horizon Manosque"))
    assert org is not None
    return org


def dossier_read_by_etat(session: Session) -> Dossier:
    """Horizon's conventioned dossier of last year, which asks the État for money."""
    etat = session.scalar(select(Financeur.id).where(Financeur.code == "ETAT"))
    found = session.scalar(
        select(Dossier)
        .join(Cofinancement, Cofinancement.dossier_id == Dossier.id)
        .where(
            Dossier.organisation_id == horizon(session).id,
            Dossier.state == "conventionne",
            Cofinancement.financeur_id == etat,
        )
        .order_by(Dossier.id)
        .limit(1)
    )
    assert found is not None
    return found


def linked_piece(session: Session, dossier: Dossier, kind: str) -> Attachment:
    pieces: dict[str, Any] = dossier.answers["pieces"]
    attachment = session.get(Attachment, pieces[kind])
    assert attachment is not None
    return attachment
