"""Changing one's address: confirmed by the current password, then by a link sent to the new address
(nothing else goes there before); the old address is told once the change is done.

An address that already has an account gets the same answer and no link, so the form tells nothing
about which addresses have accounts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from aap.accounts import links, mail
from aap.accounts.registration import email_problem, user_by_email
from aap.accounts.security import verify_password
from aap.accounts.service import normalize_email
from aap.errors import Conflict, Invalid
from aap.models import User

CHANGE_ANSWER = (
    "Un lien vient d'être envoyé à la nouvelle adresse (s'il n'y a pas déjà un compte avec elle) : "
    "ouvrez-le pour confirmer le changement. Il fonctionne une fois, pendant 48 heures."
)


def request_change(
    session: Session, user: User, new_email: str, current_password: str, *, now: datetime, base_url: str
) -> str:
    errors = []
    new_email = normalize_email(new_email)
    problem = email_problem(new_email)
    if problem:
        errors.append({"path": "email", "code": "email_invalide", "message": problem})
    elif new_email == user.email:
        errors.append({"path": "email", "code": "meme_adresse", "message": "C'est déjà votre adresse."})
    if not verify_password(user.password_hash, current_password or ""):
        errors.append(
            {
                "path": "email_password",
                "code": "mot_de_passe_actuel_incorrect",
                "message": "Le mot de passe actuel n'est pas le bon.",
            }
        )
    if errors:
        raise Invalid("L'adresse n'a pas été changée.", code="changement_adresse_invalide", errors=errors)
    if user_by_email(session, new_email) is None and not links.too_many(
        session, links.CHANGE_EMAIL, user.id, now
    ):
        raw, row = links.issue(session, links.CHANGE_EMAIL, user.id, now, data={"email": new_email})
        mail.send(
            session,
            rule="compte_changement_adresse",
            key=str(row.id),
            to=user,
            address=new_email,
            subject="Confirmez votre nouvelle adresse électronique",
            paragraphs=[
                f"Vous avez demandé à utiliser cette adresse pour votre compte (aujourd'hui {user.email}).",
                "Ouvrez le lien ci-dessous pour confirmer : il fonctionne une seule fois, pendant 48 heures. "
                "Si vous n'avez rien demandé, ignorez ce message.",
            ],
            link=links.link_url(base_url, "/changement-adresse", raw),
            button="Confirmer la nouvelle adresse",
            base_url=base_url,
            now=now,
        )
    session.commit()
    return CHANGE_ANSWER


def confirm_change(session: Session, raw: str, *, now: datetime, base_url: str) -> User:
    """Follows the link: the account takes the new address (verified by this very link). Commits."""
    row = links.use(session, links.CHANGE_EMAIL, raw, now)
    user = session.get(User, row.user_id)
    new_email = str((row.data or {}).get("email") or "")
    if user is None or not user.active or not new_email:
        raise links.LinkRefused("Ce lien n'est plus valable.", code="lien_invalide")
    if user_by_email(session, new_email) is not None:
        raise Conflict(
            "Un compte utilise déjà cette adresse : le changement est annulé.", code="adresse_prise"
        )
    old = user.email
    user.email, user.email_verified_at = new_email, now
    mail.send(
        session,
        rule="compte_adresse_changee",
        key=str(row.id),
        to=user,
        address=old,
        subject="L'adresse de votre compte a changé",
        paragraphs=[
            f"L'adresse de votre compte est désormais {new_email} : les messages de la plateforme y seront "
            "envoyés.",
            "Si vous n'êtes pas à l'origine de ce changement, prévenez sans attendre l'équipe du contrat de ville.",
        ],
        base_url=base_url,
        now=now,
    )
    session.commit()
    return user
