"""Accounts: who may log in, and who the caller is."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aap.accounts.passwords import MIN_PASSWORD_LENGTH as MIN_PASSWORD_LENGTH  # the pages show it
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
    email_verified: bool = True,
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
    if not email_verified:  # the column's default marks accounts verified: this one waits for its link
        user.email_verified_at = None
    for org_id in organisation_ids:
        session.add(Membership(user_id=user.id, organisation_id=org_id))
    session.flush()
    return user


def require_verified(user: User) -> None:
    """Refuses to log in an account whose address is not verified (said only to whoever knows the
    password, so it tells nothing about which addresses have accounts)."""
    if user.email_verified_at is None:
        from aap.errors import Forbidden

        raise Forbidden(
            "Confirmez d'abord votre adresse électronique : ouvrez le lien que nous vous avons envoyé "
            "(pensez à regarder dans les indésirables). Pour en recevoir un nouveau, refaites l'inscription.",
            code="adresse_non_verifiee",
        )


def get_active_user(session: Session, user_id: int) -> User | None:
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def register_porteur(
    session: Session,
    email: str,
    password: str,
    organisation: dict[str, str | None],
    full_name: str = "",
    *,
    now: datetime,
    base_url: str,
) -> None:
    """Registration, answered the same whether the address has an account or not (see
    `aap.accounts.registration`); every problem of the form at once, in French."""
    from aap.accounts.registration import register

    register(session, email, password, organisation, full_name, now=now, base_url=base_url)
