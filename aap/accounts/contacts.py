"""Who to talk to: the contract team's people (équipe du contrat de ville, instructeurs) of the territories
a person works with, for the account page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.models import Campaign, Dossier, Financeur, Membership, Organisation, User


def territory_ids_of(session: Session, user: User) -> set[int]:
    """The territories an account works in: staff its own; a porteur those of its organisations and
    those of the calls its organisations filed in (an association in two contracts)."""
    return _territories_of(session, user)


def _territories_of(session: Session, user: User) -> set[int]:
    if user.role in ("admin", "instructeur", "partenaire"):
        return {user.territory_id} if user.territory_id else set()
    if user.role == "financeur":
        tid = session.scalar(select(Financeur.territory_id).where(Financeur.id == user.financeur_id))
        return {tid} if tid else set()
    orgs = select(Membership.organisation_id).where(Membership.user_id == user.id)
    own = session.scalars(select(Organisation.territory_id).where(Organisation.id.in_(orgs)))
    filed = session.scalars(
        select(Campaign.territory_id)
        .join(Dossier, Dossier.campaign_id == Campaign.id)
        .where(Dossier.organisation_id.in_(orgs))
        .distinct()
    )
    return {t for t in [*own, *filed] if t is not None}


def team_contacts(session: Session, user: User) -> list[dict[str, Any]]:
    """The active admins and instructeurs of those territories (name, e-mail, role), the person aside."""
    territories = _territories_of(session, user)
    if not territories:
        return []
    people = session.scalars(
        select(User)
        .where(
            User.territory_id.in_(territories),
            User.role.in_(("admin", "instructeur")),
            User.active.is_(True),
            User.id != user.id,
        )
        .order_by(User.role, User.full_name, User.email)
    )
    return [{"name": p.full_name or p.email, "email": p.email, "role": p.role} for p in people]
