"""The dossier's year: create, save answers, fire transitions, read history; the only writer of dossiers.

Each write loads the dossier under a lock, asks the pure core (`workflows`, `forms`), then writes the
new state, the history row and the outbox messages in one transaction.
"""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from aap.attachments import pieces
from aap.campaigns.forms import campaign_form, form_context
from aap.campaigns.service import get_campaign
from aap.dossiers.access import visible_dossiers
from aap.dossiers.effects import TABLE as EFFECTS
from aap.dossiers.effects import PreconditionContext, TransitionContext
from aap.dossiers.targets import sync_targets
from aap.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from aap.models import Campaign, CampaignFinanceur, Cofinancement, Dossier, DossierEvent, Organisation, User
from aap.territories.numbering import next_dossier_number
from forms import FieldError, Form, FormContext, load_form
from workflows import dossier as lifecycle
from workflows.dossier import CofinancementFact, DossierFacts, Reason, TransitionRefused

# The time stamps that measure the public service, set by the transition that reaches them.
STAMPS = {
    "deposer": "deposited_at",
    "prendre_en_instruction": "instruction_started_at",
    "terminer_instruction": "instruit_at",
    "rendre_avis": "avis_at",
    "programmer": "decided_at",
    "rejeter": "decided_at",
    "conventionner": "conventionne_at",
    "deposer_bilan": "bilan_deposited_at",
    "valider_bilan": "closed_at",
}
EDITABLE_STATES = lifecycle.EDITABLE_STATES
REFUSAL_STATUS = {"unknown": NotFound, "forbidden": Forbidden, "wrong_state": Conflict, "conditions": Invalid}


def field_errors(errors: list[FieldError]) -> list[dict[str, str]]:
    return [{"path": e.path, "code": e.code, "message": e.message} for e in errors]


def reasons_out(reasons: list[Reason]) -> list[dict[str, Any]]:
    return [{"code": r.code, "message": r.message, "field": r.field} for r in reasons]


# --- reading ---------------------------------------------------------------------------------------


def _with_lines(query):  # type: ignore[no-untyped-def]
    return query.options(
        selectinload(Dossier.cofinancements).selectinload(Cofinancement.financeur),
        selectinload(Dossier.cofinancements).selectinload(Cofinancement.payments),
        selectinload(Dossier.organisation),
    )


def get_dossier(session: Session, user: User, dossier_id: int, *, lock: bool = False) -> Dossier:
    query = _with_lines(visible_dossiers(user).where(Dossier.id == dossier_id))
    if lock:
        query = query.with_for_update(of=Dossier)
    dossier = session.scalar(query)
    if dossier is None:
        raise NotFound("Dossier introuvable.", code="dossier_introuvable")
    return dossier


def list_dossiers(
    session: Session,
    user: User,
    *,
    campaign_id: int | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Dossier], int]:
    query = visible_dossiers(user)
    if campaign_id is not None:
        query = query.where(Dossier.campaign_id == campaign_id)
    if state is not None:
        query = query.where(Dossier.state == state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(_with_lines(query).order_by(Dossier.id).limit(limit).offset(offset)).all()
    return list(items), total


def history(session: Session, user: User, dossier_id: int) -> list[DossierEvent]:
    get_dossier(session, user, dossier_id)
    return list(
        session.scalars(
            select(DossierEvent).where(DossierEvent.dossier_id == dossier_id).order_by(DossierEvent.id)
        )
    )


def transitions_for(user: User, dossier: Dossier) -> list[str]:
    """The transitions this caller may fire now on this dossier (role and state; conditions say 422)."""
    return lifecycle.available(dossier.state, user.role)


# --- creating and saving ---------------------------------------------------------------------------


def _organisation_of(user: User, organisation_id: int | None) -> Organisation:
    orgs = {o.id: o for o in user.organisations}
    if organisation_id is None:
        if not orgs:
            raise Invalid("Votre compte n'est rattaché à aucune organisation.", code="sans_organisation")
        return next(iter(orgs.values()))
    if organisation_id not in orgs:
        raise NotFound("Organisation introuvable.", code="organisation_introuvable")
    return orgs[organisation_id]


def create_dossier(
    session: Session,
    user: User,
    campaign_id: int,
    now: datetime,
    *,
    organisation_id: int | None = None,
    answers: dict[str, Any] | None = None,
    reconducted_from: Dossier | None = None,
) -> Dossier:
    """A new brouillon for one of the caller's organisations, prefilled from its profile."""
    if user.role != "porteur":
        raise Forbidden("Seul un porteur de projet peut créer un dossier.", code="role_interdit")
    campaign = get_campaign(session, user, campaign_id)
    if not campaign.depot_ouverture <= now.date() <= campaign.depot_cloture:
        raise Invalid(
            f"Le dépôt de l'appel à projets « {campaign.title} » est ouvert du "
            f"{lifecycle.fr_date(campaign.depot_ouverture)} au {lifecycle.fr_date(campaign.depot_cloture)} : "
            "aucun nouveau dossier n'est possible aujourd'hui.",
            code="depot_ferme",
        )
    organisation = _organisation_of(user, organisation_id)
    form = campaign_form(campaign)
    initial = form.prefill(organisation.profile())
    if answers:
        initial = form.merge(initial, answers)
    dossier = Dossier(
        number=next_dossier_number(session, campaign.territory_id, campaign.year),
        campaign_id=campaign.id,
        organisation_id=organisation.id,
        state=lifecycle.INITIAL_STATE,
        version=1,
        form_code=form.code,
        form_version=form.version,
        answers=initial,
        title=form.title_of(initial),
        created_by_id=user.id,
        created_at=now,
        updated_at=now,
        reconducted_from_id=reconducted_from.id if reconducted_from else None,
    )
    session.add(dossier)
    session.flush()
    _sync_cofinancements(session, dossier, campaign, form_context(session, campaign))
    sync_targets(session, dossier)
    _record(session, dossier, "creer", None, lifecycle.INITIAL_STATE, user, now, None, {})
    session.commit()
    return get_dossier(session, user, dossier.id)


def reconduct_dossier(
    session: Session, user: User, dossier_id: int, campaign_id: int, now: datetime
) -> Dossier:
    """Next campaign's brouillon from a previous dossier of the same organisation: descriptions kept,
    dates, amounts and attestation to give again, the identification refreshed from the profile."""
    previous = get_dossier(session, user, dossier_id)
    if user.role != "porteur":
        raise Forbidden("Seul un porteur de projet reconduit un dossier.", code="role_interdit")
    campaign = get_campaign(session, user, campaign_id)
    if campaign.id == previous.campaign_id:
        raise Invalid(
            "Ce dossier appartient déjà à cet appel à projets : choisissez l'appel suivant.",
            code="meme_campagne",
        )
    form = campaign_form(campaign)
    if form.code != previous.form_code:
        raise Invalid(
            "Ce dossier a été écrit sur un autre formulaire que celui de cet appel à projets : "
            "il ne peut pas être reconduit ici.",
            code="formulaire_different",
        )
    already = session.scalar(
        select(Dossier.id)
        .where(
            Dossier.campaign_id == campaign.id,
            Dossier.reconducted_from_id == previous.id,
            Dossier.state.not_in(("abandonne", "non_depose")),
        )
        .limit(1)
    )
    if already is not None:
        raise Conflict(
            "Ce dossier a déjà été reconduit dans cet appel à projets.",
            code="deja_reconduit",
            errors=[
                {
                    "path": "dossier_id",
                    "code": "deja_reconduit",
                    "message": f"dossier déjà reconduit (dossier n° {already})",
                }
            ],
        )
    answers = form.reconduct(previous.answers or {}, form_context(session, campaign))
    answers = form.merge(answers, form.prefill(previous.organisation.profile()))
    return create_dossier(
        session,
        user,
        campaign.id,
        now,
        organisation_id=previous.organisation_id,
        answers=answers,
        reconducted_from=previous,
    )


def check_version(dossier: Dossier, if_match: int | None) -> None:
    if if_match is not None and if_match != dossier.version:
        raise PreconditionFailed(
            f"Le dossier a été modifié entre-temps (version {dossier.version}, vous aviez la version "
            f"{if_match}) : rechargez-le, vos modifications n'ont pas été enregistrées.",
            code="version_perimee",
        )


def _may_edit(user: User, dossier: Dossier, campaign: Campaign, today: date) -> None:
    """A brouillon is edited until the deadline (or its extension); a deposed dossier until instruction
    starts, while the window is open or, when the call allows it, after; compléments always."""
    if user.role != "porteur":
        raise Forbidden("Seul le porteur de projet modifie les réponses du dossier.", code="role_interdit")
    window_open = today <= campaign.depot_cloture or (
        dossier.extension_until is not None and today <= dossier.extension_until
    )
    if dossier.state == "brouillon" and not window_open:
        raise Conflict("Le dépôt est clos : le brouillon ne peut plus être modifié.", code="depot_clos")
    if dossier.state == "depose" and not (window_open or campaign.late_completion):
        raise Conflict("Le dépôt est clos : le dossier déposé ne se modifie plus.", code="depot_clos")
    if dossier.state not in EDITABLE_STATES:
        raise Conflict(
            f"Un dossier à l'état « {lifecycle.STATE_LABELS[dossier.state]} » ne se modifie plus.",
            code="dossier_non_modifiable",
        )


def check_editable(user: User, dossier: Dossier, today: date) -> None:
    """Refuses (403/409) when this caller may not change this dossier today (answers or files)."""
    _may_edit(user, dossier, dossier.campaign, today)


def update_answers(
    session: Session, user: User, dossier_id: int, patch: dict[str, Any], if_match: int | None, now: datetime
) -> Dossier:
    """Saves a partial set of answers; an incomplete draft is fine, a wrong value is not."""
    dossier = get_dossier(session, user, dossier_id, lock=True)
    check_version(dossier, if_match)
    campaign = dossier.campaign
    _may_edit(user, dossier, campaign, now.date())
    form = campaign_form_of(dossier)
    ctx = form_context(session, campaign)
    merged = form.merge(dossier.answers, patch)
    errors = form.check_partial(merged, ctx) + pieces.reference_errors(session, dossier, form, merged)
    if errors:
        raise Invalid(
            "Certaines réponses sont invalides ; rien n'a été enregistré.",
            code="reponses_invalides",
            errors=field_errors(errors),
        )
    dossier.answers = merged
    dossier.title = form.title_of(merged)
    dossier.version += 1
    dossier.updated_at = now
    _sync_cofinancements(session, dossier, campaign, ctx)
    sync_targets(session, dossier)
    session.commit()
    return get_dossier(session, user, dossier.id)


def campaign_form_of(dossier: Dossier) -> Form:
    """The form version the dossier was started with (a new version for next year breaks nothing)."""
    return load_form(dossier.form_code, dossier.form_version)


def _sync_cofinancements(session: Session, dossier: Dossier, campaign: Campaign, ctx: FormContext) -> None:
    """The cofinancement lines follow the budget's financements while the porteur may edit."""
    form = campaign_form_of(dossier)
    requested = form.requested_amounts(dossier.answers, ctx)
    lines = {line.financeur.code: line for line in dossier.cofinancements}
    by_code: dict[str, CampaignFinanceur] = {cf.financeur.code: cf for cf in campaign.financeurs}
    for code, amount in requested.items():
        if code not in by_code:
            continue
        line = lines.get(code)
        if line is None:
            dossier.cofinancements.append(
                Cofinancement(
                    financeur_id=by_code[code].financeur_id, montant_demande=amount, state="sollicite"
                )
            )
        elif line.decision is None:
            line.montant_demande = amount
    for code, line in lines.items():
        if code not in requested and line.decision is None and line.montant_propose is None:
            dossier.cofinancements.remove(line)
    session.flush()


# --- transitions -----------------------------------------------------------------------------------


def _facts(
    session: Session, dossier: Dossier, name: str, now: datetime, payload: dict[str, Any]
) -> DossierFacts:
    campaign = dossier.campaign
    form_errors: list[Reason] = []
    if name == "deposer" and dossier.state == "brouillon":
        form = campaign_form_of(dossier)
        form_errors = pieces.deposit_reasons(
            session, dossier, form, form.check_complete(dossier.answers, form_context(session, campaign))
        )
        if not dossier.cofinancements and not any(
            r.field and r.field.startswith("budget") for r in form_errors
        ):
            form_errors.append(
                Reason(
                    "aucun_financeur",
                    "Sollicitez au moins un financeur dans le budget.",
                    "budget.financements",
                )
            )
    return DossierFacts(
        now=now,
        depot_ouverture=campaign.depot_ouverture,
        depot_cloture=campaign.depot_cloture,
        extension_until=dossier.extension_until,
        form_errors=form_errors,
        extra_reasons=EFFECTS.reasons(PreconditionContext(session, dossier, name, now, payload)),
        cofinancements=[
            CofinancementFact(line.financeur.code, line.montant_propose, line.decision)
            for line in dossier.cofinancements
        ],
        payload=payload,
    )


def _refusal(refused: TransitionRefused) -> Exception:
    """The HTTP-facing error of a refused transition: 404, 403, 409 or 422 with every reason."""
    error = REFUSAL_STATUS[refused.kind]
    if refused.kind == "conditions":
        message = "L'action n'est pas possible : " + " ; ".join(r.message for r in refused.reasons)
        return error(message, code="conditions_non_remplies", errors=reasons_out(refused.reasons))
    first = refused.reasons[0]
    return error(first.message, code=first.code, errors=reasons_out(refused.reasons))


def _record(
    session: Session,
    dossier: Dossier,
    transition: str,
    from_state: str | None,
    to_state: str,
    user: User | None,
    now: datetime,
    comment: str | None,
    data: dict[str, Any],
) -> DossierEvent:
    event = DossierEvent(
        dossier_id=dossier.id,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        user_id=user.id if user else None,
        email=user.email if user else None,
        role=user.role if user else "system",
        at=now,
        comment=comment,
        data=data,
    )
    session.add(event)
    session.flush()
    return event


def _move(
    session: Session,
    dossier: Dossier,
    name: str,
    role: str,
    user: User | None,
    now: datetime,
    payload: dict[str, Any],
    data_dir: Path | None = None,
) -> DossierEvent:
    """Fire `name` (the pure core decides), stamp, record history, run the effects table; no commit."""
    try:
        new_state = lifecycle.fire(name, dossier.state, role, _facts(session, dossier, name, now, payload))
    except TransitionRefused as refused:
        raise _refusal(refused) from refused
    from_state = dossier.state
    dossier.state = new_state
    dossier.version += 1
    dossier.updated_at = now
    data: dict[str, Any] = {}
    if name in STAMPS:
        setattr(dossier, STAMPS[name], now)
    if name == "demander_complements":
        dossier.complements_due = payload["due_date"]
        dossier.complements_message = payload.get("comment")
        data["due_date"] = dossier.complements_due.isoformat() if dossier.complements_due else None
    elif name == "completer":
        dossier.complements_due = None
    elif name == "rendre_avis":
        dossier.avis = payload["avis"]
        data["avis"] = dossier.avis
    elif name == "conventionner":
        dossier.bilan_due = dossier.campaign.date_of("bilan_limite")
    elif name == "valider_bilan":
        dossier.bilan_due = None
    event = _record(session, dossier, name, from_state, new_state, user, now, payload.get("comment"), data)
    EFFECTS.run(TransitionContext(session, dossier, event, user, now, payload, data_dir))
    return event


def fire_transition(
    session: Session,
    user: User,
    dossier_id: int,
    name: str,
    payload: dict[str, Any],
    now: datetime,
    if_match: int | None = None,
    data_dir: Path | None = None,
) -> Dossier:
    """`data_dir` is where the documents `conventionner` generates are stored (default: the settings')."""
    dossier = move(session, user, dossier_id, name, payload, now, if_match=if_match, data_dir=data_dir)
    session.commit()
    return get_dossier(session, user, dossier.id)


def move(
    session: Session,
    user: User,
    dossier_id: int,
    name: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    if_match: int | None = None,
    data_dir: Path | None = None,
) -> Dossier:
    """`fire_transition` without the commit, for a caller moving several dossiers all or nothing."""
    dossier = get_dossier(session, user, dossier_id, lock=True)
    check_version(dossier, if_match)
    if user.role == "financeur":
        raise Forbidden(
            "Un financeur enregistre ses décisions, il ne fait pas avancer le dossier.", code="role_interdit"
        )
    _move(session, dossier, name, user.role, user, now, payload, data_dir)
    program_if_decided(session, dossier, now)
    return dossier


def record_decision(
    session: Session, dossier: Dossier, user: User, now: datetime, line: Cofinancement
) -> None:
    """A financer's decision is part of the dossier's history (and may bring a message)."""
    data = {
        "financeur": line.financeur.code,
        "decision": line.decision,
        "montant": f"{line.montant_accorde:.2f}" if line.montant_accorde is not None else None,
    }
    event = _record(
        session, dossier, "decision_financeur", dossier.state, dossier.state, user, now, line.motif, data
    )
    EFFECTS.run(TransitionContext(session, dossier, event, user, now))


def program_if_decided(session: Session, dossier: Dossier, now: datetime) -> str | None:
    """Once every solicited financer has decided, the dossier programs or rejects itself."""
    if dossier.state != "avise":
        return None
    name = lifecycle.after_decisions([line.decision for line in dossier.cofinancements])
    if name is None:
        return None
    _move(session, dossier, name, "system", None, now, {})
    return name


def grant_extension(
    session: Session, user: User, dossier_id: int, until: date, reason: str, now: datetime
) -> Dossier:
    """An instructeur gives one dossier more time to be deposited, with its reason."""
    if user.role not in ("instructeur", "admin"):
        raise Forbidden("Seul un instructeur accorde un délai.", code="role_interdit")
    dossier = get_dossier(session, user, dossier_id, lock=True)
    if dossier.state not in ("brouillon", "non_depose"):
        raise Conflict(
            "Un délai de dépôt ne concerne qu'un dossier pas encore déposé.", code="etat_incompatible"
        )
    problems = []
    if not reason.strip():
        problems.append({"path": "reason", "code": "required", "message": "Indiquez le motif du délai."})
    if until < now.date():
        problems.append(
            {"path": "until", "code": "date_passee", "message": "Le nouveau délai est déjà passé."}
        )
    if problems:
        raise Invalid("Le délai n'a pas été accordé.", code="delai_invalide", errors=problems)
    from_state = dossier.state
    dossier.extension_until, dossier.extension_reason = until, reason.strip()
    if dossier.state == "non_depose":
        dossier.state = "brouillon"  # reopened by the extension
    dossier.version += 1
    _record(
        session,
        dossier,
        "accorder_delai",
        from_state,
        dossier.state,
        user,
        now,
        reason.strip(),
        {"until": until.isoformat()},
    )
    session.commit()
    return get_dossier(session, user, dossier.id)


def advance(session: Session, now: datetime, batch: int = 200) -> int:
    """Fires the transitions the clock makes due (drafts past the dépôt deadline → non_depose).

    Idempotent (a moved dossier is no longer a brouillon) and driven by the indexed deadline, so its
    cost follows what is due, not the number of dossiers. Commits each dossier on its own.
    """
    today = now.date()
    due = (
        select(Dossier.id)
        .join(Campaign, Campaign.id == Dossier.campaign_id)
        .where(
            Dossier.state == "brouillon",
            Campaign.depot_cloture < today,
            or_(Dossier.extension_until.is_(None), Dossier.extension_until < today),
        )
        .order_by(Dossier.id)
        .limit(batch)
    )
    moved, after = 0, 0
    while ids := list(session.scalars(due.where(Dossier.id > after))):
        after = ids[-1]
        for dossier_id in ids:
            dossier = session.scalar(
                _with_lines(select(Dossier).where(Dossier.id == dossier_id)).with_for_update()
            )
            if dossier is not None and "expirer" in lifecycle.time_driven(
                dossier.state, _facts_light(dossier, now)
            ):
                _move(session, dossier, "expirer", "system", None, now, {})
                moved += 1
            session.commit()
    return moved


def _facts_light(dossier: Dossier, now: datetime) -> DossierFacts:
    return DossierFacts(
        now=now,
        depot_ouverture=dossier.campaign.depot_ouverture,
        depot_cloture=dossier.campaign.depot_cloture,
        extension_until=dossier.extension_until,
    )


def requested_total(dossier: Dossier) -> Decimal:
    return sum((line.montant_demande for line in dossier.cofinancements), Decimal("0.00"))
