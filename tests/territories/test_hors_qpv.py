"""Quartiers de veille and territoires à enjeux: named by the territory file, offered by the form's QPV
question with their kind, counted apart from QPV money."""

import copy
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from aap.models import Dossier
from aap.rules_files import RulesFileError, parse_territory
from aap.territories.service import save_territory
from tests.conftest import login
from tests.territories.helpers import METROPOLE, PASSWORD, load_metro

PLACES = [
    {"code": "ENJEU01", "name": "Centre ancien de Loriol", "commune": "26166", "kind": "territoire_enjeux"},
    {"code": "VEILLE01", "name": "Les Granges", "commune": "26198", "kind": "quartier_veille"},
]


def _with_places(engine: Engine) -> None:
    data = {**copy.deepcopy(METROPOLE), "hors_qpv": PLACES}
    with Session(engine) as session:
        save_territory(session, parse_territory(data, "metro"))
        session.commit()


def test_an_action_in_a_territoire_a_enjeux_is_filed_and_counted_apart_from_qpv_money(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    metro = load_metro(db_engine, demo)
    _with_places(db_engine)
    porteur = login(client, "porteur@metro.test", PASSWORD)
    admin = login(client, "admin@metro.test", PASSWORD)
    schema = client.get(f"/api/v1/campaigns/{metro.campaign_id}/form", headers=porteur).json()
    qpv = schema["properties"]["action"]["properties"]["qpv"]
    options = {o["value"]: o["label"] for o in qpv["x-options"]}
    assert list(options)[:3] == ["QN02601X", "QN02602X", "QN02603X"]
    assert options["ENJEU01"] == "Centre ancien de Loriol (territoire à enjeux, hors QPV)"
    assert options["VEILLE01"] == "Les Granges (quartier de veille, hors QPV)"

    created = client.post(f"/api/v1/campaigns/{metro.campaign_id}/dossiers", headers=porteur)
    assert created.status_code == 201, created.text
    d = created.json()
    answers = {
        "action": {"titre": "Chantier d'insertion au centre ancien", "qpv": ["ENJEU01"], "orientation": "2"},
        "budget": {"financements": {"ETAT": "3000.00", "LORIOL": "1200.00"}},
    }
    saved = client.patch(
        f"/api/v1/dossiers/{d['id']}",
        headers={**porteur, "If-Match": str(d["version"])},
        json={"answers": answers},
    )
    assert saved.status_code == 200, saved.text
    wrong = client.patch(
        f"/api/v1/dossiers/{d['id']}",
        headers={**porteur, "If-Match": str(saved.json()["version"])},
        json={"answers": {"action": {"qpv": ["AILLEURS1"]}}},
    )
    assert wrong.status_code == 422 and any(
        e["path"].startswith("action.qpv") for e in wrong.json()["detail"]["errors"]
    )

    with Session(db_engine) as s:  # instruction and comité as they would have gone
        s.execute(update(Dossier).where(Dossier.id == d["id"]).values(state="avise", avis="favorable"))
        s.commit()
    totaux = client.get(f"/api/v1/campaigns/{metro.campaign_id}/totaux", headers=admin).json()
    assert totaux["qpv"] == []
    (place,) = totaux["hors_qpv"]
    assert (place["code"], place["kind"], place["demande"]) == ("ENJEU01", "territoire_enjeux", "4200.00")
    loriol = login(client, "loriol@metro.test", PASSWORD)  # a place of its commune: its agent sees it
    assert client.get(f"/api/v1/dossiers/{d['id']}", headers=loriol).status_code == 200


def test_a_place_hors_qpv_needs_its_own_code_a_kind_and_a_known_commune() -> None:
    data = {
        **copy.deepcopy(METROPOLE),
        "hors_qpv": [
            {"code": "QN02601X", "name": "Doublon", "commune": "26166", "kind": "quartier_veille"},
            {"code": "VEILLE02", "name": "Ailleurs", "commune": "07001", "kind": "quartier_prioritaire"},
        ],
    }
    with pytest.raises(RulesFileError) as refused:
        parse_territory(data, "metro")
    by_path = {e.path: e for e in refused.value.errors}
    assert by_path["hors_qpv[0].code"].code == "duplicate_code"
    assert "quartier_veille, territoire_enjeux" in by_path["hors_qpv[1].kind"].message
    assert by_path["hors_qpv[1].commune"].code == "unknown_commune"
