"""Accounts the contract's team opens for its partners: instructeurs and financers' agents."""

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from aap.accounts.service import create_user, normalize_email
from aap.accounts.sessions import cut_sessions
from aap.errors import Forbidden, Invalid, NotFound
from aap.models import Campaign, Dossier, Financeur, Membership, Organisation, User

STAFF_ROLES = ("instructeur", "financeur", "partenaire")  # partenaire: a service asked for avis
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class StaffInvite:
    """A person the team opens an account for (a form, the API, a line of a CSV)."""

    email: str
    full_name: str
    role: str
    financeur_code: str | None = None


def staff_problems(
    session: Session,
    territory_id: int | None,
    person: StaffInvite,
    *,
    roles: tuple[str, ...],
    taken: Collection[str] = (),
) -> tuple[list[dict[str, str]], Financeur | None]:
    """Every problem of a staff account to open (paths: email, full_name, role, financeur), and its
    financer; `taken`: addresses already claimed by earlier lines of the same import."""
    errors: list[dict[str, str]] = []

    def err(path: str, code: str, message: str) -> None:
        errors.append({"path": path, "code": code, "message": message})

    email = normalize_email(person.email)
    if not email or "@" not in email or "." not in email.rsplit("@", 1)[-1]:
        err("email", "email_invalide", "Indiquez une adresse électronique valide (par exemple nom@ville.fr).")
    elif email in taken or session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        err("email", "email_deja_utilise", "Un compte existe déjà avec cette adresse électronique.")
    if not person.full_name.strip():
        err("full_name", "required", "Indiquez le nom et le prénom de la personne (ou le nom du service).")
    elif len(person.full_name.strip()) > 200 or "\x00" in person.full_name:
        err("full_name", "nom_invalide", "200 caractères au plus, sans caractère nul.")
    financeur: Financeur | None = None
    code = (person.financeur_code or "").strip()
    if person.role not in roles:
        err("role", "role_invalide", f"Rôle « {person.role} » inconnu : choisissez {', '.join(roles)}.")
    elif person.role == "financeur":
        if not code:
            err("financeur", "financeur_requis", "Choisissez le financeur dont la personne est l'agent.")
        else:
            financeur = session.scalar(
                select(Financeur).where(Financeur.territory_id == territory_id, Financeur.code == code)
            )
            if financeur is None:
                err("financeur", "financeur_inconnu", f"Financeur « {code} » inconnu dans ce territoire.")
    elif code:
        err("financeur", "financeur_inattendu", "Seul un agent de financeur est rattaché à un financeur.")
    return errors, financeur


def create_staff_account(
    session: Session,
    by: User,
    *,
    email: str,
    full_name: str,
    role: str,
    financeur_code: str | None,
    password: str,
) -> User:
    """An instructeur of the admin's territory, or an agent of one of its financers; every problem at once."""
    if by.role != "admin":
        raise Forbidden("Seule l'équipe du contrat de ville ouvre des comptes.", code="role_interdit")
    errors, financeur = staff_problems(
        session, by.territory_id, StaffInvite(email, full_name, role, financeur_code), roles=STAFF_ROLES
    )
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.append(
            {
                "path": "password",
                "code": "mot_de_passe_faible",
                "message": f"Le mot de passe provisoire doit compter au moins {MIN_PASSWORD_LENGTH} caractères.",
            }
        )
    if errors:
        raise Invalid("Le compte n'a pas été créé.", code="compte_invalide", errors=errors)
    user = create_user(
        session,
        email=normalize_email(email),
        password=password,
        role=role,
        full_name=full_name.strip(),
        financeur_id=financeur.id if financeur else None,
        territory_id=by.territory_id if role in ("instructeur", "partenaire") else None,
    )
    session.commit()
    return user


def accounts_of_territory(territory_id: int | None) -> Select[int]:
    """The ids of the accounts the territory's team answers for: its staff, its financers' agents, the
    porteurs of its organisations and of those that filed in its campaigns (one statement, for the admin page's list and for the checks)."""
    of_financeur = select(Financeur.id).where(Financeur.territory_id == territory_id)
    filed_here = (
        select(Dossier.organisation_id)
        .join(Campaign, Campaign.id == Dossier.campaign_id)
        .where(Campaign.territory_id == territory_id)
    )
    of_orgs = (
        select(Membership.user_id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where((Organisation.territory_id == territory_id) | Organisation.id.in_(filed_here))
    )
    return select(User.id).where(
        (User.territory_id == territory_id) | User.financeur_id.in_(of_financeur) | User.id.in_(of_orgs)
    )


def set_active(session: Session, by: User, user_id: int, active: bool) -> User:
    """An admin deactivates (every session and token of the account stops at once) or reactivates an
    account of its territory; never its own. Commits."""
    if by.role != "admin":
        raise Forbidden("Seule l'équipe du contrat de ville désactive des comptes.", code="role_interdit")
    target = session.get(User, user_id)
    if (
        target is None
        or session.scalar(accounts_of_territory(by.territory_id).where(User.id == user_id)) is None
    ):
        raise NotFound("Compte introuvable.", code="compte_introuvable")
    if target.id == by.id:
        raise Invalid(
            "Vous ne pouvez pas désactiver votre propre compte.",
            code="auto_desactivation",
            errors=[{"path": "active", "code": "auto_desactivation", "message": "c'est votre compte"}],
        )
    target.active = active
    if not active:
        cut_sessions(session, target)
    session.commit()
    return target
