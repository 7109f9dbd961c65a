"""A lighter form for small requests: the FPH campaign of docs/examples runs on the same engine."""

from datetime import date, timedelta
from pathlib import Path

import jsonschema
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from aap.campaigns.service import save_campaign
from aap.rules_files import parse_campaign
from tests.api.helpers import Actor

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "campaign.fph.example.yaml"


def _load_example_open_today(engine) -> int:  # type: ignore[no-untyped-def]
    """The example file as written, its dates moved so that its dépôt window contains today."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    today = date.today()
    shift = today - data["dates"]["depot_ouverture"] - timedelta(days=5)
    data["dates"] = {name: (day + shift).isoformat() for name, day in data["dates"].items()}
    data["year"] = today.year
    data["code"] = f"dlva-{today.year}-fph"
    with Session(engine) as session:
        campaign = save_campaign(session, parse_campaign(data, EXAMPLE.name))
        session.commit()
        return campaign.id


def test_the_example_fph_campaign_loads_as_written(demo, db_engine) -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    with Session(db_engine) as session:
        campaign = save_campaign(session, parse_campaign(data, EXAMPLE.name))
        assert (campaign.form_code, campaign.form_version, campaign.kind) == ("fph", 1, "fph")


def test_a_dossier_of_the_fph_campaign_is_filled_and_deposed_with_the_lighter_form(
    client: TestClient, demo, db_engine
) -> None:
    campaign_id = _load_example_open_today(db_engine)
    porteur = Actor(client, "porteur@demo.aap.test")
    campaign = porteur.get(f"/api/v1/campaigns/{campaign_id}").json()
    assert campaign["form"] == {"code": "fph", "version": 1} and campaign["depot_ouvert"]

    schema = porteur.get(f"/api/v1/campaigns/{campaign_id}/form").json()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) == {"collectif", "projet", "demande", "engagement"}

    created = porteur.post(f"/api/v1/campaigns/{campaign_id}/dossiers")
    assert created.status_code == 201, created.text
    d = created.json()
    assert d["form"] == {"code": "fph", "version": 1}
    assert d["answers"]["collectif"]["nom"] == "Association Horizon Manosque"  # prefilled

    empty = porteur.fire(d["id"], "deposer")
    assert empty.status_code == 422
    assert "demande.montant" in {e["field"] for e in empty.json()["detail"]["errors"]}

    too_much = porteur.patch(
        f"/api/v1/dossiers/{d['id']}", {"answers": {"demande": {"montant": "2000"}}}, d["version"]
    )
    assert too_much.status_code == 422
    assert too_much.json()["detail"]["errors"][0]["path"] == "demande.montant"

    year = campaign["year"]
    answers = {
        "collectif": {
            "qpv": "QN00402M",
            "membres": 6,
            "referent": {"nom": "Haddad", "prenom": "Leïla", "telephone": "06 11 22 33 44"},
        },
        "projet": {
            "titre": "Repas partagé de la rue des Tilleuls",
            "description": "Un repas de quartier "
            "préparé par les habitants, avec une exposition de photos des enfants.",
            "date": f"{year}-06-20",
            "lieu": "Square des Tilleuls",
            "participants": 80,
        },
        "demande": {
            "financeur": "MANOSQUE",
            "montant": 600,
            "depenses": [
                {"libelle": "Courses et matériel", "montant": "450.00"},
                {"libelle": "Tirages photo", "montant": "250.00"},
            ],
            "autres_ressources": "100.00",
        },
        "engagement": {"nom": "Leïla Haddad", "sur_l_honneur": True},
    }
    saved = porteur.patch(f"/api/v1/dossiers/{d['id']}", {"answers": answers}, d["version"])
    assert saved.status_code == 200, saved.text
    saved = saved.json()
    jsonschema.Draft202012Validator(schema).validate(saved["answers"])
    assert [(c["financeur"], c["montant_demande"]) for c in saved["cofinancements"]] == [
        ("MANOSQUE", "600.00")
    ]

    deposed = porteur.fire(d["id"], "deposer")
    assert deposed.status_code == 200, deposed.text
    assert deposed.json()["state"] == "depose"
    assert "pieces" not in deposed.json()["answers"]  # no pièce asked by this form


def _verification_token(engine, email: str) -> str:  # type: ignore[no-untyped-def]
    import re

    from sqlalchemy import select

    from aap.models import Notification

    with Session(engine) as session:
        body = session.scalar(
            select(Notification.body_text)
            .where(Notification.recipient == email)
            .order_by(Notification.id.desc())
            .limit(1)
        )
    match = re.search(r"/verification/([A-Za-z0-9_\-]+)", body or "")
    assert match, body
    return match.group(1)


def test_an_inhabitants_group_without_siret_files_an_fph_request_but_not_to_the_annual_call(
    client: TestClient, demo, db_engine
) -> None:
    """Leïla registers the « Voisins des Tilleuls » as a group of inhabitants, without SIRET, as its
    referent; the group files to the FPH, whose file accepts such groups, and is told why the annual call
    does not take it."""
    fph_id = _load_example_open_today(db_engine)
    group = {"kind": "groupe_habitants", "name": "Les Voisins des Tilleuls", "city": "Manosque"}
    registration = {
        "email": "leila@tilleuls.test",
        "password": "Tilleuls en fleurs 2026 !",
        "organisation": group,
    }
    refused = client.post("/api/v1/auth/register", json=registration)  # no referent named, no phone
    assert refused.status_code == 422
    assert {e["path"] for e in refused.json()["detail"]["errors"]} == {"full_name", "phone"}
    association = {
        **registration,
        "full_name": "Leïla Haddad",
        "organisation": {**group, "kind": "association"},
    }
    refused = client.post("/api/v1/auth/register", json=association)
    assert "siret" in {e["path"] for e in refused.json()["detail"]["errors"]}  # an association has one

    registration = {
        **registration,
        "full_name": "Leïla Haddad",
        "organisation": {**group, "phone": "06 11 22 33 44"},
    }
    assert client.post("/api/v1/auth/register", json=registration).status_code == 202
    done = client.post(
        "/api/v1/auth/verify", json={"token": _verification_token(db_engine, "leila@tilleuls.test")}
    )
    assert done.status_code == 200, done.text
    assert done.json()["outcome"] == "organisation_creee"
    assert done.json()["organisation"]["siret"] is None

    leila = Actor(client, "leila@tilleuls.test", "Tilleuls en fleurs 2026 !")
    assert leila.get("/api/v1/campaigns").json()["items"]
    fph = leila.get(f"/api/v1/campaigns/{fph_id}").json()
    assert fph["groupes_habitants"] is True
    created = leila.post(f"/api/v1/campaigns/{fph_id}/dossiers")
    assert created.status_code == 201, created.text
    assert created.json()["answers"]["collectif"]["nom"] == "Les Voisins des Tilleuls"

    annual = next(
        c
        for c in leila.get("/api/v1/campaigns").json()["items"]
        if c["depot_ouvert"] and c["kind"] == "fonctionnement"
    )
    assert annual["groupes_habitants"] is False
    not_here = leila.post(f"/api/v1/campaigns/{annual['id']}/dossiers")
    assert not_here.status_code == 403
    assert not_here.json()["detail"]["code"] == "groupe_habitants_non_accepte"
    assert "Fonds de participation des habitants" in not_here.json()["detail"]["message"]
