"""Several members per organisation: who belongs, who asked to join, who is invited, and who decides.

The one rule of access: the active, verified porteur members of an organisation see and manage its
members; to anyone else the organisation does not exist here (404).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aap import access_log
from aap.accounts import links, mail
from aap.accounts.passwords import password_problem
from aap.accounts.registration import email_problem, user_by_email
from aap.accounts.security import hash_password
from aap.accounts.service import create_user, normalize_email
from aap.errors import Conflict, Invalid, NotFound
from aap.models import AccountToken, JoinRequest, Membership, Organisation, User


def _members_query(organisation_id: int):  # type: ignore[no-untyped-def]
    return (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organisation_id == organisation_id,
            User.role == "porteur",
            User.active.is_(True),
            User.email_verified_at.is_not(None),
        )
        .order_by(User.full_name, User.email)
    )


def is_member(session: Session, user: User, organisation_id: int) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.organisation_id == organisation_id, Membership.user_id == user.id)
        )
        or 0
    ) > 0


def organisation_of_member(session: Session, user: User, organisation_id: int) -> Organisation:
    """The organisation if `user` is one of its members, else 404 (as if it did not exist)."""
    org = session.get(Organisation, organisation_id)
    if org is None or user.role != "porteur" or not is_member(session, user, organisation_id):
        raise NotFound("Organisme introuvable.", code="organisme_introuvable")
    return org


def _members_link(base_url: str, organisation_id: int) -> str:
    return f"{base_url.rstrip('/')}/mon-compte/organismes/{organisation_id}"


# --- join requests ----------------------------------------------------------------------------------


def request_to_join(session: Session, user: User, org: Organisation, *, now: datetime, base_url: str) -> None:
    """A pending request from `user` to `org` (once), and a message to each of its members."""
    pending = session.scalar(
        select(JoinRequest).where(
            JoinRequest.organisation_id == org.id,
            JoinRequest.user_id == user.id,
            JoinRequest.state == "en_attente",
        )
    )
    if pending is not None:
        return
    request = JoinRequest(organisation_id=org.id, user_id=user.id, state="en_attente", created_at=now)
    session.add(request)
    session.flush()
    who = f"{user.full_name} ({user.email})" if user.full_name else user.email
    for member in session.scalars(_members_query(org.id)):
        mail.send(
            session,
            rule="adhesion_demandee",
            key=f"{request.id}:{member.id}",
            to=member,
            subject=f"{who} demande à rejoindre « {org.name} »",
            paragraphs=[
                f"{who} vient de créer un compte avec le numéro SIRET de « {org.name} » ({org.siret}) "
                "et demande à rejoindre votre organisme.",
                "S'il s'agit bien d'une personne de votre équipe, acceptez sa demande : elle verra et "
                "pourra modifier les dossiers de l'organisme. Sinon, refusez-la.",
            ],
            link=_members_link(base_url, org.id),
            button="Voir la demande",
            base_url=base_url,
            now=now,
        )


def decide_join(
    session: Session,
    by: User,
    organisation_id: int,
    request_id: int,
    accept: bool,
    *,
    now: datetime,
    base_url: str,
) -> JoinRequest:
    """A member accepts (the requester becomes a member) or refuses a pending request; commits."""
    org = organisation_of_member(session, by, organisation_id)
    request = session.get(JoinRequest, request_id)
    if request is None or request.organisation_id != org.id:
        raise NotFound("Demande introuvable.", code="demande_introuvable")
    if request.state != "en_attente":
        raise Conflict("Cette demande a déjà été traitée.", code="demande_deja_traitee")
    request.state = "acceptee" if accept else "refusee"
    request.decided_at, request.decided_by_id = now, by.id
    requester = session.get(User, request.user_id)
    assert requester is not None
    if accept and not is_member(session, requester, org.id):
        session.add(Membership(user_id=requester.id, organisation_id=org.id))
    mail.send(
        session,
        rule="adhesion_decidee",
        key=str(request.id),
        to=requester,
        subject=f"Votre demande pour rejoindre « {org.name} » est {'acceptée' if accept else 'refusée'}",
        paragraphs=[
            f"Votre demande pour rejoindre « {org.name} » a été acceptée : vous voyez désormais ses dossiers."
            if accept
            else f"Votre demande pour rejoindre « {org.name} » a été refusée par un membre de l'organisme. "
            "Si c'est une erreur, contactez directement l'association.",
        ],
        link=f"{base_url.rstrip('/')}/mes-dossiers" if accept else None,
        button="Voir les dossiers",
        base_url=base_url,
        now=now,
    )
    session.commit()
    return request


# --- invitations ------------------------------------------------------------------------------------


def invite(
    session: Session, by: User, organisation_id: int, email: str, *, now: datetime, base_url: str
) -> None:
    """`by` invites a colleague: a link to join (and, for a new address, to choose a password); commits."""
    org = organisation_of_member(session, by, organisation_id)
    email = normalize_email(email)
    problem = email_problem(email)
    if problem:
        raise Invalid(
            "L'invitation n'a pas été envoyée.",
            code="invitation_invalide",
            errors=[{"path": "email", "code": "email_invalide", "message": problem}],
        )
    invitee = user_by_email(session, email)
    if invitee is not None and invitee.role != "porteur":
        raise Invalid(
            "L'invitation n'a pas été envoyée.",
            code="invitation_invalide",
            errors=[
                {
                    "path": "email",
                    "code": "compte_non_porteur",
                    "message": "Cette adresse est celle d'un compte de l'équipe ou d'un financeur : "
                    "invitez une autre adresse.",
                }
            ],
        )
    if invitee is not None and is_member(session, invitee, org.id):
        raise Conflict(f"{email} est déjà membre de « {org.name} ».", code="deja_membre")
    new_account = invitee is None or invitee.email_verified_at is None
    if invitee is None:
        invitee = create_user(
            session,
            email=email,
            password_hash=hash_password(secrets.token_urlsafe(32)),  # unusable until the link is followed
            role="porteur",
            email_verified=False,
        )
    raw, row = links.issue(
        session,
        links.INVITATION,
        invitee.id,
        now,
        organisation_id=org.id,
        invited_by_id=by.id,
        data={"new_account": new_account},
    )
    who = by.full_name or by.email
    mail.send(
        session,
        rule="compte_invitation",
        key=str(row.id),
        to=invitee,
        subject=f"{who} vous invite à rejoindre « {org.name} »",
        paragraphs=[
            f"{who} vous invite à rejoindre « {org.name} » sur la plateforme des appels à projets du "
            "contrat de ville, pour préparer et suivre ses dossiers avec son équipe.",
            (
                "Ouvrez le lien ci-dessous pour choisir votre mot de passe."
                if new_account
                else "Ouvrez le lien ci-dessous pour accepter l'invitation."
            )
            + " Il fonctionne une seule fois, pendant 7 jours.",
            "Si vous ne connaissez pas cette personne, ignorez ce message.",
        ],
        link=links.link_url(base_url, "/invitation", raw),
        button="Accepter l'invitation",
        base_url=base_url,
        now=now,
    )
    session.commit()


@dataclass
class Invitation:
    organisation: Organisation
    email: str
    new_account: bool
    invited_by: str


def read_invitation(session: Session, raw: str, now: datetime) -> Invitation:
    row = links.peek(session, links.INVITATION, raw, now)
    org = session.get(Organisation, row.organisation_id)
    user = session.get(User, row.user_id)
    if org is None or user is None or not user.active:
        raise links.LinkRefused("Cette invitation n'est plus valable.", code="lien_invalide")
    by = session.get(User, row.invited_by_id) if row.invited_by_id else None
    new_account = bool((row.data or {}).get("new_account")) and user.email_verified_at is None
    return Invitation(org, user.email, new_account, (by.full_name or by.email) if by else "")


def accept_invitation(
    session: Session, raw: str, *, password: str = "", full_name: str = "", now: datetime
) -> User:
    """The invitee joins; a new account also chooses its password (checked before the link is spent).
    Following the link verifies the address. Commits."""
    invitation = read_invitation(session, raw, now)
    if invitation.new_account:
        errors = []
        weak = password_problem(password or "", [invitation.email, full_name, invitation.organisation.name])
        if weak:
            errors.append({"path": "password", "code": "mot_de_passe_faible", "message": weak})
        if len(full_name.strip()) > 200 or "\x00" in full_name:
            errors.append(
                {
                    "path": "full_name",
                    "code": "nom_invalide",
                    "message": "200 caractères au plus, sans caractère nul.",
                }
            )
        if errors:
            raise Invalid("L'invitation n'a pas été acceptée.", code="invitation_invalide", errors=errors)
    row = links.use(session, links.INVITATION, raw, now)
    user = session.get(User, row.user_id)
    assert user is not None and row.organisation_id is not None
    if invitation.new_account:
        user.password_hash = hash_password(password)
        user.full_name = full_name.strip() or user.full_name
    if user.email_verified_at is None:
        user.email_verified_at = now
    if not is_member(session, user, row.organisation_id):
        session.add(Membership(user_id=user.id, organisation_id=row.organisation_id))
    session.commit()
    return user


# --- the members page ---------------------------------------------------------------------------------


def members_view(session: Session, by: User, organisation_id: int, now: datetime) -> dict[str, Any]:
    """The members, the pending invitations and the pending join requests of an organisation."""
    org = organisation_of_member(session, by, organisation_id)
    invitations = session.execute(
        select(User.email, AccountToken.created_at, AccountToken.expires_at)
        .join(User, User.id == AccountToken.user_id)
        .where(
            AccountToken.purpose == links.INVITATION,
            AccountToken.organisation_id == org.id,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .order_by(AccountToken.created_at)
    ).all()
    requests = session.scalars(
        select(JoinRequest)
        .where(JoinRequest.organisation_id == org.id, JoinRequest.state == "en_attente")
        .order_by(JoinRequest.created_at)
    ).all()
    members = list(session.scalars(_members_query(org.id)))
    for member in members:  # others' names and addresses: an account's personal data, read
        if member.id != by.id:
            access_log.read(session, "users", member.id)
    return {
        "organisation": org,
        "members": members,
        "invitations": [{"email": e, "sent_at": c, "expires_at": x} for e, c, x in invitations],
        "requests": list(requests),
    }


def remove_member(session: Session, by: User, organisation_id: int, user_id: int) -> User:
    """A member removes another (or leaves); the last member cannot leave. Commits."""
    org = organisation_of_member(session, by, organisation_id)
    target = session.get(User, user_id)
    if target is None or not is_member(session, target, org.id):
        raise NotFound("Ce membre est introuvable.", code="membre_introuvable")
    others = session.scalar(
        select(func.count())
        .select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.organisation_id == org.id,
            Membership.user_id != target.id,
            User.active.is_(True),
            User.email_verified_at.is_not(None),
        )
    )
    if not others:
        raise Conflict(
            f"« {org.name} » doit garder au moins un membre : invitez quelqu'un avant de partir.",
            code="dernier_membre",
        )
    membership = session.get(Membership, (target.id, org.id))
    session.delete(membership)
    session.commit()
    return target
