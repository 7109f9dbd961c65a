"""Campaigns over HTTP: thin, the service decides."""

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter

from aap import clock
from aap.campaigns import service
from aap.campaigns.forms import campaign_form, form_context
from aap.campaigns.schemas import CampaignOut, CampaignPage, FormJsonSchema
from aap.clock import territory_today
from aap.communes.service import validation_status
from aap.deps import DB, Caller
from aap.models import Campaign
from aap.routes import API_PREFIX
from aap.schemas import euros

router = APIRouter(prefix=API_PREFIX, tags=["campagnes"])


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def campaign_out(campaign: Campaign, now: datetime) -> dict[str, Any]:
    """The call as the API shows it, its phase on the day it is in its territory."""
    today = territory_today(campaign, now)
    calendar = service.calendar_of(campaign)
    phase = service.phase(campaign, now)
    return {
        "id": campaign.id,
        "code": campaign.code,
        "territory": campaign.territory.code,
        "kind": campaign.kind,
        "year": campaign.year,
        "title": campaign.title,
        "state": phase.code,
        "state_label": phase.label,
        "calendar": campaign.calendar,
        "dates": dict(campaign.dates),
        "depot_ouvert": service.depot_open(campaign, now),
        "completion_apres_cloture": campaign.late_completion,
        "groupes_habitants": campaign.inhabitant_groups,
        "validation": campaign.validation,
        "form": {"code": campaign.form_code, "version": campaign.form_version},
        "timeline": [
            {
                "phase": row["code"],
                "label": row["label"],
                "start": _iso(row["start"]),
                "end": _iso(row["end"]),
                "status": row["status"],
            }
            for row in calendar.timeline(campaign.parsed_dates(), today)
        ],
        "financeurs": [
            {"code": line.financeur.code, "name": line.financeur.name, "enveloppe": euros(line.enveloppe)}
            for line in campaign.financeurs
        ],
    }


@router.get("/campaigns", summary="Les appels à projets", response_model=CampaignPage)
def list_campaigns(db: DB, user: Caller, territory: str | None = None) -> dict[str, Any]:
    """`territory`: the code of a territory, to list its calls only. A porteur sees the calls of the
    territories where its organisations work first."""
    moment = clock.now()
    items = [
        {**campaign_out(c, moment), **communes_phase(db, c, moment)}
        for c in service.list_campaigns(db, user, territory)
    ]
    return {"items": items, "total": len(items)}


@router.get("/campaigns/{campaign_id}", summary="Un appel à projets", response_model=CampaignOut)
def get_campaign(campaign_id: int, db: DB, user: Caller) -> dict[str, Any]:
    campaign, moment = service.get_campaign(db, user, campaign_id), clock.now()
    return {
        **campaign_out(campaign, moment),
        **communes_phase(db, campaign, moment),
    }


def communes_phase(db: DB, campaign: Campaign, now: datetime) -> dict[str, Any]:
    """A `par_commune` campaign's phase also says which communes are still to validate."""
    status = validation_status(db, campaign, now)
    return {} if status is None else {"validation_communes": status}


@router.get(
    "/campaigns/{campaign_id}/form",
    summary="Le formulaire du guichet unique (JSON Schema 2020-12)",
    response_model=FormJsonSchema,
    response_model_exclude_unset=True,
)
def campaign_form_schema(campaign_id: int, db: DB, user: Caller) -> dict[str, Any]:
    campaign = service.get_campaign(db, user, campaign_id)
    return campaign_form(campaign).json_schema(form_context(db, campaign))
