"""Cofinancement: proposals, each financer's decision within its enveloppe, enveloppes.

The envelope check and the decision are one transaction holding the lock on the financer's
enveloppe row, so two decisions racing for the last euros cannot both pass.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aap.campaigns.service import get_campaign
from aap.dossiers import service as dossiers
from aap.errors import Conflict, Forbidden, Invalid, NotFound
from aap.models import Campaign, CampaignFinanceur, Cofinancement, Dossier, EnveloppeChange, Financeur, User
from workflows import cofinancement as lines
from workflows.dossier import Reason

ZERO = Decimal("0.00")
PROPOSABLE_STATES = ("en_instruction", "complements_demandes", "instruit")
DECIDABLE_STATES = ("instruit", "avise")


def _invalid(message: str, reasons: list[Reason]) -> Invalid:
    return Invalid(message + " " + " ; ".join(r.message for r in reasons), code=reasons[0].code,
                   errors=dossiers.reasons_out(reasons))


def _line(dossier: Dossier, financeur_code: str) -> Cofinancement:
    for line in dossier.cofinancements:
        if line.financeur.code == financeur_code:
            return line
    raise NotFound(f"Le financeur « {financeur_code} » n'est pas sollicité par ce dossier.",
                   code="financeur_non_sollicite")


def propose(session: Session, user: User, dossier_id: int, financeur_code: str, montant: Decimal,
            now: datetime) -> Dossier:
    """The instructeur's proposed amount for one financer."""
    if user.role not in ("instructeur", "admin"):
        raise Forbidden("Seul un instructeur propose un montant.", code="role_interdit")
    dossier = dossiers.get_dossier(session, user, dossier_id, lock=True)
    if dossier.state not in PROPOSABLE_STATES:
        raise Conflict("On propose un montant pendant l'instruction du dossier.", code="etat_incompatible")
    line = _line(dossier, financeur_code)
    reasons = lines.check_proposition(line.montant_demande, montant, line.state)
    if reasons:
        raise _invalid("Proposition refusée :", reasons)
    line.state = lines.next_line_state(line.state, "proposer")
    line.montant_propose, line.proposed_at, line.proposed_by_id = montant, now, user.id
    dossier.version += 1
    session.commit()
    return dossiers.get_dossier(session, user, dossier.id)


def _accorded(session: Session, campaign_id: int, financeur_id: int) -> Decimal:
    total = session.scalar(
        select(func.sum(Cofinancement.montant_accorde))
        .join(Dossier, Dossier.id == Cofinancement.dossier_id)
        .where(Dossier.campaign_id == campaign_id, Cofinancement.financeur_id == financeur_id,
               Cofinancement.decision == "accorde")
    )
    return total if total is not None else ZERO


def _proposed(session: Session, campaign_id: int, financeur_id: int) -> Decimal:
    total = session.scalar(
        select(func.sum(Cofinancement.montant_propose))
        .join(Dossier, Dossier.id == Cofinancement.dossier_id)
        .where(Dossier.campaign_id == campaign_id, Cofinancement.financeur_id == financeur_id,
               Dossier.state.not_in(("abandonne", "rejete", "non_depose")))
    )
    return total if total is not None else ZERO


def _envelope_locked(session: Session, campaign_id: int, financeur_id: int) -> CampaignFinanceur:
    row = session.scalar(
        select(CampaignFinanceur)
        .where(CampaignFinanceur.campaign_id == campaign_id, CampaignFinanceur.financeur_id == financeur_id)
        .with_for_update()
    )
    if row is None:
        raise NotFound("Ce financeur n'est pas sollicité par cet appel à projets.", code="financeur_non_sollicite")
    return row


def decide(session: Session, user: User, dossier_id: int, financeur_code: str, decision: str,
           montant: Decimal | None, motif: str | None, now: datetime) -> Dossier:
    """One financer's decision on one dossier; the last one programs or rejects the dossier."""
    if user.role != "financeur" or user.financeur is None:
        raise Forbidden("Seuls les agents du financeur enregistrent sa décision.", code="role_interdit")
    if user.financeur.code != financeur_code:
        raise Forbidden("Vous ne pouvez décider qu'au nom de votre propre financeur.", code="autre_financeur")
    dossier = dossiers.get_dossier(session, user, dossier_id, lock=True)
    if dossier.state not in DECIDABLE_STATES:
        raise Conflict("La décision se prend sur un dossier instruit ou avisé par le comité technique.",
                       code="etat_incompatible")
    line = _line(dossier, financeur_code)
    envelope = _envelope_locked(session, dossier.campaign_id, line.financeur_id)
    restant = envelope.enveloppe - _accorded(session, dossier.campaign_id, line.financeur_id)
    reasons = lines.check_decision(line.state, line.montant_demande, decision, montant, motif, restant)
    if reasons:
        raise _invalid("Décision refusée :", reasons)
    line.state = lines.next_line_state(line.state, lines.decision_action(decision))
    line.decision = decision
    line.montant_accorde = montant if decision == "accorde" else None
    line.motif = motif.strip() if motif else None
    line.decided_at, line.decided_by_id = now, user.id
    dossier.version += 1
    dossiers.record_decision(session, dossier, user, now, line)
    dossiers.program_if_decided(session, dossier, now)
    session.commit()
    return dossiers.get_dossier(session, user, dossier.id)


def enveloppes(session: Session, user: User, campaign_id: int) -> list[dict[str, Any]]:
    campaign = get_campaign(session, user, campaign_id)
    out = []
    for row in campaign.financeurs:
        accorde = _accorded(session, campaign.id, row.financeur_id)
        out.append({
            "financeur": row.financeur.code,
            "financeur_name": row.financeur.name,
            "enveloppe": row.enveloppe,
            "propose": _proposed(session, campaign.id, row.financeur_id),
            "accorde": accorde,
            "restant": row.enveloppe - accorde,
        })
    return out


def set_enveloppe(session: Session, user: User, campaign_id: int, financeur_code: str, amount: Decimal,
                  comment: str | None = None) -> None:
    """The admin sets an enveloppe; never below what is already accorded. Each change is recorded."""
    if user.role != "admin":
        raise Forbidden("Seule l'équipe du contrat de ville fixe les enveloppes.", code="role_interdit")
    campaign: Campaign = get_campaign(session, user, campaign_id)
    financeur = session.scalar(select(Financeur).where(Financeur.territory_id == campaign.territory_id,
                                                       Financeur.code == financeur_code))
    if financeur is None:
        raise NotFound(f"Financeur « {financeur_code} » inconnu.", code="financeur_inconnu")
    row = _envelope_locked(session, campaign.id, financeur.id)
    accorde = _accorded(session, campaign.id, financeur.id)
    if amount < accorde:
        raise Invalid(
            f"L'enveloppe ne peut pas descendre sous ce qui est déjà accordé ({lines.format_euros(accorde)}).",
            code="enveloppe_sous_accorde",
            errors=[{"path": "enveloppe", "code": "enveloppe_sous_accorde",
                     "message": f"au moins {lines.format_euros(accorde)}"}],
        )
    session.add(EnveloppeChange(campaign_financeur_id=row.id, old_amount=row.enveloppe, new_amount=amount,
                                user_id=user.id, comment=comment))
    row.enveloppe = amount
    session.commit()
