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
