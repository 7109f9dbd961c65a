"""Who sees which dossier: one query, used by every read and write, so a hidden dossier is a 404."""

from sqlalchemy import Select, exists, select

from aap.models import AvisPartenaire, Campaign, Cofinancement, Dossier, Membership, User

HIDDEN_FROM_FINANCEURS = ("brouillon", "non_depose")


def visible_dossiers(user: User) -> Select[tuple[Dossier]]:
    """A porteur: its organisations' dossiers; a financeur: the deposited dossiers that solicit it;
    a partner: the dossiers it was asked an avis on; an instructeur or admin: the dossiers of its
    territory's campaigns."""
    query = select(Dossier)
    if user.role == "porteur":
        mine = select(Membership.organisation_id).where(Membership.user_id == user.id)
        return query.where(Dossier.organisation_id.in_(mine))
    if user.role == "financeur":
        solicits = exists().where(
            Cofinancement.dossier_id == Dossier.id, Cofinancement.financeur_id == user.financeur_id
        )
        return query.where(solicits, Dossier.state.not_in(HIDDEN_FROM_FINANCEURS))
    if user.role == "partenaire":  # a partner or service reads the dossiers it was asked an avis on
        asked = exists().where(AvisPartenaire.dossier_id == Dossier.id, AvisPartenaire.partner_id == user.id)
        return query.where(asked)
    if user.role in ("admin", "instructeur"):
        in_territory = select(Campaign.id).where(Campaign.territory_id == user.territory_id)
        return query.where(Dossier.campaign_id.in_(in_territory))
    return query.where(False)
