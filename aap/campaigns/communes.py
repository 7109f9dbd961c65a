"""What a campaign file says about its communes: the validation mode and each commune's instance date."""

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from aap.models import Campaign, CampaignCommune, Commune
from aap.rules_files import CampaignFile, LocatedError


def commune_errors(session: Session, territory_id: int, data: CampaignFile) -> list[LocatedError]:
    """The communes given dates must be the territory's."""
    known = set(session.scalars(select(Commune.insee).where(Commune.territory_id == territory_id)))
    errors = []
    for insee in data.validations_communes:
        if insee not in known:
            path = f"validations_communes.{insee}"
            errors.append(
                LocatedError(
                    file=data.source,
                    line=data.line_of(path),
                    path=path,
                    message=f"commune « {insee} » inconnue du territoire (communes : {', '.join(sorted(known))})",
                    code="unknown_commune",
                )
            )
    return errors


def save_commune_parts(session: Session, campaign: Campaign, data: CampaignFile) -> None:
    """`par_commune`: one part per commune of the territory, dated by its instance (validations kept);
    `globale`: the parts not yet validated go."""
    campaign.validation = data.validation
    existing = {
        p.commune_insee: p
        for p in session.scalars(select(CampaignCommune).where(CampaignCommune.campaign_id == campaign.id))
    }
    if data.validation != "par_commune":
        session.execute(
            delete(CampaignCommune).where(
                CampaignCommune.campaign_id == campaign.id, CampaignCommune.validated_at.is_(None)
            )
        )
        return
    default: date = data.dates["validation"]
    communes = session.scalars(
        select(Commune.insee).where(Commune.territory_id == campaign.territory_id).order_by(Commune.id)
    )
    for insee in communes:
        part = existing.get(insee) or CampaignCommune(campaign_id=campaign.id, commune_insee=insee)
        part.validation_date = data.validations_communes.get(insee, default)
        session.add(part)
    session.flush()
