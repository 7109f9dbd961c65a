"""Sessions that end: every bearer token and session cookie carries the account's session generation;
logout, a new password and deactivation bump it, and every token and cookie issued before stops working
at once (no server-side list to keep)."""

from typing import Any

from sqlalchemy import Integer, bindparam, select, update
from sqlalchemy.orm import Session

from aap.accounts.security import issue_token, read_token_claims
from aap.models import User

_BY_ID = select(User).where(User.id == bindparam("user_id", type_=Integer))
"""Every authenticated request reads its account: the statement built once, with its cache key
(`Session.get` builds and keys a new one each time)."""


def _active(session: Session, user_id: int, generation: Any) -> User | None:
    user = session.scalars(_BY_ID, {"user_id": user_id}).one_or_none()
    if user is None or not user.active or user.email_verified_at is None:
        return None
    if not isinstance(generation, int) or generation != user.session_generation:
        return None
    return user


def token_for(secret: str, user: User) -> str:
    return issue_token(secret, user.id, user.session_generation)


def user_of_token(session: Session, secret: str, token: str, max_age_seconds: int) -> User | None:
    """The active account a bearer token was issued to, if none of its sessions was cut since."""
    claims = read_token_claims(secret, token, max_age_seconds)
    return _active(session, *claims) if claims else None


def start_session(cookie: dict[str, Any], user: User) -> None:
    """A fresh session cookie for `user` (anything left from before is dropped)."""
    cookie.clear()
    cookie["uid"] = user.id
    cookie["gen"] = user.session_generation


def user_of_session(session: Session, cookie: dict[str, Any]) -> User | None:
    uid = cookie.get("uid")
    return _active(session, uid, cookie.get("gen")) if isinstance(uid, int) else None


def cut_sessions(session: Session, user: User) -> None:
    """Every token and cookie of `user` stops working (in the caller's transaction: it commits)."""
    session.execute(
        update(User).where(User.id == user.id).values(session_generation=User.session_generation + 1)
    )
    session.refresh(user, ["session_generation"])
