"""Typed dependencies: the database session and the caller, so each route says who may call it."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from aap.accounts.security import read_token
from aap.accounts.service import get_active_user
from aap.errors import Forbidden, Unauthorized
from aap.models import User
from aap.settings import Settings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    """One session per request; the service commits, anything left is rolled back."""
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


DB = Annotated[Session, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def current_user_optional(
    request: Request,
    db: DB,
    settings: AppSettings,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    territoire: Annotated[
        str | None,
        Header(alias="X-Aap-Territoire", description="Le territoire où agit un compte membre de plusieurs"),
    ] = None,
) -> User | None:
    """The caller from a bearer token (API) or the session cookie (web pages), acting in the territory
    the request names (`X-Aap-Territoire`) when its account works in several."""
    user_id: int | None = None
    if token:
        user_id = read_token(settings.secret_key, token, settings.token_ttl_minutes * 60)
        if user_id is None:
            raise Unauthorized(
                "Jeton invalide ou expiré.", code="jeton_invalide", headers={"WWW-Authenticate": "Bearer"}
            )
    elif "session" in request.scope:
        uid = request.session.get("uid")
        user_id = uid if isinstance(uid, int) else None
    if user_id is None:
        return None
    user = get_active_user(db, user_id)
    if user is not None and territoire:
        from aap.territories.memberships import act_within  # (territories build on accounts)

        user = act_within(db, user, territoire)
    return user


def current_user(user: Annotated[User | None, Depends(current_user_optional)]) -> User:
    if user is None:
        raise Unauthorized(
            "Authentification requise.", code="non_authentifie", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


def require(*roles: str):  # type: ignore[no-untyped-def]
    def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in roles:
            raise Forbidden("Votre rôle ne permet pas cette action.", code="role_interdit")
        return user

    return dependency


Caller = Annotated[User, Depends(current_user)]
MaybeCaller = Annotated[User | None, Depends(current_user_optional)]
Admin = Annotated[User, Depends(require("admin"))]
Staff = Annotated[User, Depends(require("admin", "instructeur"))]
Instructeur = Annotated[User, Depends(require("instructeur", "admin"))]
Porteur = Annotated[User, Depends(require("porteur"))]
FinanceurAgent = Annotated[User, Depends(require("financeur"))]
