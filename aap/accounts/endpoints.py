"""Login (OAuth2 password flow) and the caller's identity."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from aap.accounts.login import Attempt, log_in
from aap.accounts.schemas import MeOut, TokenOut
from aap.accounts.service import require_verified
from aap.accounts.sessions import token_for
from aap.deps import DB, AppSettings, Caller, ClientAddress, Limiter
from aap.errors import Unauthorized
from aap.models import User
from aap.routes import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["comptes"])


@router.post(
    "/auth/token", summary="Obtenir un jeton d'accès (OAuth2, mot de passe)", response_model=TokenOut
)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: DB,
    settings: AppSettings,
    limiter: Limiter,
    client: ClientAddress,
) -> dict[str, str]:
    """Too many wrong passwords for an account or from an address: 429 with `Retry-After`."""
    user = log_in(db, limiter, Attempt(form.username, form.password, client))
    if user is None:
        # Same answer whether the account exists or not.
        raise Unauthorized(
            "Adresse électronique ou mot de passe incorrect.",
            code="identifiants_invalides",
            headers={"WWW-Authenticate": "Bearer"},
        )
    require_verified(user)
    return {"access_token": token_for(settings.secret_key, user), "token_type": "bearer"}


def describe_user(user: User) -> dict[str, Any]:
    out: dict[str, Any] = {"id": user.id, "email": user.email, "name": user.full_name, "role": user.role}
    if user.role == "porteur":
        orgs = [{"id": o.id, "name": o.name, "siret": o.siret} for o in user.organisations]
        out["organisation"] = orgs[0] if orgs else None
        out["organisations"] = orgs
    if user.financeur is not None:
        out["financeur"] = {"id": user.financeur.id, "code": user.financeur.code, "name": user.financeur.name}
    if user.territory is not None:
        out["territory"] = {"id": user.territory.id, "code": user.territory.code, "name": user.territory.name}
    return out


@router.get("/me", summary="Qui suis-je", response_model=MeOut)
def me(user: Caller, db: DB) -> dict[str, Any]:
    """`territoires`: the contracts a staff account works in (its home first); a request names the one
    it acts in with the header `X-Aap-Territoire: CODE`."""
    from aap.territories.memberships import territories_of

    return {**describe_user(user), "territoires": territories_of(db, user)}
