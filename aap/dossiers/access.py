"""Who sees which dossier: one query, used by every read and write, so a hidden dossier is a 404."""

from sqlalchemy import Select, and_, exists, or_, select

from aap.models import Campaign, Cofinancement, Dossier, DossierTarget, Financeur, Membership, Qpv, User

HIDDEN_FROM_FINANCEURS = ("brouillon", "non_depose")


def visible_dossiers(user: User) -> Select[tuple[Dossier]]:
    """A porteur: its organisations' dossiers; a financeur: the deposited dossiers that solicit it and,
    for a commune's financer, every deposited dossier of a QPV (or place) of that commune, even one
    that asks it nothing (read only: a financer only writes on its own line); an instructeur or admin:
    the dossiers of its territory's campaigns."""
    query = select(Dossier)
    if user.role == "porteur":
        mine = select(Membership.organisation_id).where(Membership.user_id == user.id)
        return query.where(Dossier.organisation_id.in_(mine))
    if user.role == "financeur":
        solicits = exists().where(
            Cofinancement.dossier_id == Dossier.id, Cofinancement.financeur_id == user.financeur_id
        )
        my_places = (
            select(Qpv.code)
            .join(
                Financeur,
                and_(
                    Financeur.territory_id == Qpv.territory_id, Financeur.commune_insee == Qpv.commune_insee
                ),
            )
            .where(Financeur.id == user.financeur_id)
        )
        in_my_commune = exists().where(
            DossierTarget.dossier_id == Dossier.id,
            DossierTarget.kind == "qpv",
            DossierTarget.code.in_(my_places),
        )
        my_territory = (
            select(Campaign.id)
            .join(Financeur, Financeur.territory_id == Campaign.territory_id)
            .where(Financeur.id == user.financeur_id)
        )
        return query.where(
            or_(solicits, and_(Dossier.campaign_id.in_(my_territory), in_my_commune)),
            Dossier.state.not_in(HIDDEN_FROM_FINANCEURS),
        )
    if user.role in ("admin", "instructeur"):
        in_territory = select(Campaign.id).where(Campaign.territory_id == user.territory_id)
        return query.where(Dossier.campaign_id.in_(in_territory))
    return query.where(False)
