"""A financer declared once (the State in the Drôme, the CAF) and referenced by several territories:
one name, one kind, its envelopes per campaign."""

import copy
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.campaigns.service import save_campaign
from aap.models import CampaignFinanceur, Financeur, Partenaire, Territory
from aap.rules_files import RulesFileError, parse_campaign, parse_territory
from aap.rules_files.partenaires import parse_partenaires
from aap.territories.partenaires import save_partenaires
from aap.territories.service import save_territory
from tests.territories.helpers import METROPOLE, metro_campaign_data

PARTENAIRES = {
    "partenaires": [
        {"code": "ETAT_26", "name": "État – préfecture de la Drôme (programme 147)", "kind": "etat"},
        {"code": "CAF_26", "name": "CAF de la Drôme", "kind": "caf"},
    ]
}


def _territories() -> tuple[dict, dict]:  # type: ignore[type-arg]
    metro = copy.deepcopy(METROPOLE)
    metro["financeurs"][0] = {"code": "ETAT", "partenaire": "ETAT_26"}
    metro["financeurs"].append({"code": "CAF", "partenaire": "CAF_26"})
    valence = copy.deepcopy(METROPOLE)
    valence.update(code="valence", name="Contrat de ville de Valence Romans Agglo")
    valence["financeurs"] = [
        {"code": "ETAT", "partenaire": "ETAT_26"},
        {"code": "CAF26", "partenaire": "CAF_26"},
    ]
    return metro, valence


def test_two_territories_reference_the_same_partner_declared_once(db_engine: Engine) -> None:
    metro, valence = _territories()
    with Session(db_engine) as s:
        save_partenaires(s, parse_partenaires(PARTENAIRES))
        for data in (metro, valence):
            save_territory(s, parse_territory(data, data["code"]))
        s.commit()
        rows = s.execute(
            select(Territory.code, Financeur.code, Financeur.name, Partenaire.code)
            .join(Financeur, Financeur.territory_id == Territory.id)
            .join(Partenaire, Partenaire.id == Financeur.partenaire_id)
            .order_by(Territory.code, Financeur.code)
        ).all()
        assert rows == [
            ("metro", "CAF", "CAF de la Drôme", "CAF_26"),
            ("metro", "ETAT", "État – préfecture de la Drôme (programme 147)", "ETAT_26"),
            ("valence", "CAF26", "CAF de la Drôme", "CAF_26"),
            ("valence", "ETAT", "État – préfecture de la Drôme (programme 147)", "ETAT_26"),
        ]
        renamed = copy.deepcopy(PARTENAIRES)
        renamed["partenaires"][1]["name"] = "Caisse d'allocations familiales de la Drôme"
        save_partenaires(s, parse_partenaires(renamed))  # declared once: renamed once, everywhere
        s.commit()
        names = set(s.scalars(select(Financeur.name).where(Financeur.code.in_(("CAF", "CAF26")))))
        assert names == {"Caisse d'allocations familiales de la Drôme"}

        today = date(2026, 12, 1)
        for territory, amount in (("metro", "120000.00"), ("valence", "64000.00")):
            data = metro_campaign_data(today, territory=territory)
            data["financeurs"] = [{"code": "ETAT", "enveloppe": amount}]
            save_campaign(s, parse_campaign(data, territory))
        s.commit()
        envelopes = sorted(s.scalars(select(CampaignFinanceur.enveloppe)))
        assert envelopes == [Decimal("64000.00"), Decimal("120000.00")]  # one envelope per campaign


def test_an_unknown_partner_or_a_partner_named_again_is_refused_at_its_place(db_engine: Engine) -> None:
    metro, _ = _territories()
    with Session(db_engine) as s:
        with pytest.raises(RulesFileError) as refused:
            save_territory(s, parse_territory(metro, "metro"))
        assert {(e.path, e.code) for e in refused.value.errors} == {
            ("financeurs[0].partenaire", "partenaire_inconnu"),
            ("financeurs[3].partenaire", "partenaire_inconnu"),
        }
    metro["financeurs"][0]["name"] = "Préfecture"
    with pytest.raises(RulesFileError) as refused:
        parse_territory(metro, "metro")
    (error,) = refused.value.errors
    assert error.path == "financeurs[0]" and "retirez « name » et « kind »" in error.message
