"""Links sent by e-mail: a random token in the link, only its SHA-256 stored, valid once until it expires.

A new link of the same purpose for the same person replaces the previous ones (they stop working).
Using one is an `UPDATE … WHERE used_at IS NULL`: two clicks at once, only one gets through.
"""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from aap.errors import AppError
from aap.models import AccountToken

VERIFY_EMAIL = "verification"
RESET_PASSWORD = "reinitialisation"
INVITATION = "invitation"
CHANGE_EMAIL = "changement_adresse"
STAFF_INVITATION = "invitation_equipe"

LIFETIMES = {
    VERIFY_EMAIL: timedelta(days=2),
    RESET_PASSWORD: timedelta(hours=1),
    INVITATION: timedelta(days=7),
    CHANGE_EMAIL: timedelta(days=2),
    STAFF_INVITATION: timedelta(days=7),
}


class LinkRefused(AppError):
    status_code = 410
    code = "lien_invalide"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(
    session: Session,
    purpose: str,
    user_id: int,
    now: datetime,
    *,
    organisation_id: int | None = None,
    invited_by_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[str, AccountToken]:
    """A new link for `user_id` (the raw token, to put in the e-mail, and its row); older unused links of
    the same purpose (and organisation) stop working."""
    same: tuple[ColumnElement[bool], ...] = (
        AccountToken.purpose == purpose,
        AccountToken.user_id == user_id,
        AccountToken.used_at.is_(None),
    )
    if organisation_id is not None:
        same = (*same, AccountToken.organisation_id == organisation_id)
    session.execute(update(AccountToken).where(*same).values(used_at=now))
    raw = secrets.token_urlsafe(32)
    row = AccountToken(
        purpose=purpose,
        token_hash=_hash(raw),
        user_id=user_id,
        organisation_id=organisation_id,
        invited_by_id=invited_by_id,
        data=data or {},
        created_at=now,
        expires_at=now + LIFETIMES[purpose],
    )
    session.add(row)
    session.flush()
    return raw, row


MAX_PER_HOUR = 5
"""Links of one purpose sent to one person in an hour, at most: past it, a request sends nothing (with
the same answer), so that nobody turns the platform into a way to flood someone's mailbox."""


def too_many(session: Session, purpose: str, user_id: int, now: datetime) -> bool:
    sent = session.scalar(
        select(func.count())
        .select_from(AccountToken)
        .where(
            AccountToken.purpose == purpose,
            AccountToken.user_id == user_id,
            AccountToken.created_at > now - timedelta(hours=1),
        )
    )
    return (sent or 0) >= MAX_PER_HOUR


def peek(session: Session, purpose: str, raw: str, now: datetime) -> AccountToken:
    """The link's row if it may still be used (to show the page it opens), else a French refusal."""
    row = session.scalar(
        select(AccountToken).where(AccountToken.token_hash == _hash(raw), AccountToken.purpose == purpose)
    )
    if row is None:
        raise LinkRefused(
            "Ce lien n'est pas valide : vérifiez qu'il a été copié en entier, ou demandez-en un nouveau.",
            code="lien_invalide",
        )
    if row.used_at is not None:
        raise LinkRefused(
            "Ce lien a déjà servi (ou un lien plus récent l'a remplacé) : il ne fonctionne qu'une fois. "
            "Demandez-en un nouveau si besoin.",
            code="lien_deja_utilise",
        )
    if row.expires_at <= now:
        raise LinkRefused(
            "Ce lien a expiré : demandez-en un nouveau.",
            code="lien_expire",
        )
    return row


def use(session: Session, purpose: str, raw: str, now: datetime) -> AccountToken:
    """Spends the link (once: a second use, even at the same moment, is refused); the caller commits."""
    row = peek(session, purpose, raw, now)
    spent = session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkRefused(
            "Ce lien a déjà servi : il ne fonctionne qu'une fois.",
            code="lien_deja_utilise",
        )
    session.refresh(row)
    return row


def link_url(base_url: str, path: str, raw: str) -> str:
    return f"{base_url.rstrip('/')}{path}/{raw}"
