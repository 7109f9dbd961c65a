"""The dossier's year: create, save answers, fire transitions, read history; the only writer of dossiers.

Each write loads the dossier under a lock, asks the pure core (`workflows`, `forms`), then writes the
new state, the history row and the outbox messages in one transaction.
"""

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from aap.campaigns.forms import campaign_form, form_context
from aap.campaigns.service import depot_open, get_campaign
from aap.clock import contract_days, territory_now, territory_today
from aap.dossiers import search_columns  # noqa: F401 (keeps the list columns in sync with the answers)
from aap.dossiers.access import check_editable
from aap.dossiers.effects import TABLE as EFFECTS
from aap.dossiers.effects import AnswersContext, PreconditionContext, TransitionContext
from aap.dossiers.numbering import next_dossier_number
from aap.dossiers.repository import (
    campaign_form_of,
    get_dossier,
    history,
    list_dossiers,
    load_locked,
    past_depot_deadline,
    requested_total,
)
from aap.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from aap.models import (
    GROUPE_HABITANTS,
    Campaign,
    CampaignFinanceur,
    Cofinancement,
    Cpo,
    CpoAnnee,
    Dossier,
    DossierEvent,
    Financeur,
    Organisation,
    User,
)
from forms import FieldError, FormContext
from workflows import dossier as lifecycle
from workflows import reconduction
from workflows.cpo import TERMINAL_STATES as CPO_ENDED
from workflows.dossier import CofinancementFact, DossierFacts, Reason, TransitionRefused

__all__ = [  # the reads live in the repository; they stay importable from here for the edges
    "campaign_form_of",
    "check_editable",
    "check_version",
    "create_dossier",
    "fire_transition",
    "get_dossier",
    "grant_extension",
    "history",
    "list_dossiers",
    "program_if_decided",
    "reconduct_dossier",
    "reconduct_targets",
    "record_decision",
    "requested_total",
    "transitions_for",
    "update_answers",
]

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

Value = Callable[[Dossier, dict[str, Any]], Any]


def _payload(key: str) -> Value:
    return lambda _dossier, payload: payload.get(key)


def _campaign_date(name: str) -> Value:
    return lambda dossier, _payload: dossier.campaign.date_of(name)


def _cleared(_dossier: Dossier, _payload: dict[str, Any]) -> None:
    return None


# What a transition writes on the dossier besides its state and stamp (the other domains' writes are
# effects, see `aap/dossiers/effects.py`), and which of those values its history row keeps.
# fmt: off
WRITES: dict[str, dict[str, Value]] = {
    "demander_complements": {"complements_due": _payload("due_date"), "complements_message": _payload("comment")},
    "completer":            {"complements_due": _cleared},
    "rendre_avis":          {"avis": _payload("avis")},
    "conventionner":        {"bilan_due": _campaign_date("bilan_limite")},
    "valider_bilan":        {"bilan_due": _cleared},
}
RECORDED: dict[str, dict[str, str]] = {
    "demander_complements": {"due_date": "complements_due"},
    "rendre_avis":          {"avis": "avis"},
}
# fmt: on


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


REFUSAL_STATUS = {"unknown": NotFound, "forbidden": Forbidden, "wrong_state": Conflict, "conditions": Invalid}


def field_errors(errors: list[FieldError]) -> list[dict[str, str]]:
    return [{"path": e.path, "code": e.code, "message": e.message} for e in errors]


def reasons_out(reasons: list[Reason]) -> list[dict[str, Any]]:
    return [{"code": r.code, "message": r.message, "field": r.field} for r in reasons]


# --- reading ---------------------------------------------------------------------------------------


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


def filing_refusal(organisation: Organisation, campaign: Campaign) -> Forbidden | None:
    """Why this organisation may not file in this call (a group of inhabitants in a call for SIRET
    holders), or None: refused by `create_dossier`, said beforehand by the porteur's page."""
    if organisation.kind == GROUPE_HABITANTS and not campaign.inhabitant_groups:
        return Forbidden(
            f"L'appel à projets « {campaign.title} » s'adresse aux organismes dotés d'un SIRET ; un groupe "
            "d'habitants dépose sa demande aux appels qui l'acceptent, comme le Fonds de participation des "
            "habitants.",
            code="groupe_habitants_non_accepte",
        )
    return None


def filing_refusals(user: User, campaigns: list[Campaign]) -> dict[int, str]:
    """For each call the caller's organisation (the one a new dossier is made for) may not file in,
    the French reason."""
    orgs = list(user.organisations)
    if not orgs:
        return {}
    refusals = {c.id: filing_refusal(orgs[0], c) for c in campaigns}
    return {cid: r.message for cid, r in refusals.items() if r is not None}


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
    if not depot_open(campaign, now):
        raise Invalid(
            f"Le dépôt de l'appel à projets « {campaign.title} » est ouvert du "
            f"{lifecycle.fr_date(campaign.depot_ouverture)} au {lifecycle.fr_date(campaign.depot_cloture)} : "
            "aucun nouveau dossier n'est possible aujourd'hui.",
            code="depot_ferme",
        )
    organisation = _organisation_of(user, organisation_id)
    refusal = filing_refusal(organisation, campaign)
    if refusal is not None:
        raise refusal
    form = campaign_form(campaign)
    ctx = form_context(session, campaign)
    initial = form.prefill(organisation.profile())
    if answers:
        initial = form.merge(initial, answers)
    if answers and reconducted_from is None:  # the caller's answers: the same checks as a save (PATCH)
        errors = form.check_partial(initial, ctx)
        if errors:
            raise Invalid(
                "Certaines réponses sont invalides ; le dossier n'a pas été créé.",
                code="reponses_invalides",
                errors=field_errors(errors),
            )
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
    _sync_cofinancements(session, dossier, campaign, ctx)
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
    form = campaign_form(campaign)
    refused = reconduction.refusal(
        previous.state,
        previous.campaign_id,
        campaign.id,
        previous.form_code,
        form.code,
        to_year=campaign.year,
        cpo=_cpo_covers(session, [previous]).get(previous.id),
    )
    if refused is not None:
        kind, reason = refused
        error = Conflict if kind == "conflict" else Invalid
        raise error(reason.message, code=reason.code, errors=reasons_out([reason]))
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


def reconduct_targets(
    session: Session, dossiers: list[Dossier], campaigns: list[Campaign], now: datetime
) -> dict[int, int]:
    """For each dossier that may be renewed now, the first of `campaigns` open now that takes it
    (same rule as `reconduct_dossier`: what the « Reconduire » button offers, the API accepts)."""
    open_forms = {c.id: campaign_form(c).code for c in campaigns if depot_open(c, now)}
    years = {c.id: c.year for c in campaigns}
    covers = _cpo_covers(session, dossiers)
    ids = [d.id for d in dossiers]
    renewed = {
        (row.reconducted_from_id, row.campaign_id)
        for row in session.execute(
            select(Dossier.reconducted_from_id, Dossier.campaign_id).where(
                Dossier.reconducted_from_id.in_(ids), Dossier.state.not_in(("abandonne", "non_depose"))
            )
        )
    }
    targets = {}
    for dossier in dossiers:
        target = next(
            (
                cid
                for cid, code in open_forms.items()
                if (dossier.id, cid) not in renewed
                and reconduction.refusal(
                    dossier.state,
                    dossier.campaign_id,
                    cid,
                    dossier.form_code,
                    code,
                    to_year=years[cid],
                    cpo=covers.get(dossier.id),
                )
                is None
            ),
            None,
        )
        if target is not None:
            targets[dossier.id] = target
    return targets


def _cpo_covers(session: Session, dossiers: list[Dossier]) -> dict[int, reconduction.CpoCover]:
    """Dossier id -> the CPO it belongs to: made from it, or one of its yearly dossiers (two queries)."""
    ids = [d.id for d in dossiers]
    if not ids:
        return {}
    by_cpo = {d.cpo_id: d.id for d in dossiers if d.cpo_id is not None}
    rows = session.execute(
        select(Cpo.id, Cpo.state, Cpo.dossier_origine_id).where(
            or_(Cpo.dossier_origine_id.in_(ids), Cpo.id.in_(list(by_cpo)))
        )
    ).all()
    years: dict[int, list[int]] = {}
    for cpo_id, annee in session.execute(
        select(CpoAnnee.cpo_id, CpoAnnee.annee).where(CpoAnnee.cpo_id.in_([r.id for r in rows]))
    ):
        years.setdefault(cpo_id, []).append(annee)
    out: dict[int, reconduction.CpoCover] = {}
    for cpo_id, state, origin_id in rows:
        cover = reconduction.CpoCover(cpo_id, state, tuple(sorted(years.get(cpo_id, []))))
        for did in (origin_id, by_cpo.get(cpo_id)):
            if did in ids and (did not in out or out[did].state in CPO_ENDED):
                out[did] = cover
    return out


def check_version(dossier: Dossier, if_match: int | None) -> None:
    if if_match is not None and if_match != dossier.version:
        raise PreconditionFailed(
            f"Le dossier a été modifié entre-temps (version {dossier.version}, vous aviez la version "
            f"{if_match}) : rechargez-le, vos modifications n'ont pas été enregistrées.",
            code="version_perimee",
        )


def update_answers(
    session: Session, user: User, dossier_id: int, patch: dict[str, Any], if_match: int | None, now: datetime
) -> Dossier:
    """Saves a partial set of answers; an incomplete draft is fine, a wrong value is not."""
    dossier = get_dossier(session, user, dossier_id, lock=True)
    check_version(dossier, if_match)
    campaign = dossier.campaign
    check_editable(user, dossier, now)
    form = campaign_form_of(dossier)
    ctx = form_context(session, campaign)
    merged = form.merge(dossier.answers, patch)
    errors = form.check_partial(merged, ctx) + EFFECTS.answer_errors(
        AnswersContext(session, dossier, form, merged)
    )
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
    session.commit()
    # the dossier and its lines as saved (nothing expires at commit): no second read of them
    return dossier


def _sync_cofinancements(session: Session, dossier: Dossier, campaign: Campaign, ctx: FormContext) -> None:
    """The cofinancement lines follow the budget's financements while the porteur may edit."""
    form = campaign_form_of(dossier)
    solicited = {code for code, _name in ctx.financeurs}  # the campaign's financers
    requested = {
        code: amount
        for code, amount in form.requested_amounts(dossier.answers, ctx).items()
        if code in solicited
    }
    lines = {line.financeur.code: line for line in dossier.cofinancements}
    new_codes = [code for code in requested if code not in lines]
    ids = _financeur_ids(session, campaign, new_codes) if new_codes else {}
    for code, amount in requested.items():
        line = lines.get(code)
        if line is None:
            dossier.cofinancements.append(
                Cofinancement(financeur_id=ids[code], montant_demande=amount, state="sollicite")
            )
        elif line.decision is None and line.montant_demande != amount:  # an unchanged line stays clean
            line.montant_demande = amount
    for code, line in lines.items():
        if code not in requested and line.decision is None and line.montant_propose is None:
            dossier.cofinancements.remove(line)
    session.flush()


def _financeur_ids(session: Session, campaign: Campaign, codes: list[str]) -> dict[str, int]:
    """The ids of the campaign's financers with these codes (an autosave that opens a line)."""
    rows = session.execute(
        select(Financeur.code, CampaignFinanceur.financeur_id)
        .join(CampaignFinanceur, CampaignFinanceur.financeur_id == Financeur.id)
        .where(CampaignFinanceur.campaign_id == campaign.id, Financeur.code.in_(codes))
    )
    return {code: financeur_id for code, financeur_id in rows}


# --- transitions -----------------------------------------------------------------------------------


def _facts(
    session: Session, dossier: Dossier, name: str, now: datetime, payload: dict[str, Any]
) -> DossierFacts:
    campaign = dossier.campaign
    now = territory_now(campaign, now)  # its rules judge the days of the dossier's territory
    form_errors: list[Reason] = []
    if name == "deposer" and dossier.state == "brouillon":
        form = campaign_form_of(dossier)
        pieces = form.piece_paths()  # the attachments domain checks the files themselves (a precondition)
        form_errors = [
            Reason(e.code, e.message, e.path)
            for e in form.check_complete(dossier.answers, form_context(session, campaign))
            if not (e.code == "required" and e.path in pieces)
        ]
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
    if name in STAMPS:
        setattr(dossier, STAMPS[name], now)
    for attribute, value_of in WRITES.get(name, {}).items():
        setattr(dossier, attribute, value_of(dossier, payload))
    data = {key: _jsonable(getattr(dossier, attribute)) for key, attribute in RECORDED.get(name, {}).items()}
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
    if session.expire_on_commit:  # the app's sessions keep what they wrote: no second load
        return get_dossier(session, user, dossier.id)
    return dossier


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


def record_news(
    session: Session, dossier: Dossier, user: User, now: datetime, name: str, data: dict[str, Any]
) -> DossierEvent:
    """A history row for something done on the dossier without moving it (a budget ajusté…), and the
    effects registered for it, in this transaction (the messages it calls for: `notifications.events`)."""
    event = _record(session, dossier, name, dossier.state, dossier.state, user, now, None, data)
    EFFECTS.run(TransitionContext(session, dossier, event, user, now))
    return event


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
    if until < territory_today(dossier.campaign, now):
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

    A deadline passes at midnight where the contract is: the query takes the drafts past it in the
    territories whose day is the furthest on (a superset), and the lifecycle decides each one on its
    own territory's day (a draft in Cayenne waits until midnight there, four hours after Paris).
    """
    furthest = max(contract_days(session, now))
    due = (
        select(Dossier.id)
        .join(Campaign, Campaign.id == Dossier.campaign_id)
        .where(Dossier.state == "brouillon", past_depot_deadline(furthest))
        .order_by(Dossier.id)
        .limit(batch)
    )
    moved, after = 0, 0
    while ids := list(session.scalars(due.where(Dossier.id > after))):
        after = ids[-1]
        for dossier_id in ids:
            dossier = load_locked(session, dossier_id)
            if dossier is not None and "expirer" in lifecycle.time_driven(
                dossier.state, _facts_light(dossier, now)
            ):
                _move(session, dossier, "expirer", "system", None, now, {})
                moved += 1
            session.commit()
    return moved


def _facts_light(dossier: Dossier, now: datetime) -> DossierFacts:
    return DossierFacts(
        now=territory_now(dossier.campaign, now),
        depot_ouverture=dossier.campaign.depot_ouverture,
        depot_cloture=dossier.campaign.depot_cloture,
        extension_until=dossier.extension_until,
    )
