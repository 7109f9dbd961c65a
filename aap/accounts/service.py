"""Accounts: who may log in, and who the caller is."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aap.accounts.security import hash_password, verify_password
from aap.models import ROLES, Membership, User


def normalize_email(email: str) -> str:
    return email.strip().lower()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active account with this email and password, else None (same cost either way)."""
    user = session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        return None
    return user


def create_user(
    session: Session,
    *,
    email: str,
    password: str | None = None,
    password_hash: str | None = None,
    role: str,
    full_name: str = "",
    financeur_id: int | None = None,
    territory_id: int | None = None,
    organisation_ids: tuple[int, ...] = (),
) -> User:
    if role not in ROLES:
        raise ValueError(f"unknown role {role}")
    if password is None and password_hash is None:
        raise ValueError("a password or its hash is needed")
    user = User(
        email=normalize_email(email),
        password_hash=password_hash or hash_password(password or ""),
        role=role,
        full_name=full_name,
        financeur_id=financeur_id,
        territory_id=territory_id,
    )
    session.add(user)
    session.flush()
    for org_id in organisation_ids:
        session.add(Membership(user_id=user.id, organisation_id=org_id))
    session.flush()
    return user


def get_active_user(session: Session, user_id: int) -> User | None:
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


MIN_PASSWORD_LENGTH = 10


def register_porteur(
    session: Session, email: str, password: str, organisation: dict[str, str | None], full_name: str = ""
) -> User:
    """A new porteur account and its organisation, in one transaction; every problem at once, in French.

    `organisation` carries `name` and `siret` (required) and optionally `rna`, `address_line`,
    `postal_code`, `city`, `phone`.
    """
    from aap.errors import Invalid
    from aap.models import Organisation
    from forms.siret import siret_valid

    email = normalize_email(email)
    siret = "".join((organisation.get("siret") or "").split())
    name = (organisation.get("name") or "").strip()
    errors: list[dict[str, str]] = []

    def err(path: str, code: str, message: str) -> None:
        errors.append({"path": path, "code": code, "message": message})

    if not email or "@" not in email or "." not in email.rsplit("@", 1)[-1]:
        err(
            "email",
            "email_invalide",
            "Indiquez une adresse électronique valide (par exemple nom@association.fr).",
        )
    elif session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        err(
            "email",
            "email_deja_utilise",
            "Un compte existe déjà avec cette adresse électronique : connectez-vous ou choisissez une autre adresse.",
        )
    if len(password or "") < MIN_PASSWORD_LENGTH:
        err(
            "password",
            "mot_de_passe_faible",
            f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.",
        )
    if not name:
        err("name", "required", "Indiquez le nom de l'organisme.")
    if not siret:
        err("siret", "required", "Indiquez le numéro SIRET de l'organisme (14 chiffres).")
    elif not siret_valid(siret):
        err(
            "siret",
            "siret_invalide",
            "Ce numéro SIRET n'est pas valide : vérifiez les 14 chiffres (la clé de contrôle ne correspond pas).",
        )
    if errors:
        raise Invalid("Le compte n'a pas été créé.", code="inscription_invalide", errors=errors)
    fields = {
        k: (str(v).strip() or None) if v is not None else None
        for k, v in organisation.items()
        if k in ("rna", "address_line", "postal_code", "city", "phone")
    }
    org = Organisation(kind="association", name=name, siret=siret, email=email, **fields)
    session.add(org)
    session.flush()
    user = create_user(
        session,
        email=email,
        password=password,
        role="porteur",
        full_name=full_name.strip(),
        organisation_ids=(org.id,),
    )
    session.commit()
    return user
