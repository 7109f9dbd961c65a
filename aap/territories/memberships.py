"""One person, several contracts: a staff account's memberships, and the territory a request acts in.

An account's home is its own `territory_id` (admin, instructeur) or its financer's territory; a
`TerritoryMembership` adds another contract with a role there (and a financer for an agent). A request
names the territory it acts in (`X-Aap-Territoire: CODE`); the caller is then that membership's
person — role, territory, financer — for the whole request, and every rule of who sees what
(`aap/dossiers/access.py`, campaigns) applies unchanged: nothing of the other territory shows."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.accounts.contacts import territory_ids_of
from aap.accounts.service import normalize_email
from aap.errors import Forbidden, Invalid
from aap.models import Financeur, Territory, TerritoryMembership, User

STAFF_ROLES = ("admin", "instructeur", "financeur")


def home_territory(session: Session, user: User) -> Territory | None:
    if user.role == "financeur" and user.financeur_id is not None:
        financeur = session.get(Financeur, user.financeur_id)
        return session.get(Territory, financeur.territory_id) if financeur else None
    return session.get(Territory, user.territory_id) if user.territory_id is not None else None


def territories_of(session: Session, user: User) -> list[dict[str, Any]]:
    """The contracts this account works in: its home first, then its memberships (code, name, role,
    financer's code)."""
    out = []
    home = home_territory(session, user)
    if home is not None:
        financeur = session.get(Financeur, user.financeur_id) if user.financeur_id else None
        out.append(
            {
                "code": home.code,
                "name": home.name,
                "role": user.role,
                "financeur": financeur.code if financeur else None,
            }
        )
    rows = session.execute(
        select(Territory.code, Territory.name, TerritoryMembership.role, Financeur.code)
        .join(TerritoryMembership, TerritoryMembership.territory_id == Territory.id)
        .outerjoin(Financeur, Financeur.id == TerritoryMembership.financeur_id)
        .where(TerritoryMembership.user_id == user.id)
        .order_by(Territory.code)
    ).all()
    here = {t["code"] for t in out}
    out += [
        {"code": c, "name": name, "role": role, "financeur": f} for c, name, role, f in rows if c not in here
    ]
    return out


def porteur_territories(session: Session, user: User) -> list[dict[str, Any]]:
    """The contracts a porteur works in (its organisations', and those of the calls it filed in)."""
    rows = session.execute(
        select(Territory.code, Territory.name)
        .where(Territory.id.in_(territory_ids_of(session, user)))
        .order_by(Territory.name)
    ).all()
    return [{"code": code, "name": name, "role": "porteur", "financeur": None} for code, name in rows]


def choices_for(session: Session, user: User, chosen: str | None) -> list[dict[str, Any]]:
    """What the pages' territory selector offers an account of several contracts (empty for the
    others), the one it acts in marked `current`: a staff account's home when it chose none; for a
    porteur, « every contract » (code "") until it chooses one."""
    if user.role == "porteur":
        found = porteur_territories(session, user)
        if len(found) < 2:
            return []
        every = {"code": "", "name": "Tous mes contrats de ville", "role": "porteur", "financeur": None}
        return [{**t, "current": t["code"] == (chosen or "")} for t in [every, *found]]
    if user.role not in STAFF_ROLES:
        return []
    found = territories_of(session, user)
    if len(found) < 2:
        return []
    current = chosen if chosen in {t["code"] for t in found} else found[0]["code"]
    return [{**t, "current": t["code"] == current} for t in found]


def act_within(session: Session, user: User, territory_code: str) -> User:
    """The caller as it acts in `territory_code`: itself at home, its membership elsewhere.

    The account is detached from the session first, so what the request changes on it (role,
    territory, financer of this membership) is never written back."""
    if user.role == "porteur":
        return _porteur_within(session, user, territory_code)
    home = home_territory(session, user)
    if home is not None and home.code == territory_code:
        return user
    membership = session.scalar(
        select(TerritoryMembership)
        .join(Territory, Territory.id == TerritoryMembership.territory_id)
        .where(TerritoryMembership.user_id == user.id, Territory.code == territory_code)
    )
    if membership is None:
        raise Forbidden(
            f"Votre compte ne travaille pas dans le territoire « {territory_code} ».",
            code="territoire_non_membre",
        )
    territory = session.get(Territory, membership.territory_id)
    financeur = session.get(Financeur, membership.financeur_id) if membership.financeur_id else None
    _ = list(user.organisations)
    session.expunge(user)
    user.role = membership.role
    user.territory_id = membership.territory_id if membership.role != "financeur" else None
    user.financeur_id = financeur.id if financeur else None
    user.territory = territory if membership.role != "financeur" else None
    user.financeur = financeur
    return user


def _porteur_within(session: Session, user: User, territory_code: str) -> User:
    """An association in several contracts, acting in one: its dossiers, calls and CPO of that one only
    (`User.territory_id`, unused for porteurs, is set on the detached account for the request)."""
    territory = session.scalar(select(Territory).where(Territory.code == territory_code))
    if territory is None or territory.id not in territory_ids_of(session, user):
        raise Forbidden(
            f"Vos organisations ne travaillent pas dans le territoire « {territory_code} ».",
            code="territoire_non_membre",
        )
    _ = (list(user.organisations), user.financeur)  # loaded before the account is detached
    session.expunge(user)
    user.territory_id = territory.id
    user.territory = territory
    return user


def add_membership(
    session: Session, *, email: str, territory: str, role: str, financeur: str | None = None
) -> TerritoryMembership:
    """Another contract for an existing staff account; every problem at once. The caller commits."""
    errors: list[dict[str, str]] = []
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    found = session.scalar(select(Territory).where(Territory.code == territory))
    if user is None:
        errors.append(
            {"path": "email", "code": "compte_inconnu", "message": "Aucun compte avec cette adresse."}
        )
    elif user.role == "porteur":
        errors.append(
            {
                "path": "email",
                "code": "compte_porteur",
                "message": "Un porteur agit déjà dans tous les territoires où son organisation dépose.",
            }
        )
    if found is None:
        errors.append(
            {
                "path": "territory",
                "code": "territoire_inconnu",
                "message": f"Territoire « {territory} » inconnu.",
            }
        )
    if role not in STAFF_ROLES:
        errors.append(
            {"path": "role", "code": "role_invalide", "message": "Rôle : admin, instructeur ou financeur."}
        )
    agent_of: Financeur | None = None
    if role == "financeur" and found is not None:
        agent_of = session.scalar(
            select(Financeur).where(Financeur.territory_id == found.id, Financeur.code == (financeur or ""))
        )
        if agent_of is None:
            errors.append(
                {
                    "path": "financeur",
                    "code": "financeur_requis",
                    "message": "Indiquez un financeur de ce territoire.",
                }
            )
    if user is not None and found is not None and not errors:
        home = home_territory(session, user)
        taken = session.get(TerritoryMembership, (user.id, found.id))
        if (home is not None and home.id == found.id) or taken is not None:
            errors.append(
                {
                    "path": "territory",
                    "code": "deja_membre",
                    "message": "Ce compte travaille déjà dans ce territoire.",
                }
            )
    if errors:
        raise Invalid("Le rattachement n'a pas été fait.", code="rattachement_invalide", errors=errors)
    assert user is not None and found is not None
    membership = TerritoryMembership(
        user_id=user.id, territory_id=found.id, role=role, financeur_id=agent_of.id if agent_of else None
    )
    session.add(membership)
    session.flush()
    return membership
