"""Cofinancement over HTTP: proposals, decisions, enveloppes."""

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from aap.clock import now
from aap.deps import DB, Admin, Caller, FinanceurAgent, Instructeur
from aap.dossiers.endpoints import _answer
from aap.financing import service
from aap.schemas import Euros

router = APIRouter(tags=["cofinancement"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PropositionBody(Strict):
    montant: Euros


class DecisionBody(Strict):
    decision: Literal["accorde", "refuse", "ajourne"]
    montant: Euros | None = None
    motif: str | None = None


class EnveloppeBody(Strict):
    enveloppe: Euros
    comment: str | None = None


class EnveloppeOut(BaseModel):
    financeur: str
    financeur_name: str
    enveloppe: Euros
    propose: Euros
    accorde: Euros
    restant: Euros


class EnveloppesOut(BaseModel):
    items: list[EnveloppeOut]
    total: int


@router.post("/dossiers/{dossier_id}/cofinancements/{financeur}/proposition",
             summary="Proposer un montant (instructeur)")
def propose(dossier_id: int, financeur: str, body: PropositionBody, db: DB, user: Instructeur,
            response: Response) -> dict[str, Any]:
    dossier = service.propose(db, user, dossier_id, financeur, body.montant, now())
    return _answer(response, dossier, user)


@router.post("/dossiers/{dossier_id}/cofinancements/{financeur}/decision",
             summary="Enregistrer la décision du financeur (ses agents seulement)")
def decide(dossier_id: int, financeur: str, body: DecisionBody, db: DB, user: FinanceurAgent,
           response: Response) -> dict[str, Any]:
    dossier = service.decide(db, user, dossier_id, financeur, body.decision, body.montant, body.motif, now())
    return _answer(response, dossier, user)


@router.get("/campaigns/{campaign_id}/enveloppes", summary="Les enveloppes par financeur")
def enveloppes(campaign_id: int, db: DB, user: Caller) -> EnveloppesOut:
    items = [EnveloppeOut(**row) for row in service.enveloppes(db, user, campaign_id)]
    return EnveloppesOut(items=items, total=len(items))


@router.put("/campaigns/{campaign_id}/enveloppes/{financeur}", summary="Fixer une enveloppe (admin)")
def set_enveloppe(campaign_id: int, financeur: str, body: EnveloppeBody, db: DB, user: Admin) -> EnveloppesOut:
    service.set_enveloppe(db, user, campaign_id, financeur, body.enveloppe, body.comment)
    return enveloppes(campaign_id, db, user)
