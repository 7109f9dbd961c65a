"""Avis asked of partners and sector services; the only writer of `avis_partenaires`.

An instructeur asks a partner account of the territory (a sector service, a bailleur, the Éducation
nationale…) for its avis on a dossier, with a question and a deadline; the partner reads the dossier
and answers favorable, réservé or défavorable with a text; the instructeurs are told; the avis shows on
the dossier and on the comité's sitting page. Who reads what is decided here: the team and the partner
asked; never the porteur (it is part of the instruction).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session, selectinload

from aap.clock import contract_days, territory_today
from aap.dossiers.service import get_dossier
from aap.errors import Conflict, Forbidden, Invalid, NotFound
from aap.models import AvisPartenaire, Dossier, User
from aap.settings import get_settings
from notifications.events import DossierNews, after_transition
from workflows.labels import PARTNER_AVIS_LABELS

ASKABLE_STATES = ("depose", "en_instruction", "complements_demandes", "instruit")
MAX_TEXT = 5000
PAGE_SIZE = 50  # the partner's list, a page at a time
MAX_LIMIT = 500


def _error(path: str, code: str, message: str) -> dict[str, str]:
    return {"path": path, "code": code, "message": message}


def partners_of(session: Session, user: User) -> list[User]:
    """The partner accounts an instructeur of this territory may ask."""
    return list(
        session.scalars(
            select(User)
            .where(User.role == "partenaire", User.territory_id == user.territory_id, User.active.is_(True))
            .order_by(User.full_name, User.email)
        )
    )


def request_avis(
    session: Session,
    user: User,
    dossier_id: int,
    partner_email: str,
    question: str,
    due: date | None,
    now: datetime,
) -> AvisPartenaire:
    if user.role not in ("instructeur", "admin"):
        raise Forbidden("Seule l'instruction demande l'avis d'un partenaire.", code="role_interdit")
    dossier = get_dossier(session, user, dossier_id, lock=True)
    errors = []
    partner = session.scalar(
        select(User).where(
            func.lower(User.email) == (partner_email or "").strip().lower(),
            User.role == "partenaire",
            User.territory_id == user.territory_id,
            User.active.is_(True),
        )
    )
    if partner is None:
        errors.append(
            _error(
                "destinataire",
                "partenaire_inconnu",
                "Choisissez un partenaire ou un service du contrat de ville.",
            )
        )
    if not (question or "").strip():
        errors.append(_error("question", "required", "Posez la question à laquelle le partenaire répond."))
    elif len(question) > MAX_TEXT:
        errors.append(_error("question", "trop_long", f"{MAX_TEXT} caractères au plus."))
    if due is None:
        errors.append(_error("date_limite", "required", "Indiquez la date limite de l'avis."))
    elif due <= territory_today(dossier.campaign, now):
        errors.append(
            _error("date_limite", "date_passee", "La date limite doit être postérieure à aujourd'hui.")
        )
    if dossier.state not in ASKABLE_STATES:
        raise Conflict(
            "Un avis se demande pendant l'instruction, avant le comité technique.", code="etat_incompatible"
        )
    if errors:
        raise Invalid("L'avis n'a pas été demandé.", code="demande_avis_invalide", errors=errors)
    assert partner is not None and due is not None
    request = AvisPartenaire(
        dossier_id=dossier.id,
        partner_id=partner.id,
        requested_by_id=user.id,
        question=question.strip(),
        due_date=due,
        requested_at=now,
    )
    session.add(request)
    session.flush()
    _tell(session, dossier, request, "avis_demande", now)
    session.commit()
    return request


def _facts(request: AvisPartenaire) -> dict[str, object]:
    partner = request.partner
    return {
        "question": request.question,
        "date_limite": request.due_date.isoformat(),
        "service": partner.full_name or partner.email,
        "avis_label": PARTNER_AVIS_LABELS.get(request.avis or "", ""),
        "texte": request.texte or "",
        "lien": f"{get_settings().base_url.rstrip('/')}/avis/{request.id}",
        "destinataire": {"user_id": partner.id, "email": partner.email, "name": partner.full_name},
    }


def _tell(
    session: Session, dossier: Dossier, request: AvisPartenaire, event: str, now: datetime, key: str = ""
) -> None:
    news = DossierNews(f"a{request.id}{key}", event, now, None, _facts(request))
    after_transition(session, dossier, news, now)


def _readable(user: User) -> Select[AvisPartenaire]:
    query = select(AvisPartenaire).options(selectinload(AvisPartenaire.partner))
    if user.role == "partenaire":
        return query.where(AvisPartenaire.partner_id == user.id)
    if user.role in ("instructeur", "admin"):
        return query
    return query.where(false())


def for_dossier(
    session: Session, user: User, dossier_id: int, *, limit: int = MAX_LIMIT, offset: int = 0
) -> list[AvisPartenaire]:
    get_dossier(session, user, dossier_id)  # a dossier the caller may not see is a 404, whoever asks
    if user.role not in ("instructeur", "admin", "partenaire"):
        return []
    return list(
        session.scalars(
            _readable(user)
            .where(AvisPartenaire.dossier_id == dossier_id)
            .order_by(AvisPartenaire.id)
            .limit(max(1, min(limit, MAX_LIMIT)))
            .offset(max(offset, 0))
        )
    )


def for_dossier_total(session: Session, user: User, dossier_id: int) -> int:
    """How many avis of this dossier the caller reads (its access checked by `for_dossier`)."""
    if user.role not in ("instructeur", "admin", "partenaire"):
        return 0
    query = _readable(user).where(AvisPartenaire.dossier_id == dossier_id)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def for_dossiers(session: Session, user: User, dossier_ids: list[int]) -> dict[int, list[AvisPartenaire]]:
    """The avis of several dossiers at once (the comité's sitting page), in one query."""
    out: dict[int, list[AvisPartenaire]] = {}
    if not dossier_ids or user.role not in ("instructeur", "admin"):
        return out
    rows = session.scalars(
        _readable(user).where(AvisPartenaire.dossier_id.in_(dossier_ids)).order_by(AvisPartenaire.id)
    )
    for row in rows:
        out.setdefault(row.dossier_id, []).append(row)
    return out


def _inbox_query(user: User, pending_only: bool) -> Select[AvisPartenaire]:
    if user.role != "partenaire":
        raise Forbidden("Cette liste est celle des partenaires consultés.", code="role_interdit")
    query = _readable(user)
    return query.where(AvisPartenaire.avis.is_(None)) if pending_only else query


def inbox(
    session: Session, user: User, *, pending_only: bool = False, limit: int = PAGE_SIZE, offset: int = 0
) -> list[AvisPartenaire]:
    """A page of the partner's requests, the most urgent first, with their dossier and its porteur."""
    dossier = selectinload(AvisPartenaire.dossier)
    query = _inbox_query(user, pending_only).options(
        dossier.selectinload(Dossier.organisation), dossier.selectinload(Dossier.campaign)
    )
    return list(
        session.scalars(
            query.order_by(AvisPartenaire.due_date, AvisPartenaire.id)
            .limit(max(1, min(limit, MAX_LIMIT)))
            .offset(max(offset, 0))
        )
    )


def is_late(request: AvisPartenaire, now: datetime) -> bool:
    """Not given and its deadline past, on the day of the dossier's territory (late from the day after)."""
    return request.avis is None and request.due_date < territory_today(request.dossier.campaign, now)


def inbox_total(session: Session, user: User, *, pending_only: bool = False) -> int:
    return session.scalar(select(func.count()).select_from(_inbox_query(user, pending_only).subquery())) or 0


def get_request(session: Session, user: User, request_id: int) -> AvisPartenaire:
    found = session.scalar(_readable(user).where(AvisPartenaire.id == request_id))
    if found is None:
        raise NotFound("Demande d'avis introuvable.", code="avis_introuvable")
    return found


def give_avis(
    session: Session, user: User, request_id: int, avis: str, texte: str, now: datetime
) -> AvisPartenaire:
    request = get_request(session, user, request_id)
    if request.partner_id != user.id:
        raise Forbidden("Seul le partenaire consulté rend cet avis.", code="role_interdit")
    if request.avis is not None:
        raise Conflict("Votre avis est déjà rendu : il ne se modifie plus.", code="avis_deja_rendu")
    errors = []
    if avis not in PARTNER_AVIS_LABELS:
        errors.append(_error("avis", "avis_invalide", "Choisissez : favorable, réservé ou défavorable."))
    if not (texte or "").strip():
        errors.append(_error("texte", "required", "Expliquez votre avis en quelques lignes."))
    elif len(texte) > MAX_TEXT:
        errors.append(_error("texte", "trop_long", f"{MAX_TEXT} caractères au plus."))
    if errors:
        raise Invalid("L'avis n'a pas été enregistré.", code="avis_invalide", errors=errors)
    dossier = session.get(Dossier, request.dossier_id)
    assert dossier is not None
    request.avis, request.texte, request.given_at = avis, texte.strip(), now
    session.flush()
    _tell(session, dossier, request, "avis_recu", now)
    session.commit()
    return request


# (reminder, first and last day of its window counted from the deadline: -3 means three days before)
REMINDER_WINDOWS = (("-bientot", -3, -1), ("-echeance", 0, 6))


def record_reminders(session: Session, now: datetime) -> int:
    """The cron pass: a reminder when the deadline is 3 days away or less, another once it is reached,
    for each avis still awaited; each once (the outbox's unique key makes a second pass, or two passes
    at once, a no-op) and a missed pass catches up for a week. The days are those of the dossier's
    contract (`aap.clock.territory_today`): the query takes the deadlines near any contract's day, each
    request is then judged on its own."""
    days = contract_days(session, now)
    earliest, latest = min(days), max(days)
    count = 0
    for key, first, last in REMINDER_WINDOWS:
        due = session.scalars(
            select(AvisPartenaire)
            .options(selectinload(AvisPartenaire.partner))
            .where(
                AvisPartenaire.avis.is_(None),
                AvisPartenaire.due_date >= earliest - timedelta(days=last),
                AvisPartenaire.due_date <= latest - timedelta(days=first),
            )
            .order_by(AvisPartenaire.id)
        )
        for request in due:
            dossier = session.get(Dossier, request.dossier_id)
            if dossier is None or dossier.state not in ASKABLE_STATES:
                continue
            if first <= (territory_today(dossier.campaign, now) - request.due_date).days <= last:
                _tell(session, dossier, request, "avis_rappel", now, key=key)
                count += 1
    session.commit()
    return count
