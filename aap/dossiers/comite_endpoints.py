"""The comité technique's sitting over HTTP."""

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel, Field

from aap.clock import now
from aap.deps import DB, Staff
from aap.dossiers import comite
from aap.dossiers.schemas import DossierPage, dossier_out
from aap.dossiers.service import transitions_for
from aap.routes import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["comité technique"])


class SittingLine(BaseModel):
    dossier_id: int
    avis: str = Field(description="favorable, reserve, defavorable ou ajourne")
    commentaire: str | None = None


class Sitting(BaseModel):
    date: dt.date = Field(description="Le jour où le comité a siégé : la date de chaque avis.")
    avis: list[SittingLine] = Field(max_length=2000)


@router.post(
    "/campaigns/{campaign_id}/comite",
    response_model=DossierPage,
    summary="Enregistrer les avis d'une séance du comité technique (tout ou rien)",
)
def record_sitting(campaign_id: int, body: Sitting, db: DB, user: Staff) -> dict[str, object]:
    items = [comite.SittingAvis(line.dossier_id, line.avis, line.commentaire) for line in body.avis]
    moved = comite.record_sitting(db, user, campaign_id, body.date, items, now())
    return {"items": [dossier_out(d, transitions_for(user, d)) for d in moved], "total": len(moved)}
