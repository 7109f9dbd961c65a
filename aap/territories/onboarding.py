"""Onboarding a loaded territory: its first admin (`aap admin create`), who sets a password through a
one-time link, or gives it on standard input.

The link is signed (AAP_SECRET_KEY) and bound to the account's current password hash: once the
password is set, the hash changes and the link is dead; it also expires after `LINK_HOURS`."""

import hashlib
import secrets
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aap.accounts import links
from aap.accounts.security import hash_password
from aap.accounts.service import MIN_PASSWORD_LENGTH, create_user, normalize_email
from aap.errors import Invalid, NotFound
from aap.models import User
from aap.territories.service import get_by_code

LINK_HOURS = 72
SALT = "aap-set-password"


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:24]


def set_password_token(secret: str, user: User) -> str:
    return URLSafeTimedSerializer(secret, salt=SALT).dumps(
        {"uid": user.id, "fp": _fingerprint(user.password_hash)}
    )


def user_of_token(session: Session, secret: str, token: str) -> User:
    """The account a link is for, while the link is valid (not expired, password not set since)."""
    try:
        data = URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=LINK_HOURS * 3600)
    except SignatureExpired as exc:
        raise NotFound("Ce lien a expiré : demandez-en un nouveau.", code="lien_expire") from exc
    except BadSignature as exc:
        raise NotFound("Ce lien n'est pas valide.", code="lien_invalide") from exc
    user = session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or not user.active or _fingerprint(user.password_hash) != data.get("fp"):
        raise NotFound("Ce lien a déjà servi : connectez-vous avec votre mot de passe.", code="lien_utilise")
    return user


def password_problems(password: str, confirmation: str | None = None) -> list[dict[str, str]]:
    errors = []
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.append(
            {
                "path": "password",
                "code": "mot_de_passe_faible",
                "message": f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.",
            }
        )
    if confirmation is not None and confirmation != password:
        errors.append(
            {
                "path": "confirmation",
                "code": "confirmation_differente",
                "message": "Les deux mots de passe diffèrent.",
            }
        )
    return errors


def create_admin(
    session: Session, *, territory: str, email: str, name: str = "", password: str | None = None
) -> User:
    """The admin of a loaded territory; every problem at once. Without a password the account cannot
    log in until its owner sets one through the link (`set_password_token`). The caller commits."""
    email = normalize_email(email)
    errors: list[dict[str, str]] = []
    found = get_by_code(session, territory)
    if found is None:
        errors.append(
            {
                "path": "territory",
                "code": "territoire_inconnu",
                "message": f"Territoire « {territory} » inconnu : chargez-le d'abord (aap territory load).",
            }
        )
    if not email or "@" not in email or "." not in email.rsplit("@", 1)[-1]:
        errors.append(
            {"path": "email", "code": "email_invalide", "message": "Adresse électronique invalide."}
        )
    elif session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        errors.append(
            {
                "path": "email",
                "code": "email_deja_utilise",
                "message": "Un compte existe déjà avec cette adresse.",
            }
        )
    if password is not None:
        errors += password_problems(password)
    if errors:
        raise Invalid("Le compte n'a pas été créé.", code="compte_invalide", errors=errors)
    assert found is not None
    return create_user(
        session,
        email=email,
        password_hash=hash_password(password if password is not None else secrets.token_urlsafe(32)),
        role="admin",
        full_name=name.strip(),
        territory_id=found.id,
    )


def set_password(session: Session, secret: str, token: str, password: str, confirmation: str) -> User:
    user = user_of_token(session, secret, token)
    errors = password_problems(password, confirmation)
    if errors:
        raise Invalid("Le mot de passe n'a pas été enregistré.", code="mot_de_passe_invalide", errors=errors)
    user.password_hash = hash_password(password)
    session.commit()
    return user


# --- the password-setting page (`/mot-de-passe/…`) ------------------------------------------------------


def _signed(token: str) -> bool:
    """`aap admin create`'s links are signed (they hold dots); invitations' are random tokens."""
    return "." in token


def invited_account(session: Session, secret: str, token: str, now: datetime) -> User:
    """The account a link is for while it may be used; else a French refusal (NotFound or LinkRefused)."""
    if _signed(token):
        return user_of_token(session, secret, token)
    row = links.peek(session, links.STAFF_INVITATION, token, now)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise links.LinkRefused("Ce compte est désactivé.", code="compte_desactive")
    return user


def choose_password(
    session: Session, secret: str, token: str, password: str, confirmation: str, now: datetime
) -> User:
    """Sets the password through the link (checked before the link is spent); the address is verified.
    Commits."""
    if _signed(token):
        return set_password(session, secret, token, password, confirmation)
    user = invited_account(session, secret, token, now)
    errors = password_problems(password, confirmation)
    if errors:
        raise Invalid("Le mot de passe n'a pas été enregistré.", code="mot_de_passe_invalide", errors=errors)
    links.use(session, links.STAFF_INVITATION, token, now)
    user.password_hash = hash_password(password)
    if user.email_verified_at is None:
        user.email_verified_at = now
    session.commit()
    return user


DeadLink = (NotFound, links.LinkRefused)
