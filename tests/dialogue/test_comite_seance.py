"""The comité in one sitting: many avis at once, all or nothing, dated by the day the comité sat."""

import html
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from aap.dossiers import service as dossiers
from aap.financing import service as financing
from tests.api.helpers import Actor
from tests.web.staff_helpers import INSTRUCTEUR, csrf_of, deposit_demo_dossiers, user, web_login


def _instruit(engine: Engine, count: int) -> tuple[int, list[int]]:
    """`count` demo dossiers instructed (taken, amounts proposed, instruit), and their campaign."""
    ids = deposit_demo_dossiers(engine, count)
    now = datetime.now(UTC) - timedelta(days=10)
    with Session(engine, expire_on_commit=False) as session:
        instructeur = user(session, INSTRUCTEUR)
        for dossier_id in ids:
            dossiers.fire_transition(session, instructeur, dossier_id, "prendre_en_instruction", {}, now)
            d = dossiers.get_dossier(session, instructeur, dossier_id)
            for line in d.cofinancements:
                financing.propose(
                    session,
                    instructeur,
                    dossier_id,
                    line.financeur.code,
                    line.montant_demande * Decimal("0.8"),
                    now,
                )
            dossiers.fire_transition(session, instructeur, dossier_id, "terminer_instruction", {}, now)
        campaign_id = dossiers.get_dossier(session, instructeur, ids[0]).campaign_id
    return campaign_id, ids


def test_a_sitting_records_every_avis_or_none_with_the_comite_day(
    client: TestClient, demo: date, db_engine: Engine
) -> None:
    campaign_id, (a, b) = _instruit(db_engine, 2)
    instructeur = Actor(client, INSTRUCTEUR)
    sat = date.today() - timedelta(days=3)
    url = f"/api/v1/campaigns/{campaign_id}/comite"
    body = {
        "date": sat.isoformat(),
        "avis": [
            {"dossier_id": a, "avis": "favorable"},
            {"dossier_id": b, "avis": "bof", "commentaire": "Hors des orientations."},
        ],
    }
    refused = instructeur.post(url, json=body)
    assert refused.status_code == 422
    assert [(e["path"], e["dossier_id"]) for e in refused.json()["detail"]["errors"]] == [("avis.1.avis", b)]
    assert {instructeur.get(f"/api/v1/dossiers/{d}").json()["state"] for d in (a, b)} == {"instruit"}

    body["avis"][1]["avis"] = "defavorable"
    done = instructeur.post(url, json=body)
    assert done.status_code == 200, done.text
    assert [d["state"] for d in done.json()["items"]] == ["avise", "avise"]
    for d in done.json()["items"]:
        assert d["dates"]["avis_at"][:10] == sat.isoformat()
    history = instructeur.get(f"/api/v1/dossiers/{b}/history").json()["items"]
    avis = [e for e in history if e["transition"] == "rendre_avis"][-1]
    assert avis["data"] == {"avis": "defavorable", "date_comite": sat.isoformat()}
    assert avis["comment"] == "Hors des orientations."


def test_a_sitting_cannot_be_dated_in_the_future(client: TestClient, demo: date, db_engine: Engine) -> None:
    campaign_id, (a,) = _instruit(db_engine, 1)
    instructeur = Actor(client, INSTRUCTEUR)
    later = (date.today() + timedelta(days=2)).isoformat()
    refused = instructeur.post(
        f"/api/v1/campaigns/{campaign_id}/comite",
        json={"date": later, "avis": [{"dossier_id": a, "avis": "favorable"}]},
    )
    assert refused.status_code == 422
    assert refused.json()["detail"]["errors"][0]["code"] == "date_comite_future"
    porteur = Actor(client, "porteur@demo.aap.test")
    assert (
        porteur.post(
            f"/api/v1/campaigns/{campaign_id}/comite",
            json={"date": date.today().isoformat(), "avis": [{"dossier_id": a, "avis": "favorable"}]},
        ).status_code
        == 403
    )


def test_the_sitting_page_keeps_what_was_typed_when_refused_then_records_it(
    client: TestClient, demo: date, db_engine: Engine
) -> None:
    campaign_id, (a, b) = _instruit(db_engine, 2)
    web_login(client, INSTRUCTEUR)
    page = client.get(f"/instruction/comite/{campaign_id}/seance")
    assert page.status_code == 200
    token = csrf_of(page.text)
    later = (date.today() + timedelta(days=5)).isoformat()
    form = {
        "csrf": token,
        "date": later,
        f"avis-{a}": "favorable",
        f"commentaire-{a}": "Action attendue par les habitants.",
        f"avis-{b}": "",
    }
    refused = client.post(f"/instruction/comite/{campaign_id}/seance", data=form)
    assert refused.status_code == 422
    shown = html.unescape(refused.text)
    assert "Rien n'a été enregistré" in shown and "Action attendue par les habitants." in shown

    form["date"] = (date.today() - timedelta(days=1)).isoformat()
    done = client.post(f"/instruction/comite/{campaign_id}/seance", data=form, follow_redirects=False)
    assert done.status_code == 303
    instructeur = Actor(client, INSTRUCTEUR)
    assert instructeur.get(f"/api/v1/dossiers/{a}").json()["state"] == "avise"
    assert instructeur.get(f"/api/v1/dossiers/{b}").json()["state"] == "instruit"
