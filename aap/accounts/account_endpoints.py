"""Accounts people run themselves, over the API: registration and its verification link, logout,
forgotten and changed passwords, the account, members and invitations, and an admin's deactivation.

Thin: parse, call the service (the same ones the pages call), answer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from aap.accounts import email_change, membership, recovery, registration, staff, staff_invitation
from aap.accounts.endpoints import describe_user
from aap.accounts.mail import deliver_soon
from aap.accounts.schemas import (
    AcceptedOut,
    AccountActiveOut,
    JoinDecisionOut,
    MembersOut,
    MeOut,
    MessageOut,
    StaffInvitationOut,
    TokenOut,
    VerifiedOut,
)
from aap.accounts.sessions import token_for
from aap.clock import now
from aap.deps import DB, Account, Admin, AppSettings, Caller, Porteur
from aap.routes import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["comptes"])

REGISTRATION_ANSWER = (
    "Si l'inscription peut aboutir, un message vient d'être envoyé à cette adresse : ouvrez le lien qu'il "
    "contient pour activer le compte (il fonctionne une fois, pendant 48 heures)."
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganisationIn(_Body):
    name: str = Field(max_length=300)
    kind: Literal["association", "groupe_habitants"] = Field(
        default="association",
        description="`groupe_habitants` : un groupe d'habitants sans SIRET (le compte est celui de l'habitant "
        "référent, dont `full_name` et `phone` sont alors demandés) ; il dépose aux appels à projets qui "
        "l'acceptent (FPH).",
    )
    siret: str = Field(default="", max_length=20)
    rna: str | None = Field(default=None, max_length=10)
    address_line: str | None = Field(default=None, max_length=300)
    postal_code: str | None = Field(default=None, max_length=5)
    city: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)


class RegistrationIn(_Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=200)
    full_name: str = Field(default="", max_length=200)
    organisation: OrganisationIn


class TokenIn(_Body):
    token: str = Field(max_length=200)


class EmailIn(_Body):
    email: str = Field(max_length=320)


class ResetIn(_Body):
    token: str = Field(max_length=200)
    password: str = Field(max_length=200)


class InvitationAcceptIn(_Body):
    token: str = Field(max_length=200)
    password: str = Field(default="", max_length=200)
    full_name: str = Field(default="", max_length=200)


class PasswordChangeIn(_Body):
    current_password: str = Field(max_length=200)
    new_password: str = Field(max_length=200)


class ProfileIn(_Body):
    full_name: str = Field(max_length=200)


class EmailChangeIn(_Body):
    email: str = Field(max_length=320)
    current_password: str = Field(max_length=200)


class DecisionIn(_Body):
    decision: Annotated[str, Field(pattern="^(accepter|refuser)$")]


class ActiveIn(_Body):
    active: bool


class StaffInvitationIn(_Body):
    email: str = Field(max_length=320)
    full_name: str = Field(max_length=300, description="Nom et prénom, ou nom du service.")
    role: str = Field(max_length=40, description="instructeur, financeur, partenaire ou admin.")
    financeur: str | None = Field(
        default=None, max_length=60, description="Pour un agent de financeur : le code du financeur."
    )


def _later(request: Request, tasks: BackgroundTasks, db: Session) -> None:
    tasks.add_task(deliver_soon, request.app.state.sessionmaker, request.app.state.settings, db)


@router.post(
    "/auth/register",
    status_code=202,
    summary="Créer un compte porteur (lien de vérification)",
    response_model=MessageOut,
)
def register(
    body: RegistrationIn, request: Request, tasks: BackgroundTasks, db: DB, settings: AppSettings
) -> dict[str, str]:
    """The same answer whether the address already has an account or not; 422 for a wrong form."""
    registration.register(
        db,
        body.email,
        body.password,
        body.organisation.model_dump(),
        body.full_name,
        now=now(),
        base_url=settings.base_url,
    )
    _later(request, tasks, db)
    return {"message": REGISTRATION_ANSWER}


@router.post(
    "/auth/verify", summary="Confirmer son adresse (lien reçu par e-mail)", response_model=VerifiedOut
)
def verify(
    body: TokenIn, request: Request, tasks: BackgroundTasks, db: DB, settings: AppSettings
) -> dict[str, Any]:
    done = registration.verify(db, body.token, now=now(), base_url=settings.base_url)
    _later(request, tasks, db)
    org = done.organisation
    return {
        "outcome": done.outcome,
        "organisation": {"id": org.id, "name": org.name, "siret": org.siret} if org else None,
        "access_token": token_for(settings.secret_key, done.user),
        "token_type": "bearer",
    }


@router.post(
    "/auth/logout", summary="Se déconnecter partout (révoque tous les jetons)", response_model=MessageOut
)
def logout(db: DB, user: Caller) -> dict[str, str]:
    recovery.log_out_everywhere(db, user)
    return {
        "message": "Déconnecté partout : toutes les sessions et tous les jetons de ce compte sont fermés."
    }


@router.post(
    "/auth/password-reset",
    status_code=202,
    summary="Mot de passe oublié : recevoir un lien",
    response_model=MessageOut,
)
def password_reset(
    body: EmailIn, request: Request, tasks: BackgroundTasks, db: DB, settings: AppSettings
) -> dict[str, str]:
    message = recovery.request_reset(db, body.email, now=now(), base_url=settings.base_url)
    _later(request, tasks, db)
    return {"message": message}


@router.post(
    "/auth/password-reset/confirm",
    summary="Choisir un nouveau mot de passe (lien reçu)",
    response_model=MessageOut,
)
def password_reset_confirm(body: ResetIn, db: DB) -> dict[str, str]:
    recovery.reset_password(db, body.token, body.password, now=now())
    return {"message": "Mot de passe changé : connectez-vous avec le nouveau."}


@router.post(
    "/auth/invitations/accept",
    summary="Accepter une invitation à rejoindre un organisme",
    response_model=AcceptedOut,
)
def accept_invitation(body: InvitationAcceptIn, db: DB, settings: AppSettings) -> dict[str, Any]:
    user = membership.accept_invitation(
        db, body.token, password=body.password, full_name=body.full_name, now=now()
    )
    return {**describe_user(user), "access_token": token_for(settings.secret_key, user)}


@router.patch("/me", summary="Changer mon nom", response_model=MeOut)
def update_me(body: ProfileIn, db: DB, user: Account) -> dict[str, Any]:
    return describe_user(recovery.rename(db, user, body.full_name))


@router.post(
    "/me/password", summary="Changer mon mot de passe (ferme toutes mes sessions)", response_model=TokenOut
)
def change_password(body: PasswordChangeIn, db: DB, user: Account, settings: AppSettings) -> dict[str, str]:
    recovery.change_password(db, user, body.current_password, body.new_password)
    return {"access_token": token_for(settings.secret_key, user), "token_type": "bearer"}


@router.post(
    "/me/email",
    status_code=202,
    summary="Changer mon adresse (lien envoyé à la nouvelle)",
    response_model=MessageOut,
)
def change_email(
    body: EmailChangeIn,
    request: Request,
    tasks: BackgroundTasks,
    db: DB,
    user: Account,
    settings: AppSettings,
) -> dict[str, str]:
    message = email_change.request_change(
        db, user, body.email, body.current_password, now=now(), base_url=settings.base_url
    )
    _later(request, tasks, db)
    return {"message": message}


@router.post(
    "/auth/email-change/confirm", summary="Confirmer une nouvelle adresse (lien reçu)", response_model=MeOut
)
def confirm_email_change(
    body: TokenIn, request: Request, tasks: BackgroundTasks, db: DB, settings: AppSettings
) -> dict[str, Any]:
    user = email_change.confirm_change(db, body.token, now=now(), base_url=settings.base_url)
    _later(request, tasks, db)
    return describe_user(user)


def _member_out(u: Any) -> dict[str, Any]:
    return {"id": u.id, "email": u.email, "name": u.full_name}


@router.get(
    "/organisations/{organisation_id}/members",
    summary="Les membres d'un organisme",
    response_model=MembersOut,
)
def members(organisation_id: int, db: DB, user: Porteur) -> dict[str, Any]:
    view = membership.members_view(db, user, organisation_id, now())
    return {
        "items": [_member_out(u) for u in view["members"]],
        "total": len(view["members"]),
        "invitations": [
            {"email": i["email"], "expires_at": i["expires_at"].isoformat()} for i in view["invitations"]
        ],
        "join_requests": [
            {"id": r.id, "user": _member_out(r.user), "created_at": r.created_at.isoformat()}
            for r in view["requests"]
        ],
    }


@router.post(
    "/organisations/{organisation_id}/invitations",
    status_code=202,
    summary="Inviter un collègue",
    response_model=MessageOut,
)
def invite(
    organisation_id: int,
    body: EmailIn,
    request: Request,
    tasks: BackgroundTasks,
    db: DB,
    user: Porteur,
    settings: AppSettings,
) -> dict[str, str]:
    membership.invite(db, user, organisation_id, body.email, now=now(), base_url=settings.base_url)
    _later(request, tasks, db)
    return {"message": f"Invitation envoyée à {body.email.strip().lower()}."}


@router.delete(
    "/organisations/{organisation_id}/members/{user_id}",
    summary="Retirer un membre",
    response_model=MessageOut,
)
def remove_member(organisation_id: int, user_id: int, db: DB, user: Porteur) -> dict[str, str]:
    removed = membership.remove_member(db, user, organisation_id, user_id)
    return {"message": f"{removed.email} n'est plus membre de l'organisme."}


@router.post(
    "/organisations/{organisation_id}/join-requests/{request_id}",
    summary="Accepter ou refuser une demande d'adhésion",
    response_model=JoinDecisionOut,
)
def decide_join(
    organisation_id: int,
    request_id: int,
    body: DecisionIn,
    request: Request,
    tasks: BackgroundTasks,
    db: DB,
    user: Porteur,
    settings: AppSettings,
) -> dict[str, Any]:
    done = membership.decide_join(
        db,
        user,
        organisation_id,
        request_id,
        body.decision == "accepter",
        now=now(),
        base_url=settings.base_url,
    )
    _later(request, tasks, db)
    return {"id": done.id, "state": done.state}


@router.patch(
    "/users/{user_id}",
    summary="Désactiver ou réactiver un compte (équipe du contrat de ville)",
    response_model=AccountActiveOut,
)
def set_active(user_id: int, body: ActiveIn, db: DB, user: Admin) -> dict[str, Any]:
    target = staff.set_active(db, user, user_id, body.active)
    return {"id": target.id, "email": target.email, "active": target.active}


@router.post(
    "/users/invitations",
    status_code=201,
    summary="Inviter un membre de l'équipe par e-mail (équipe du contrat de ville)",
    response_model=StaffInvitationOut,
)
def invite_staff(
    body: StaffInvitationIn,
    request: Request,
    tasks: BackgroundTasks,
    db: DB,
    user: Admin,
    settings: AppSettings,
) -> dict[str, Any]:
    invite = staff.StaffInvite(body.email, body.full_name, body.role, body.financeur)
    invited = staff_invitation.invite_staff(db, user, invite, now=now(), base_url=settings.base_url)
    _later(request, tasks, db)
    return {
        "id": invited.id,
        "email": invited.email,
        "role": invited.role,
        "message": f"Invitation envoyée à {invited.email} : le lien vaut 7 jours, une seule fois.",
    }
