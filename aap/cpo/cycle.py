"""The CPO's yearly cycle, run by the cron pass (`aap notifications run`): CPOs start and end with their
years, and each signed CPO gets its yearly dossier when a campaign of one of its years opens.

Safe to run twice or several at once: the CPO row is locked before it moves, and a yearly dossier is
unique per (CPO, campaign) in the database, so a racing pass that loses simply finds it made.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from aap.clock import contract_days, in_zone
from aap.cpo import repository
from aap.cpo import service as cpos
from aap.dossiers.effects import EffectsTable, TransitionContext
from aap.dossiers.numbering import next_dossier_number
from aap.models import Campaign, Cofinancement, Cpo, CpoAnnee, CpoMontant, Dossier, DossierEvent
from workflows import cofinancement as lines
from workflows import cpo as lifecycle
from workflows import depot
from workflows import dossier as dossier_lifecycle

YEARLY_FORM = ("cpo_annuel", 1)


def advance(session: Session, now: datetime) -> int:
    """Fires the CPO transitions the clock makes due (activer, echoir); one commit per CPO."""
    moved = 0
    ids = list(session.scalars(select(Cpo.id).where(Cpo.state.in_(("signee", "active"))).order_by(Cpo.id)))
    for cpo_id in ids:
        cpo = session.scalar(
            repository.with_details(select(Cpo).where(Cpo.id == cpo_id)).with_for_update(of=Cpo)
        )
        if cpo is None:
            continue
        due = lifecycle.time_driven(cpo.state, cpos.facts(cpo, now))
        if due:
            cpos.move(session, cpo, due[0], "system", None, now, {})
            moved += 1
        session.commit()
    return moved


def due_years(session: Session, now: datetime) -> list[tuple[int, int, int]]:
    """(cpo id, cpo year id, campaign id) of the signed CPO years without a dossier whose campaign (same
    territory, same kind of call as the dossier the CPO came from) has opened and not closed, on the
    day it is in that territory."""
    furthest = max(contract_days(session, now))
    origin = aliased(Dossier)
    origin_campaign = aliased(Campaign)
    rows = session.execute(
        select(
            Cpo.id,
            CpoAnnee.id,
            Campaign.id,
            Campaign.depot_ouverture,
            Campaign.depot_cloture,
            Campaign.fuseau.label("fuseau"),
        )
        .join(CpoAnnee, CpoAnnee.cpo_id == Cpo.id)
        .join(origin, origin.id == Cpo.dossier_origine_id)
        .join(origin_campaign, origin_campaign.id == origin.campaign_id)
        .join(
            Campaign,
            (Campaign.territory_id == Cpo.territory_id)
            & (Campaign.kind == origin_campaign.kind)
            & (Campaign.year == CpoAnnee.annee),
        )
        .where(
            Cpo.state.in_(("signee", "active")),
            CpoAnnee.dossier_id.is_(None),
            Campaign.depot_ouverture <= furthest,
        )
        .order_by(Cpo.id, CpoAnnee.annee, Campaign.id)
    )
    seen: set[int] = set()
    out = []
    for cpo_id, annee_id, campaign_id, ouverture, cloture, fuseau in rows:
        if annee_id not in seen and depot.depot_open(in_zone(fuseau, now).date(), ouverture, cloture):
            seen.add(annee_id)
            out.append((cpo_id, annee_id, campaign_id))
    return out


def yearly_title(cpo: Cpo, annee: CpoAnnee) -> str:
    """The action's name and its CPO year, so the yearly dossier reads apart from the original one."""
    return f"{cpo.action} (CPO, année {annee.annee})"[:300]


def _prefill(cpo: Cpo, annee: CpoAnnee, previous: Dossier | None) -> dict[str, Any]:
    financements = {m.financeur.code: f"{m.prevu:.2f}" for m in annee.montants if m.prevu > 0}
    reference = (
        f"Dossier n° {previous.number} ({previous.title or 'sans titre'})"
        if previous is not None
        else "Première année de la CPO : pas de bilan antérieur"
    )
    return {
        "action": {"titre": yearly_title(cpo, annee), "cpo": f"CPO n° {cpo.id}", "annee": annee.annee},
        "budget": {"financements": financements},
        "bilan": {"reference": reference},
    }


def make_yearly_dossier(
    session: Session, cpo_id: int, annee_id: int, campaign_id: int, now: datetime
) -> bool:
    """The yearly dossier of one CPO year, prefilled on the light form; False when it already exists."""
    annee = session.get(CpoAnnee, annee_id)
    campaign = session.get(Campaign, campaign_id)
    cpo = session.scalar(repository.with_details(select(Cpo).where(Cpo.id == cpo_id)))
    if annee is None or campaign is None or cpo is None or annee.dossier_id is not None:
        return False
    previous = repository.previous_year_dossier(session, annee)
    answers = _prefill(cpo, annee, previous)
    financeurs_of_campaign = {cf.financeur_id for cf in campaign.financeurs}
    try:
        with session.begin_nested():
            dossier = Dossier(
                number=next_dossier_number(session, campaign.territory_id, campaign.year),
                campaign_id=campaign.id,
                organisation_id=cpo.organisation_id,
                state=dossier_lifecycle.INITIAL_STATE,
                version=1,
                form_code=YEARLY_FORM[0],
                form_version=YEARLY_FORM[1],
                answers=answers,
                title=yearly_title(cpo, annee),
                cpo_id=cpo.id,
                created_at=now,
                updated_at=now,
            )
            session.add(dossier)
            session.flush()
            for montant in annee.montants:
                if montant.prevu > 0 and montant.financeur_id in financeurs_of_campaign:
                    session.add(
                        Cofinancement(
                            dossier_id=dossier.id,
                            financeur_id=montant.financeur_id,
                            montant_demande=montant.prevu,
                            state="sollicite",
                        )
                    )
            annee.dossier_id = dossier.id
            session.add(
                DossierEvent(
                    dossier_id=dossier.id,
                    transition="creer",
                    from_state=None,
                    to_state=dossier.state,
                    role="system",
                    at=now,
                    comment=f"Dossier annuel {annee.annee} de la CPO n° {cpo.id}, prérempli.",
                    data={"cpo_id": cpo.id, "annee": annee.annee},
                )
            )
            session.flush()
    except IntegrityError:
        return False  # a racing pass made it first
    cpos._record(
        session,
        cpo,
        "dossier_annuel",
        cpo.state,
        None,
        now,
        None,
        {"annee": annee.annee, "dossier_id": dossier.id},
    )
    return True


def make_yearly_dossiers(session: Session, now: datetime) -> int:
    made = 0
    for cpo_id, annee_id, campaign_id in due_years(session, now):
        if make_yearly_dossier(session, cpo_id, annee_id, campaign_id, now):
            made += 1
        session.commit()
    return made


def run(session: Session, now: datetime) -> dict[str, int]:
    """One cron step of the CPO domain."""
    moved = advance(session, now)
    made = make_yearly_dossiers(session, now)
    return {"cpo_transitions": moved, "cpo_dossiers_annuels": made}


# --- reacting to the yearly dossier's own transitions ---------------------------------------------


def _planned_as_proposal(ctx: TransitionContext) -> None:
    """When instruction starts, the amount the CPO planned is the default proposal of each line."""
    dossier = ctx.dossier
    if dossier.cpo_id is None:
        return
    annee = repository.year_of_dossier(ctx.session, dossier.id)
    if annee is None:
        return
    planned: dict[int, Decimal] = {
        fid: prevu
        for fid, prevu in ctx.session.execute(
            select(CpoMontant.financeur_id, CpoMontant.prevu).where(CpoMontant.cpo_annee_id == annee.id)
        )
    }
    for line in dossier.cofinancements:
        if line.montant_propose is None and line.financeur_id in planned:
            line.montant_propose = min(planned[line.financeur_id], line.montant_demande)
            line.proposed_at = ctx.now
            line.state = lines.next_line_state(line.state, "proposer")


def register(table: EffectsTable) -> None:
    table.on("prendre_en_instruction", _planned_as_proposal, name="cpo.montant_prevu_propose")
