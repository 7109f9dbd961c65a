"""A person's data: what the platform holds about an account (the export a person downloads), and its
erasure by the territory's team.

Erasure anonymises, it does not delete: dossiers are records of public money (kept as the archives'
rules say, see docs/rgpd.md), so they stay, with their history, but without the person's name or address:
the account's row keeps only its id and role (« a porteur deposited this »). The person's sessions and
tokens stop at once, their links and join requests go, their name and address leave the dossiers'
history, messages, answers and mails.

Refused (409, with the reason) while the law needs the person reachable: the only member of an
organisation with a dossier still open (not closed, rejected, abandoned), and agents' accounts, whose
acts (instruction, decisions) stay signed while the dossiers are kept: they are deactivated instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from aap import access_log
from aap.accounts.sessions import cut_sessions
from aap.accounts.staff import accounts_of_territory
from aap.errors import Conflict, Forbidden, Invalid, NotFound
from aap.models import (
    AccessLog,
    AccountToken,
    Attachment,
    Bilan,
    CpoEvent,
    Dossier,
    DossierEvent,
    DossierMessage,
    Financeur,
    JoinRequest,
    Membership,
    Notification,
    NotificationPreference,
    Organisation,
    Territory,
    User,
)
from workflows.dossier import TERMINAL_STATES

ERASED_NAME = "Compte effacé"
ERASED_TEXT = "[donnée effacée]"
EXPORT_LOG_ROWS = 5000


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def erased_email(user_id: int) -> str:
    return f"compte-efface-{user_id}@efface.invalid"


# --- export ------------------------------------------------------------------------------------------


def export(session: Session, user: User) -> dict[str, Any]:
    """Everything the platform holds about the caller, as one JSON document (RGPD, articles 15 and 20)."""
    access_log.read(session, "users", user.id)
    uid = user.id
    organisations = list(
        session.scalars(
            select(Organisation)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == uid)
            .order_by(Organisation.id)
        )
    )
    dossiers = session.scalars(select(Dossier).where(Dossier.created_by_id == uid).order_by(Dossier.id))
    events = session.scalars(
        select(DossierEvent).where(DossierEvent.user_id == uid).order_by(DossierEvent.id)
    )
    messages = session.scalars(
        select(DossierMessage).where(DossierMessage.author_id == uid).order_by(DossierMessage.id)
    )
    files = session.scalars(
        select(Attachment).where(Attachment.uploaded_by_id == uid).order_by(Attachment.id)
    )
    mails = session.scalars(select(Notification).where(Notification.user_id == uid).order_by(Notification.id))
    joins = session.scalars(select(JoinRequest).where(JoinRequest.user_id == uid).order_by(JoinRequest.id))
    log_total = session.scalar(select(func.count()).where(AccessLog.user_id == uid)) or 0
    log = session.scalars(
        select(AccessLog).where(AccessLog.user_id == uid).order_by(AccessLog.id.desc()).limit(EXPORT_LOG_ROWS)
    )
    return {
        "compte": {
            "id": user.id,
            "email": user.email,
            "nom": user.full_name,
            "role": user.role,
            "cree_le": _iso(user.created_at),
            "adresse_confirmee_le": _iso(user.email_verified_at),
            # by query: the caller may be a detached copy acting in another territory (`act_within`)
            "territoire": session.scalar(select(Territory.code).where(Territory.id == user.territory_id)),
            "financeur": session.scalar(select(Financeur.code).where(Financeur.id == user.financeur_id)),
        },
        "organisations": [{"id": o.id, **o.profile()} for o in organisations],
        "dossiers_crees": [
            {"id": d.id, "numero": d.number, "titre": d.title, "etat": d.state, "cree_le": _iso(d.created_at)}
            for d in dossiers
        ],
        "actions": [
            {
                "dossier_id": e.dossier_id,
                "transition": e.transition,
                "de": e.from_state,
                "vers": e.to_state,
                "le": _iso(e.at),
                "commentaire": e.comment,
            }
            for e in events
        ],
        "messages": [
            {"dossier_id": m.dossier_id, "texte": m.body, "le": _iso(m.created_at)} for m in messages
        ],
        "pieces_deposees": [
            {"id": a.id, "type": a.kind, "fichier": a.filename, "le": _iso(a.uploaded_at)} for a in files
        ],
        "messages_recus": [
            {"objet": n.subject, "adresse": n.recipient, "le": _iso(n.created_at), "statut": n.status}
            for n in mails
        ],
        "demandes_adhesion": [
            {"organisation_id": j.organisation_id, "etat": j.state, "le": _iso(j.created_at)} for j in joins
        ],
        "journal_total": log_total,
        "journal": [
            {
                "le": _iso(r.at),
                "action": r.action,
                "objet": r.kind,
                "objet_id": r.object_id,
                "route": r.route,
                "ip": r.ip,
            }
            for r in log
        ],
    }


# --- erasure -----------------------------------------------------------------------------------------


def _names_the_person(block: dict[str, Any], email: str) -> bool:
    return any(isinstance(v, str) and v.strip().lower() == email.lower() for v in block.values())


def _scrub(value: Any, needles: list[str]) -> Any:
    """`value` (answers, a JSON tree) with every occurrence of the person's name or address replaced; a
    block giving their address (a contact: name, address, phone) is blanked whole."""
    if isinstance(value, dict) and _names_the_person(value, needles[0]):
        return {k: ERASED_TEXT if isinstance(v, str) else _scrub(v, needles) for k, v in value.items()}
    if isinstance(value, str):
        for needle in needles:
            if needle.lower() in value.lower():
                start = value.lower().find(needle.lower())
                while start >= 0:
                    value = value[:start] + ERASED_TEXT + value[start + len(needle) :]
                    start = value.lower().find(needle.lower(), start + len(ERASED_TEXT))
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, needles) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    return value


def _open_dossiers_alone(session: Session, target: User) -> list[tuple[Organisation, int]]:
    """The organisations whose only member is `target` and which have a dossier still open."""
    out = []
    for organisation in target.organisations:
        members = session.scalar(
            select(func.count())
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.organisation_id == organisation.id, User.erased_at.is_(None))
        )
        open_count = session.scalar(
            select(func.count())
            .select_from(Dossier)
            .where(Dossier.organisation_id == organisation.id, Dossier.state.not_in(TERMINAL_STATES))
        )
        if (members or 0) <= 1 and open_count:
            out.append((organisation, open_count))
    return out


def erase(session: Session, by: User, user_id: int, confirm_email: str, now: datetime) -> User:
    """The team erases an account of its territory (see the module's docstring). Commits."""
    if by.role != "admin":
        raise Forbidden("Seule l'équipe du contrat de ville efface un compte.", code="role_interdit")
    target = session.get(User, user_id)
    if (
        target is None
        or session.scalar(accounts_of_territory(by.territory_id).where(User.id == user_id)) is None
    ):
        raise NotFound("Compte introuvable.", code="compte_introuvable")
    if target.erased_at is not None:
        raise Conflict("Les données de ce compte ont déjà été effacées.", code="compte_deja_efface")
    if confirm_email.strip().lower() != target.email.lower():
        raise Invalid(
            "Le compte n'a pas été effacé : recopiez son adresse électronique pour confirmer.",
            code="confirmation_invalide",
            errors=[
                {"path": "email", "code": "confirmation_invalide", "message": "adresse du compte attendue"}
            ],
        )
    if target.role != "porteur":
        raise Conflict(
            "Le compte d'un agent n'est pas effacé : ses actes (instruction, avis, décisions) restent "
            "signés tant que les dossiers sont conservés. Désactivez-le : ses sessions sont fermées.",
            code="effacement_agent_refuse",
            errors=[{"path": "user_id", "code": "effacement_agent_refuse", "message": "compte d'agent"}],
        )
    alone = _open_dossiers_alone(session, target)
    if alone:
        names = ", ".join(f"« {o.name} » ({n} dossier{'s' if n > 1 else ''} en cours)" for o, n in alone)
        raise Conflict(
            f"Effacement impossible pour l'instant : ce compte est le seul membre de {names}. Tant qu'un "
            "dossier est en cours, l'organisme doit garder un contact joignable (conventions, bilans, "
            "versements) : qu'un autre membre rejoigne l'organisme, ou attendez la clôture des dossiers.",
            code="effacement_seul_membre_dossiers_en_cours",
            errors=[
                {
                    "path": f"organisations.{o.id}",
                    "code": "seul_membre_dossiers_en_cours",
                    "message": f"{o.name} : {n} dossier(s) en cours",
                }
                for o, n in alone
            ],
        )
    _anonymise(session, target, now)
    # no membership links it to the territory any more: it stays listed (and its log readable) there
    target.territory_id = by.territory_id
    session.commit()
    return target


def _scrub_dossiers(session: Session, dossier_ids: Select[int], needles: list[str]) -> None:
    """Their name and address out of the dossiers' answers, titles, messages, comments and bilans."""
    for dossier in session.scalars(select(Dossier).where(Dossier.id.in_(dossier_ids))):
        if _scrub(dossier.answers or {}, needles) != dossier.answers:
            dossier.answers = _scrub(dossier.answers or {}, needles)
        if dossier.answers_at_complements:
            dossier.answers_at_complements = _scrub(dossier.answers_at_complements, needles)
        if dossier.title:
            dossier.title = _scrub(dossier.title, needles)
    # what others wrote to or about them on those dossiers (« Bonjour Samira Benali… »)
    for message in session.scalars(select(DossierMessage).where(DossierMessage.dossier_id.in_(dossier_ids))):
        if _scrub(message.body, needles) != message.body:
            message.body = _scrub(message.body, needles)
    events = select(DossierEvent).where(
        DossierEvent.dossier_id.in_(dossier_ids), DossierEvent.comment.is_not(None)
    )
    for event in session.scalars(events):
        if _scrub(event.comment, needles) != event.comment:
            event.comment = _scrub(event.comment, needles)
    for bilan in session.scalars(select(Bilan).where(Bilan.dossier_id.in_(dossier_ids))):
        if _scrub(bilan.answers or {}, needles) != bilan.answers:
            bilan.answers = _scrub(bilan.answers or {}, needles)


def _anonymise(session: Session, target: User, now: datetime) -> None:
    uid, old_email, old_name = target.id, target.email, (target.full_name or "").strip()
    needles = [old_email] + ([old_name] if len(old_name) >= 3 else [])
    organisation_ids = [o.id for o in target.organisations]
    # the dossiers they filed or their organisations hold: history, messages, answers, mails
    dossier_ids = select(Dossier.id).where(
        (Dossier.created_by_id == uid) | Dossier.organisation_id.in_(organisation_ids)
    )
    # the history keeps « an account did this » (not « automatic »), under the account's new address
    session.execute(update(DossierEvent).where(DossierEvent.user_id == uid).values(email=erased_email(uid)))
    session.execute(update(CpoEvent).where(CpoEvent.user_id == uid).values(email=erased_email(uid)))
    session.execute(
        update(DossierMessage)
        .where(DossierMessage.author_id == uid)
        .values(author_email=erased_email(uid), author_name=ERASED_NAME)
    )
    session.execute(
        update(Notification)
        .where((Notification.user_id == uid) | (Notification.recipient == old_email))
        .values(recipient=erased_email(uid), body_text=ERASED_TEXT, body_html=None)
    )
    _scrub_dossiers(session, dossier_ids, needles)
    for organisation in session.scalars(select(Organisation).where(Organisation.id.in_(organisation_ids))):
        if (organisation.representative_email or "").lower() == old_email.lower():
            organisation.representative_email = None
            organisation.representative_name = None
            organisation.representative_first_name = None
        if (organisation.email or "").lower() == old_email.lower():
            organisation.email = None
    for table in (AccountToken, JoinRequest, NotificationPreference, Membership):
        session.execute(delete(table).where(table.user_id == uid))
    target.email = erased_email(uid)
    target.full_name = ERASED_NAME
    target.password_hash = "!"  # matches no password
    target.active = False
    target.erased_at = now
    cut_sessions(session, target)
