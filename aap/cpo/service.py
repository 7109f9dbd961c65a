"""The CPO's life: proposed from a dossier, signed by each financer, resiliated; the only writer of CPOs.

Each write checks everything first (the pure core in `workflows.cpo`, the envelopes), then writes the
CPO, its years, its planned amounts and its history row in one transaction: a refused proposal writes
nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.clock import territory_now, territory_today
from aap.cpo import repository
from aap.dossiers import service as dossiers
from aap.errors import Conflict, Forbidden, Invalid, NotFound
from aap.models import Campaign, Cpo, CpoAnnee, CpoEvent, CpoMontant, CpoSignataire, Dossier, Financeur, User
from workflows import cpo as lifecycle
from workflows.cofinancement import format_euros
from workflows.cpo import CpoFacts
from workflows.dossier import TransitionRefused
from workflows.reasons import Reason

ORIGIN_STATES = ("programme", "conventionne")


def get_cpo(session: Session, user: User, cpo_id: int, *, lock: bool = False) -> Cpo:
    query = repository.with_details(repository.visible_cpos(user).where(Cpo.id == cpo_id))
    if lock:
        query = query.with_for_update(of=Cpo)
    cpo = session.scalar(query)
    if cpo is None:
        raise NotFound("CPO introuvable.", code="cpo_introuvable")
    return cpo


def transitions_for(user: User, cpo: Cpo) -> list[str]:
    names = lifecycle.available(cpo.state, user.role)
    if "signer" in names:
        mine = next((s for s in cpo.signataires if s.financeur_id == user.financeur_id), None)
        if mine is None or mine.signed_at is not None:
            names.remove("signer")
    return names


def planned(cpo: Cpo) -> dict[str, list[Decimal]]:
    """Each signing financer's yearly amounts, in year order."""
    out: dict[str, list[Decimal]] = {s.financeur.code: [] for s in cpo.signataires}
    for annee in cpo.annees:
        by_fid = {m.financeur_id: m.prevu for m in annee.montants}
        for s in cpo.signataires:
            out[s.financeur.code].append(by_fid.get(s.financeur_id, Decimal("0.00")))
    return out


def _refused(message: str, reasons: list[Reason], code: str | None = None) -> Invalid:
    return Invalid(
        message + " " + " ; ".join(r.message for r in reasons),
        code=code or reasons[0].code,
        errors=dossiers.reasons_out(reasons),
    )


def _refusal(refused: TransitionRefused) -> Exception:
    error = dossiers.REFUSAL_STATUS[refused.kind]
    if refused.kind == "conditions":
        return _refused("L'action n'est pas possible :", refused.reasons, "conditions_non_remplies")
    first = refused.reasons[0]
    return error(first.message, code=first.code, errors=dossiers.reasons_out(refused.reasons))


def _envelope_reasons(
    session: Session,
    territory_id: int,
    kind: str,
    amounts: dict[int, tuple[str, list[Decimal]]],
    annees: list[int],
    excluding: int | None,
    origin: int | None = None,
) -> list[Reason]:
    """A financer plans no more in a year than its enveloppe of that year leaves, once it exists.

    The enveloppe rows are locked, so two proposals racing for the last euros cannot both pass."""
    reasons = []
    for fid, (code, values) in sorted(amounts.items()):
        for i, (annee, amount) in enumerate(zip(annees, values, strict=False)):
            envelope = repository.envelope_of_year(session, territory_id, kind, fid, annee, lock=True)
            if envelope is None or amount == 0:
                continue
            already = repository.planned_in_year(session, territory_id, fid, annee, excluding=excluding)
            left = envelope.enveloppe - repository.accorded_outside_cpo(
                session, envelope.campaign_id, fid, excluding_dossier=origin
            )
            if already + amount > left:
                reasons.append(
                    Reason(
                        "enveloppe_depassee",
                        f"{code} {annee} : {format_euros(amount)} prévus en plus des "
                        f"{format_euros(already)} déjà prévus en CPO dépasseraient l'enveloppe, "
                        f"dont il reste {format_euros(left)} hors CPO.",
                        f"financeurs.{code}.{i}",
                    )
                )
    return reasons


def _record(
    session: Session,
    cpo: Cpo,
    transition: str,
    from_state: str | None,
    user: User | None,
    now: datetime,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
) -> CpoEvent:
    event = CpoEvent(
        cpo_id=cpo.id,
        transition=transition,
        from_state=from_state,
        to_state=cpo.state,
        user_id=user.id if user else None,
        email=user.email if user else None,
        role=user.role if user else "system",
        at=now,
        comment=comment,
        data=data or {},
    )
    session.add(event)
    session.flush()
    return event


def propose(
    session: Session,
    user: User,
    dossier_id: int,
    annees: object,
    financeurs: object,
    now: datetime,
    *,
    objectifs: str | None = None,
    indicateurs: str | None = None,
) -> Cpo:
    """An instructeur proposes a CPO from a programmed or conventioned dossier: a CPO `projet`."""
    if user.role not in ("instructeur", "admin"):
        raise Forbidden("Seul un instructeur propose une CPO.", code="role_interdit")
    dossier = dossiers.get_dossier(session, user, dossier_id, lock=True)
    if dossier.state not in ORIGIN_STATES:
        raise Conflict(
            "Une CPO se propose à partir d'un dossier programmé ou conventionné.", code="etat_incompatible"
        )
    if dossier.cpo_id is not None or session.scalar(
        select(Cpo.id).where(Cpo.dossier_origine_id == dossier.id, Cpo.state.in_(repository.LIVE_STATES))
    ):
        raise Conflict("Ce dossier fait déjà l'objet d'une CPO.", code="deja_en_cpo")
    campaign: Campaign = dossier.campaign
    territory_financeurs = {
        f.code: f
        for f in session.scalars(select(Financeur).where(Financeur.territory_id == campaign.territory_id))
    }
    amounts, reasons = lifecycle.check_proposal(annees, financeurs, list(territory_financeurs))
    years: list[int] = annees if isinstance(annees, list) and not reasons else []
    if years and years[0] < campaign.year:
        reasons.append(
            Reason(
                "annees_passees",
                f"La première année de la CPO ne peut précéder celle du dossier ({campaign.year}).",
                "annees",
            )
        )
    if not reasons:
        by_fid = {territory_financeurs[c].id: (c, v) for c, v in amounts.items()}
        reasons = _envelope_reasons(
            session, campaign.territory_id, campaign.kind, by_fid, years, None, dossier.id
        )
    if reasons:
        raise _refused("La CPO n'a pas été créée :", reasons)
    cpo = Cpo(
        territory_id=campaign.territory_id,
        organisation_id=dossier.organisation_id,
        dossier_origine_id=dossier.id,
        action=dossier.title or f"Action du dossier {dossier.number}",
        objectifs=objectifs,
        indicateurs=indicateurs,
        state=lifecycle.INITIAL_STATE,
        version=1,
        created_by_id=user.id,
        created_at=now,
        updated_at=now,
    )
    for position, code in enumerate(amounts):
        cpo.signataires.append(CpoSignataire(financeur_id=territory_financeurs[code].id, position=position))
    for i, year in enumerate(years):
        annee = CpoAnnee(annee=year, dossier_id=dossier.id if year == campaign.year else None)
        for code, values in amounts.items():
            annee.montants.append(CpoMontant(financeur_id=territory_financeurs[code].id, prevu=values[i]))
        cpo.annees.append(annee)
    session.add(cpo)
    session.flush()
    _record(
        session,
        cpo,
        "proposer",
        None,
        user,
        now,
        None,
        {"annees": years, "financeurs": {c: [f"{v:.2f}" for v in vs] for c, vs in amounts.items()}},
    )
    session.commit()
    return get_cpo(session, user, cpo.id)


def facts(
    cpo: Cpo, now: datetime, user: User | None = None, payload: dict[str, Any] | None = None
) -> CpoFacts:
    return CpoFacts(
        now=territory_now(cpo, now),  # its years begin and end at midnight in its territory
        annees=[a.annee for a in cpo.annees],
        planned=planned(cpo),
        signed={s.financeur.code for s in cpo.signataires if s.signed_at is not None},
        signer=user.financeur.code if user is not None and user.financeur is not None else None,
        payload=payload or {},
    )


def move(
    session: Session,
    cpo: Cpo,
    name: str,
    role: str,
    user: User | None,
    now: datetime,
    payload: dict[str, Any],
) -> None:
    """Fire `name` (the pure core decides), apply it, record it, then the automatic steps it brings."""
    try:
        new_state = lifecycle.fire(name, cpo.state, role, facts(cpo, now, user, payload))
    except TransitionRefused as refused:
        raise _refusal(refused) from refused
    from_state = cpo.state
    data: dict[str, Any] = {}
    comment = payload.get("comment")
    if name == "signer":
        assert user is not None and user.financeur is not None
        mine = next(s for s in cpo.signataires if s.financeur_id == user.financeur_id)
        amounts = planned(cpo)[user.financeur.code]
        territory_kind = cpo.dossier_origine.campaign.kind
        reasons = _envelope_reasons(
            session,
            cpo.territory_id,
            territory_kind,
            {user.financeur_id: (user.financeur.code, amounts)},  # type: ignore[dict-item]
            [a.annee for a in cpo.annees],
            cpo.id,
        )
        if reasons:
            raise _refused("Signature refusée :", reasons)
        mine.signed_at, mine.signed_by_id = now, user.id
        data = {"financeur": user.financeur.code, "montants": [f"{v:.2f}" for v in amounts]}
    elif name == "resilier":
        cpo.motif_resiliation = (payload.get("motif") or payload.get("comment") or "").strip()
        comment = cpo.motif_resiliation
    cpo.state = new_state
    cpo.version += 1
    cpo.updated_at = now
    _record(session, cpo, name, from_state, user, now, comment, data)
    session.flush()
    for automatic in lifecycle.time_driven(cpo.state, facts(cpo, now)):
        move(session, cpo, automatic, "system", None, now, {})
        break


def fire_transition(
    session: Session, user: User, cpo_id: int, name: str, payload: dict[str, Any], now: datetime
) -> Cpo:
    cpo = get_cpo(session, user, cpo_id, lock=True)
    move(session, cpo, name, user.role, user, now, payload)
    session.commit()
    return get_cpo(session, user, cpo.id)


def record_advance_before_bilan(
    session: Session, user: User, cpo_id: int, annee: int, financeur: str, justification: str, now: datetime
) -> Cpo:
    """An admin records that this year's avance was voted before last year's bilan: the payment guard
    lets that financer's avance through, and the history keeps why."""
    if user.role != "admin":
        raise Forbidden(
            "Seule l'équipe du contrat de ville enregistre une avance votée avant le bilan.",
            code="role_interdit",
        )
    cpo = get_cpo(session, user, cpo_id, lock=True)
    problems = []
    if annee not in [a.annee for a in cpo.annees]:
        problems.append(
            {"path": "annee", "code": "annee_hors_cpo", "message": f"{annee} n'est pas une année de la CPO."}
        )
    if financeur not in planned(cpo):
        problems.append(
            {
                "path": "financeur",
                "code": "non_signataire",
                "message": f"« {financeur} » ne signe pas cette CPO.",
            }
        )
    if not justification or not justification.strip():
        problems.append(
            {
                "path": "justification",
                "code": "justification_requise",
                "message": "Indiquez la justification (vote, délibération…).",
            }
        )
    if problems:
        raise Invalid("L'avance n'a pas été enregistrée.", code="avance_invalide", errors=problems)
    if cpo.state not in ("signee", "active"):
        raise Conflict(
            "Une avance ne s'enregistre que sur une CPO signée ou en cours.", code="etat_incompatible"
        )
    _record(
        session,
        cpo,
        "avance_avant_bilan",
        cpo.state,
        user,
        now,
        justification.strip(),
        {"annee": annee, "financeur": financeur},
    )
    cpo.version += 1
    session.commit()
    return get_cpo(session, user, cpo.id)


def history(session: Session, user: User, cpo_id: int) -> list[CpoEvent]:
    get_cpo(session, user, cpo_id)
    return repository.history(session, cpo_id)


def yearly_dossier_ids(cpo: Cpo) -> list[int]:
    return [a.dossier_id for a in cpo.annees if a.dossier_id is not None]


def origin_dossier(cpo: Cpo) -> Dossier:
    return cpo.dossier_origine


def view(session: Session, user: User, cpo: Cpo, now: datetime) -> dict[str, Any]:
    """The CPO as the API and the pages show it: years, planned, accorded and paid, what the caller may do
    (on the day it is in its territory)."""
    from aap.cpo.schemas import cpo_out

    figures = repository.year_figures(session, cpo.id)
    return cpo_out(cpo, transitions_for(user, cpo), figures, territory_today(cpo, now))
