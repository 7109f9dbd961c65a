"""Typed dependencies: the database session and the caller, so each route says who may call it."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from aap import access_log
from aap.accounts.login import LoginLimiter
from aap.accounts.sessions import user_of_session, user_of_token
from aap.errors import Forbidden, Unauthorized
from aap.models import User
from aap.settings import Settings
from aap.web.csrf import check_api_csrf

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# A dependency that does no I/O is `async`: FastAPI runs a plain `def` dependency in the thread pool, one
# trip there and back for each, on every request that needs it.
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def login_limiter(request: Request) -> LoginLimiter:
    return request.app.state.login_limiter


def client_address(request: Request) -> str:
    """The caller's address (uvicorn takes it from X-Forwarded-For behind a trusted proxy)."""
    return request.client.host if request.client else "inconnu"


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One session per request; the service commits, anything left is rolled back.

    Async on purpose: the end of its transaction (`access_log.end_request`, one round trip) runs on
    the event loop as soon as the answer is ready, so a connection is never held while the request
    queues for a server thread (with 200 clients on 40 threads, that queue emptied the pool and
    answered 503)."""
    session = request.app.state.sessionmaker()
    session.info["data_dir"] = request.app.state.settings.data_dir  # where after-commit effects store files
    path = request.url.path
    if isinstance(request.path_params.get("token"), str):  # a link's secret never goes into the log
        path = path.replace(request.path_params["token"], "{token}")
    access_log.begin_request(session, f"{request.method} {path}", client_address(request))
    try:
        yield session
        if access_log.has_pending_reads(session):  # rows to write, maybe a lock to wait for
            await run_in_threadpool(access_log.end_request, session)
        else:
            access_log.end_request(session)
    finally:
        session.close()


DB = Annotated[Session, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
Limiter = Annotated[LoginLimiter, Depends(login_limiter)]
ClientAddress = Annotated[str, Depends(client_address)]


def current_user_optional(
    request: Request,
    db: DB,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    territoire: Annotated[
        str | None,
        Header(alias="X-Aap-Territoire", description="Le territoire où agit un compte membre de plusieurs"),
    ] = None,
) -> User | None:
    """The caller from a bearer token (API) or the session cookie (web pages), as long as the account
    is active and none of its sessions was cut since (`aap.accounts.sessions`), acting in the territory
    the request names (`X-Aap-Territoire`) when its account works in several.

    The settings come from the application, not from a dependency of their own: FastAPI solves every
    dependency of every request again, with all its bookkeeping (with the account's statement built once,
    `aap.accounts.sessions`, a read went from 7.55 M to 7.27 M instructions)."""
    settings: Settings = request.app.state.settings
    if token:
        user = user_of_token(db, settings.secret_key, token, settings.token_ttl_minutes * 60)
        if user is None:
            raise Unauthorized(
                "Jeton invalide, expiré ou révoqué : demandez-en un nouveau.",
                code="jeton_invalide",
                headers={"WWW-Authenticate": "Bearer"},
            )
    else:
        user = None
        if "session" in request.scope:
            user = user_of_session(db, request.session)
            if user is not None and request.url.path.startswith("/api/"):
                # a page of another site (or port) can make the browser send the cookie: the API writes
                # only for a bearer token, or for the cookie with the session's CSRF token in a header
                check_api_csrf(request)
            if user is not None:
                territoire = _web_territory(request, db, user, territoire)
    if user is not None and territoire:
        from aap.territories.memberships import act_within  # (territories build on accounts)

        user = act_within(db, user, territoire)  # detached: nothing the request changes on it is written
    if user is not None:
        access_log.set_actor(db, user.id, user.role)
    # The service goes on in this transaction: its connection stays with the request while it waits
    # for a server thread (the pool holds one for every request admitted, `aap.db.get_engine`), which
    # saves the commit, the next checkout and the next BEGIN. A read takes no lock on PostgreSQL nor
    # SQLite's write lock (`aap.db`), so nothing waits on a request queued here.
    return user


SESSION_TERRITORY = "territoire"
"""The session key of the territory a person of several contracts chose in the pages' header."""


def _web_territory(request: Request, db: Session, user: User, named: str | None) -> str | None:
    """With the session cookie, the territory chosen in the pages' header (unless the request names
    one), and what the header's selector offers (`request.state.territoires`). A choice no longer valid
    (the membership was removed) is forgotten: the account acts at home."""
    from aap.territories.memberships import choices_for  # (territories build on accounts)

    chosen = request.session.get(SESSION_TERRITORY)
    page = not request.url.path.startswith("/api/")
    choices = choices_for(db, user, chosen) if page or chosen else []
    if page:
        request.state.territoires = choices
    if chosen and chosen not in {t["code"] for t in choices}:
        request.session.pop(SESSION_TERRITORY, None)
        chosen = None
    return named or chosen


async def current_user(user: Annotated[User | None, Depends(current_user_optional)]) -> User:
    if user is None:
        raise Unauthorized(
            "Authentification requise.", code="non_authentifie", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


def the_account(user: Annotated[User, Depends(current_user)], db: DB) -> User:
    """The account itself, for what changes it (name, password, address, choice of contract): a caller
    acting in another contract is a detached copy with that membership's role, never written back."""
    if user in db:
        return user
    found = db.get(User, user.id)
    if found is None:  # pragma: no cover - the account was read at the start of this request
        raise Unauthorized("Authentification requise.", code="non_authentifie")
    return found


def require(*roles: str):  # type: ignore[no-untyped-def]
    async def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in roles:
            raise Forbidden("Votre rôle ne permet pas cette action.", code="role_interdit")
        return user

    return dependency


Caller = Annotated[User, Depends(current_user)]
Account = Annotated[User, Depends(the_account)]
MaybeCaller = Annotated[User | None, Depends(current_user_optional)]
Admin = Annotated[User, Depends(require("admin"))]
Staff = Annotated[User, Depends(require("admin", "instructeur"))]
Instructeur = Annotated[User, Depends(require("instructeur", "admin"))]
Porteur = Annotated[User, Depends(require("porteur"))]
FinanceurAgent = Annotated[User, Depends(require("financeur"))]
