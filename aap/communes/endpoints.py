"""Validation by commune over HTTP: thin, `aap.communes.service` decides."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from aap import clock
from aap.communes import service
from aap.communes.schemas import CommunePart, CommuneParts
from aap.deps import DB, Caller
from aap.routes import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["communes"])


class CommuneValidation(BaseModel):
    comment: str | None = Field(default=None, max_length=4000)


@router.get(
    "/campaigns/{campaign_id}/communes", summary="Chaque commune : état de sa validation, dossiers, montants"
)
def list_communes(campaign_id: int, db: DB, user: Caller) -> CommuneParts:
    return CommuneParts.model_validate(service.list_communes(db, user, campaign_id, clock.now()))


@router.post(
    "/campaigns/{campaign_id}/communes/{insee}/validation",
    summary="La commune valide sa part de la programmation (agent de la commune ou admin)",
)
def validate_commune(
    campaign_id: int, insee: str, db: DB, user: Caller, body: CommuneValidation | None = None
) -> CommunePart:
    return CommunePart.model_validate(
        service.validate_commune(
            db, user, campaign_id, insee, clock.now(), (body or CommuneValidation()).comment
        )
    )
