"""Avis of partners over HTTP: parse, call the service, shape the answer."""

import datetime as dt

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from aap.avis import service
from aap.clock import now
from aap.deps import DB, Caller
from aap.models import AvisPartenaire
from aap.routes import API_PREFIX
from workflows.labels import PARTNER_AVIS_LABELS

router = APIRouter(prefix=API_PREFIX, tags=["avis des partenaires"])


class AvisRequestBody(BaseModel):
    destinataire: str = Field(description="Le courriel du compte partenaire (ou du service) consulté.")
    question: str
    date_limite: dt.date


class AvisAnswerBody(BaseModel):
    avis: str = Field(description="favorable, reserve ou defavorable")
    texte: str


class AvisOut(BaseModel):
    id: int
    dossier_id: int
    destinataire: str
    service: str
    question: str
    date_limite: dt.date
    en_retard: bool = Field(description="Pas encore rendu et sa date limite passée, au jour du contrat")
    demande_le: str
    avis: str | None
    avis_label: str | None
    texte: str | None
    rendu_le: str | None


class AvisPage(BaseModel):
    items: list[AvisOut]
    total: int


def avis_out(a: AvisPartenaire, moment: dt.datetime) -> AvisOut:
    return AvisOut(
        id=a.id,
        dossier_id=a.dossier_id,
        destinataire=a.partner.email,
        service=a.partner.full_name or a.partner.email,
        question=a.question,
        date_limite=a.due_date,
        en_retard=service.is_late(a, moment),
        demande_le=a.requested_at.isoformat(),
        avis=a.avis,
        avis_label=PARTNER_AVIS_LABELS.get(a.avis) if a.avis else None,
        texte=a.texte,
        rendu_le=a.given_at.isoformat() if a.given_at else None,
    )


@router.post(
    "/dossiers/{dossier_id}/avis-partenaires",
    status_code=201,
    response_model=AvisOut,
    summary="Demander l'avis d'un partenaire ou d'un service (instruction)",
)
def request_avis(dossier_id: int, body: AvisRequestBody, db: DB, user: Caller) -> AvisOut:
    when = now()
    made = service.request_avis(
        db, user, dossier_id, body.destinataire, body.question, body.date_limite, when
    )
    return avis_out(made, when)


@router.get(
    "/dossiers/{dossier_id}/avis-partenaires",
    response_model=AvisPage,
    summary="Les avis demandés sur un dossier (l'équipe ; un partenaire voit les siens)",
)
def dossier_avis(
    dossier_id: int,
    db: DB,
    user: Caller,
    limit: int = Query(100, ge=1, le=service.MAX_LIMIT),
    offset: int = Query(0, ge=0),
) -> AvisPage:
    when = now()
    items = [avis_out(a, when) for a in service.for_dossier(db, user, dossier_id, limit=limit, offset=offset)]
    return AvisPage(items=items, total=service.for_dossier_total(db, user, dossier_id))


@router.get("/avis-partenaires", response_model=AvisPage, summary="Les avis demandés au partenaire connecté")
def inbox(
    db: DB,
    user: Caller,
    en_attente: bool = Query(False),
    limit: int = Query(100, ge=1, le=service.MAX_LIMIT),
    offset: int = Query(0, ge=0),
) -> AvisPage:
    page = service.inbox(db, user, pending_only=en_attente, limit=limit, offset=offset)
    when = now()
    items = [avis_out(a, when) for a in page]
    return AvisPage(items=items, total=service.inbox_total(db, user, pending_only=en_attente))


@router.post(
    "/avis-partenaires/{avis_id}/reponse", response_model=AvisOut, summary="Rendre son avis (le partenaire)"
)
def give_avis(avis_id: int, body: AvisAnswerBody, db: DB, user: Caller) -> AvisOut:
    when = now()
    return avis_out(service.give_avis(db, user, avis_id, body.avis, body.texte, when), when)
