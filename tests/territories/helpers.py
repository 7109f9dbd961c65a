"""A second territory beside the demo's: a small metropolis of two communes, with its own accounts.

Its campaign takes the very code of the demo's open call (codes name a call within a territory)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from aap.accounts.service import create_user
from aap.campaigns.service import save_campaign
from aap.demo.campaigns import demo_campaigns
from aap.dossiers import service as dossiers
from aap.models import Campaign, Dossier, Financeur, Organisation, Territory, User
from aap.rules_files import parse_campaign, parse_territory
from aap.territories.service import save_territory

METROPOLE: dict[str, Any] = {
    "code": "metro",
    "name": "Contrat de ville de la Métropole du Val 2024-2030",
    "epci": "Métropole du Val",
    "periode": {"debut": 2024, "fin": 2030},
    "communes": [{"insee": "26166", "name": "Loriol-sur-Drôme"}, {"insee": "26198", "name": "Montélimar"}],
    "qpv": [
        {"code": "QN02601X", "name": "Cœur de Loriol", "commune": "26166", "population": 1350},
        {"code": "QN02602X", "name": "Pracomtal", "commune": "26198", "population": 3900},
        {"code": "QN02603X", "name": "Nocaze", "commune": "26198", "population": 2100},
    ],
    "orientations": [
        {"code": "1", "label": "Cohésion sociale", "children": [{"code": "1.1", "label": "Éducation"}]},
        {"code": "2", "label": "Emploi"},
    ],
    "financeurs": [
        {"code": "ETAT", "name": "État (programme 147)", "kind": "etat"},
        {"code": "LORIOL", "name": "Ville de Loriol-sur-Drôme", "kind": "commune", "commune": "26166"},
        {"code": "MONTELIMAR", "name": "Ville de Montélimar", "kind": "commune", "commune": "26198"},
    ],
}

PASSWORD = "metro-password"


@dataclass
class Metro:
    territory_id: int
    campaign_id: int
    campaign_code: str
    year: int


def demo_open_campaign(session: Session) -> Campaign:
    campaigns = list(session.scalars(select(Campaign).order_by(Campaign.year.desc())))
    return campaigns[0]


def metro_campaign_data(today: date, **extra: Any) -> dict[str, Any]:
    data = demo_campaigns(today)[0]
    data.update(
        territory="metro",
        title="Appel à projets de la Métropole du Val",
        financeurs=[
            {"code": "ETAT", "enveloppe": "120000.00"},
            {"code": "LORIOL", "enveloppe": "30000.00"},
            {"code": "MONTELIMAR", "enveloppe": "50000.00"},
        ],
    )
    data.update(extra)
    return data


def load_metro(engine: Engine, today: date, **campaign_extra: Any) -> Metro:
    """The metropolis, its open call (same code as the demo's), an admin, an instructeur, an agent per
    financer and a porteur: `admin@metro.test`, `instructeur@metro.test`, `etat@metro.test`,
    `loriol@metro.test`, `montelimar@metro.test`, `porteur@metro.test`."""
    with Session(engine, expire_on_commit=False) as session:
        territory = save_territory(session, parse_territory(METROPOLE, "metro"))
        campaign = save_campaign(
            session, parse_campaign(metro_campaign_data(today, **campaign_extra), "metro")
        )
        org = Organisation(territory_id=territory.id, name="Centre social du Val", kind="association")
        session.add(org)
        session.flush()
        financeurs = {
            f.code: f.id
            for f in session.scalars(select(Financeur).where(Financeur.territory_id == territory.id))
        }
        for email, role, financeur in [
            ("admin@metro.test", "admin", None),
            ("instructeur@metro.test", "instructeur", None),
            ("etat@metro.test", "financeur", "ETAT"),
            ("loriol@metro.test", "financeur", "LORIOL"),
            ("montelimar@metro.test", "financeur", "MONTELIMAR"),
            ("porteur@metro.test", "porteur", None),
        ]:
            create_user(
                session,
                email=email,
                password=PASSWORD,
                role=role,
                financeur_id=financeurs[financeur] if financeur else None,
                territory_id=territory.id if role in ("admin", "instructeur") else None,
                organisation_ids=(org.id,) if role == "porteur" else (),
            )
        session.commit()
        return Metro(territory.id, campaign.id, campaign.code, campaign.year)


def new_dossier(
    engine: Engine,
    campaign_id: int,
    email: str,
    *,
    qpv: list[str],
    orientation: str,
    financements: dict[str, str],
    title: str,
    state: str | None = None,
    avis: str | None = None,
) -> Dossier:
    """A brouillon made by the porteur through the service; `state` then puts it further in its year
    (what instruction and the comité would have done), for the tests of who sees and validates what."""
    with Session(engine, expire_on_commit=False) as session:
        porteur = session.scalar(select(User).where(User.email == email))
        assert porteur is not None
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        now = datetime.combine(campaign.depot_ouverture, time(10), tzinfo=UTC)
        answers = {
            "action": {"titre": title, "qpv": qpv, "orientation": orientation},
            "budget": {"financements": financements},
        }
        dossier = dossiers.create_dossier(session, porteur, campaign_id, now, answers=answers)
        if state is not None:
            session.execute(update(Dossier).where(Dossier.id == dossier.id).values(state=state, avis=avis))
            session.commit()
        return dossier


def territory_id(engine: Engine, code: str) -> int:
    with Session(engine) as session:
        tid = session.scalar(select(Territory.id).where(Territory.code == code))
        assert tid is not None
        return tid
