"""Passwords: forgotten (a single-use, expiring link by e-mail, the same answer whatever the address),
changed from the account page; both cut every session and token of the account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from aap.accounts import links, mail
from aap.accounts.passwords import password_problem
from aap.accounts.registration import user_by_email
from aap.accounts.security import hash_password, verify_password
from aap.accounts.sessions import cut_sessions
from aap.errors import Invalid
from aap.models import User

RESET_ANSWER = (
    "Si un compte actif existe avec cette adresse, un message vient de lui être envoyé avec un lien "
    "pour choisir un nouveau mot de passe. Ce lien fonctionne une fois, pendant une heure."
)
"""The one answer to a reset request, whether the address has an account or not."""


def request_reset(session: Session, email: str, *, now: datetime, base_url: str) -> str:
    """Sends a reset link to an active, verified account with this address; else nothing. Commits."""
    user = user_by_email(session, email)
    if (
        user is not None
        and user.active
        and user.email_verified_at is not None
        and not links.too_many(session, links.RESET_PASSWORD, user.id, now)
    ):
        raw, row = links.issue(session, links.RESET_PASSWORD, user.id, now)
        mail.send(
            session,
            rule="compte_reinitialisation",
            key=str(row.id),
            to=user,
            subject="Choisir un nouveau mot de passe",
            paragraphs=[
                "Vous avez demandé à choisir un nouveau mot de passe pour votre compte.",
                "Ouvrez le lien ci-dessous : il fonctionne une seule fois, pendant une heure. Une fois le "
                "nouveau mot de passe choisi, toutes vos sessions ouvertes sont fermées.",
                "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change pas.",
            ],
            link=links.link_url(base_url, "/reinitialiser", raw),
            button="Choisir un nouveau mot de passe",
            base_url=base_url,
            now=now,
        )
    session.commit()
    return RESET_ANSWER


def check_reset_link(session: Session, raw: str, now: datetime) -> User:
    row = links.peek(session, links.RESET_PASSWORD, raw, now)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise links.LinkRefused("Ce compte est désactivé.", code="compte_desactive")
    return user


def _weak(password: str, user: User, path: str) -> None:
    problem = password_problem(password or "", [user.email, user.full_name])
    if problem:
        raise Invalid(
            "Le mot de passe n'a pas été changé.",
            code="mot_de_passe_faible",
            errors=[{"path": path, "code": "mot_de_passe_faible", "message": problem}],
        )


def reset_password(session: Session, raw: str, password: str, *, now: datetime) -> User:
    """Sets the new password (checked before the link is spent) and cuts every session. Commits."""
    user = check_reset_link(session, raw, now)
    _weak(password, user, "password")
    links.use(session, links.RESET_PASSWORD, raw, now)
    user.password_hash = hash_password(password)
    cut_sessions(session, user)
    session.commit()
    return user


def change_password(session: Session, user: User, current: str, new: str) -> User:
    """From the account page: the current password, then the new one; cuts every session (the caller
    gives the person a new one). Commits."""
    if not verify_password(user.password_hash, current or ""):
        raise Invalid(
            "Le mot de passe n'a pas été changé.",
            code="mot_de_passe_actuel_incorrect",
            errors=[
                {
                    "path": "current_password",
                    "code": "mot_de_passe_actuel_incorrect",
                    "message": "Le mot de passe actuel n'est pas le bon.",
                }
            ],
        )
    _weak(new, user, "new_password")
    user.password_hash = hash_password(new)
    cut_sessions(session, user)
    session.commit()
    return user


def log_out_everywhere(session: Session, user: User) -> None:
    """Logout: every session cookie and bearer token of the account stops working. Commits."""
    cut_sessions(session, user)
    session.commit()


def rename(session: Session, user: User, full_name: str) -> User:
    full_name = full_name.strip()
    if not full_name or len(full_name) > 200 or "\x00" in full_name:
        raise Invalid(
            "Le nom n'a pas été changé.",
            code="nom_invalide",
            errors=[
                {
                    "path": "full_name",
                    "code": "nom_invalide",
                    "message": "Indiquez vos nom et prénom (200 caractères au plus).",
                }
            ],
        )
    user.full_name = full_name
    session.commit()
    return user
