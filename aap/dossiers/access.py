"""Who sees which dossier (one query, used by every read and write, so a hidden dossier is a 404) and
who may change its answers and files today."""

from datetime import datetime

from sqlalchemy import BindParameter, Integer, Select, and_, bindparam, exists, false, or_, select

from aap.clock import territory_today
from aap.errors import Conflict, Forbidden
from aap.models import (
    AvisPartenaire,
    Campaign,
    Cofinancement,
    Dossier,
    DossierTarget,
    Financeur,
    Membership,
    Qpv,
    User,
)
from workflows import depot
from workflows.dossier import EDITABLE_STATES, STATE_LABELS

HIDDEN_FROM_FINANCEURS = ("brouillon", "non_depose")
# the instruction's proposed amounts are internal until the financers have decided (programme validated)
PROPOSALS_SHOWN_TO_PORTEURS = ("programme", "rejete", "conventionne", "bilan_depose", "cloture")


def sees_proposals(user: User, dossier: Dossier) -> bool:
    return user.role != "porteur" or dossier.state in PROPOSALS_SHOWN_TO_PORTEURS


def sees_payments_of(user: User, financeur_id: int) -> bool:
    """Who reads the payments (dates, amounts) of a financer's lines on a dossier it sees: the porteur,
    the instruction and the admin; a financer's agents only their own financer's (what another
    financer pays is its own accounting; its decisions stay shared, as in the programme table)."""
    if user.role == "financeur":
        return user.financeur_id is not None and user.financeur_id == financeur_id
    return user.role in ("porteur", "instructeur", "admin")


def sees_payments(user: User, line: Cofinancement) -> bool:
    return sees_payments_of(user, line.financeur_id)


def own_lines(user: User) -> Select[Dossier, Cofinancement]:
    """A financer's own lines with their dossiers: the dossiers `visible_dossiers` shows it because
    they solicit it, read from its lines (no test of the other ways in, which these rows pass anyway)."""
    query = select(Dossier, Cofinancement).join(Cofinancement, Cofinancement.dossier_id == Dossier.id)
    if user.role != "financeur" or user.financeur_id is None:
        return query.where(false())
    return query.where(
        Cofinancement.financeur_id == user.financeur_id, Dossier.state.not_in(HIDDEN_FROM_FINANCEURS)
    )


def visible_dossiers(user: User) -> Select[Dossier]:
    """A porteur: its organisations' dossiers; a financeur: the deposited dossiers that solicit it and,
    for a commune's financer, every deposited dossier of a QPV (or place) of that commune, even one
    that asks it nothing (read only: a financer only writes on its own line); a partner: the dossiers
    it was asked an avis on; an instructeur or admin: the dossiers of its territory's campaigns."""
    return _visible(user.role, user.id, user.territory_id, user.financeur_id)


# --- the same query built once per kind of viewer, its values bound at each execution --------------

ViewerShape = tuple[str, bool, bool, bool]
"""What the visibility query's form depends on: the role, and which of the account's id, territory
and financer are unset (an unset one is written as such, not bound)."""


def viewer_shape(user: User) -> ViewerShape:
    return (user.role, user.id is None, user.territory_id is None, user.financeur_id is None)


def viewer_params(user: User) -> dict[str, int]:
    """The values `visible_dossiers_of_shape` binds, for this account."""
    values = {
        "viewer_id": user.id,
        "viewer_territory": user.territory_id,
        "viewer_financeur": user.financeur_id,
    }
    return {name: value for name, value in values.items() if value is not None}


def visible_dossiers_of_shape(shape: ViewerShape) -> Select[Dossier]:
    """`visible_dossiers` with the account's values as bind parameters (`viewer_params`): a statement
    built once serves every account of this shape, its cache key computed once."""
    role, no_id, no_territory, no_financeur = shape
    return _visible(
        role,
        None if no_id else bindparam("viewer_id", type_=Integer),
        None if no_territory else bindparam("viewer_territory", type_=Integer),
        None if no_financeur else bindparam("viewer_financeur", type_=Integer),
    )


Value = int | BindParameter[int] | None


def _visible(role: str, user_id: Value, territory_id: Value, financeur_id: Value) -> Select[Dossier]:
    query = select(Dossier)
    if role == "porteur":
        mine = select(Membership.organisation_id).where(Membership.user_id == user_id)
        query = query.where(Dossier.organisation_id.in_(mine))
        if territory_id is not None:  # an association acting in one of its contracts
            query = query.where(
                Dossier.campaign_id.in_(select(Campaign.id).where(Campaign.territory_id == territory_id))
            )
        return query
    if role == "financeur":
        # correlated to the dossier only: a query that also reads lines keeps its own
        solicits = (
            exists()
            .where(Cofinancement.dossier_id == Dossier.id, Cofinancement.financeur_id == financeur_id)
            .correlate_except(Cofinancement)
        )
        my_places = (
            select(Qpv.code)
            .join(
                Financeur,
                and_(
                    Financeur.territory_id == Qpv.territory_id, Financeur.commune_insee == Qpv.commune_insee
                ),
            )
            .where(Financeur.id == financeur_id)
        )
        in_my_commune = exists().where(
            DossierTarget.dossier_id == Dossier.id,
            DossierTarget.kind == "qpv",
            DossierTarget.code.in_(my_places),
        )
        my_territory = (
            select(Campaign.id)
            .join(Financeur, Financeur.territory_id == Campaign.territory_id)
            .where(Financeur.id == financeur_id)
        )
        return query.where(
            or_(solicits, and_(Dossier.campaign_id.in_(my_territory), in_my_commune)),
            Dossier.state.not_in(HIDDEN_FROM_FINANCEURS),
        )
    if role == "partenaire":  # a partner or service reads the dossiers it was asked an avis on
        asked = exists().where(AvisPartenaire.dossier_id == Dossier.id, AvisPartenaire.partner_id == user_id)
        return query.where(asked)
    if role in ("admin", "instructeur"):
        in_territory = select(Campaign.id).where(Campaign.territory_id == territory_id)
        return query.where(Dossier.campaign_id.in_(in_territory))
    return query.where(false())  # nobody else sees any dossier


def check_editable(user: User, dossier: Dossier, now: datetime) -> None:
    """Refuses (403/409) when this caller may not change this dossier's answers or files at `now`.

    A brouillon is edited until the deadline (or its extension), midnight in its territory; a deposited
    dossier until instruction starts, while the window is open or, when the call allows it, after;
    compléments always."""
    if user.role != "porteur":
        raise Forbidden("Seul le porteur de projet modifie les réponses du dossier.", code="role_interdit")
    campaign = dossier.campaign
    today = territory_today(campaign, now)
    window_open = not depot.depot_closed(today, campaign.depot_cloture, dossier.extension_until)
    if dossier.state == "brouillon" and not window_open:
        raise Conflict("Le dépôt est clos : le brouillon ne peut plus être modifié.", code="depot_clos")
    if dossier.state == "depose" and not (window_open or campaign.late_completion):
        raise Conflict("Le dépôt est clos : le dossier déposé ne se modifie plus.", code="depot_clos")
    if dossier.state not in EDITABLE_STATES:
        raise Conflict(
            f"Un dossier à l'état « {STATE_LABELS[dossier.state]} » ne se modifie plus.",
            code="dossier_non_modifiable",
        )


# --- the dialogue around a dossier -----------------------------------------------------------------

MESSAGE_STAFF = ("admin", "instructeur", "financeur")


def readable_message_audiences(user: User) -> tuple[str, ...]:
    """Who reads which messages of a dossier's dialogue (`aap/messages`), decided once: everyone who sees
    the dossier reads the exchange (`echange`); only staff read the notes (`interne`). The files sent with
    a message follow it (`aap/attachments/repository.py`)."""
    return ("echange", "interne") if user.role in MESSAGE_STAFF else ("echange",)
