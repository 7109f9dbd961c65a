"""Versions: a campaign pins its form's version; a dossier keeps the version it was started with."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

import forms.form
from aap.campaigns.service import save_campaign
from aap.demo.campaigns import demo_campaigns
from aap.rules_files import parse_campaign
from tests.api.helpers import Actor, complete_draft, drafts, open_campaign

NEW_QUESTION = """      - key: evaluation_externe
        type: boolean
        label: "L'action fera-t-elle l'objet d'une évaluation externe ?"
        required: true
"""


@pytest.fixture
def guichet_v2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Next year's guichet unique: v1 plus one required question, beside v1 in the definitions."""
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    v1 = (forms.form.DEFINITIONS / "guichet_unique.v1.yaml").read_text(encoding="utf-8")
    v2 = v1.replace("version: 1\n", "version: 2\n", 1)
    anchor = "      - key: focus_beneficiaires\n"
    assert anchor in v2
    v2 = v2.replace(anchor, NEW_QUESTION + anchor, 1)
    (definitions / "guichet_unique.v2.yaml").write_text(v2, encoding="utf-8")
    monkeypatch.setattr(forms.form, "DEFINITION_DIRS", [*forms.form.DEFINITION_DIRS, definitions])
    forms.form._load.cache_clear()
    yield
    forms.form._load.cache_clear()


def _move_open_campaign_to(version: int, engine) -> None:  # type: ignore[no-untyped-def]
    data = demo_campaigns(date.today())[0]
    data["form"] = {"code": "guichet_unique", "version": version}
    with Session(engine) as session:
        save_campaign(session, parse_campaign(data, "test"))
        session.commit()


def test_a_dossier_keeps_its_form_version_when_the_campaign_moves_to_the_next(
    client: TestClient, demo, db_engine, guichet_v2
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    campaign = open_campaign(porteur)
    before = drafts(porteur, campaign["id"])
    assert {d["form"]["version"] for d in before} == {1}

    _move_open_campaign_to(2, db_engine)
    campaign = porteur.get(f"/api/v1/campaigns/{campaign['id']}").json()
    assert campaign["form"] == {"code": "guichet_unique", "version": 2}
    published = porteur.get(f"/api/v1/campaigns/{campaign['id']}/form").json()
    assert "evaluation_externe" in published["properties"]["action"]["properties"]

    # this year's drafts stay on v1: saved and deposed without the new question
    d = before[0]
    saved = porteur.patch(
        f"/api/v1/dossiers/{d['id']}", {"answers": {"action": {"lieux": "Salle Jean Moulin"}}}, d["version"]
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["form"] == {"code": "guichet_unique", "version": 1}
    unknown_to_v1 = porteur.patch(
        f"/api/v1/dossiers/{d['id']}",
        {"answers": {"action": {"evaluation_externe": True}}},
        saved.json()["version"],
    )
    assert unknown_to_v1.status_code == 422
    deposed = complete_draft(porteur)
    assert deposed["state"] == "depose" and deposed["form"]["version"] == 1

    # a dossier started now is on v2, and its dépôt asks the new question
    new = porteur.post(f"/api/v1/campaigns/{campaign['id']}/dossiers").json()
    assert new["form"] == {"code": "guichet_unique", "version": 2}
    template = next(x for x in drafts(porteur, campaign["id"]) if x["form"]["version"] == 1 and x["title"])
    answers = {k: v for k, v in template["answers"].items() if k != "pieces"}
    filled = porteur.patch(f"/api/v1/dossiers/{new['id']}", {"answers": answers}, new["version"]).json()
    refused = porteur.fire(new["id"], "deposer")
    assert refused.status_code == 422
    assert "action.evaluation_externe" in {e["field"] for e in refused.json()["detail"]["errors"]}
    answered = porteur.patch(
        f"/api/v1/dossiers/{new['id']}",
        {"answers": {"action": {"evaluation_externe": False}}},
        filled["version"],
    )
    assert answered.status_code == 200, answered.text
    assert "action.evaluation_externe" not in {
        e["field"] for e in porteur.fire(new["id"], "deposer").json().get("detail", {}).get("errors", [])
    }
