"""An action under a CPO is not renewed by its porteur: the CPO makes its yearly dossier itself. The API
refuses with a French reason and a code, the page neither offers the button nor accepts the form."""

import html

from fastapi.testclient import TestClient

from tests.cpo.helpers import Walk, open_campaign, signed_cpo
from tests.web.staff_helpers import web_login


def test_an_action_under_a_cpo_is_not_reconducted_by_its_porteur(client: TestClient, demo) -> None:
    w = Walk(client)
    cpo = signed_cpo(w)
    origin = cpo["dossier_origine"]
    campaign = open_campaign(w.admin)
    assert campaign["year"] in [a["annee"] for a in cpo["annees"]]

    r = w.porteur.post(f"/api/v1/dossiers/{origin}/reconduire", json={"campaign_id": campaign["id"]})
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert detail["code"] == "dossier_sous_cpo"
    assert f"CPO) n° {cpo['id']}" in detail["message"] and "créée par la CPO elle-même" in detail["message"]
    assert detail["errors"][0]["field"] == "dossier_id"
    drafts = w.porteur.get("/api/v1/dossiers", params={"campaign_id": campaign["id"]}).json()["items"]
    assert origin not in {d["reconducted_from"] for d in drafts}  # no draft was made

    csrf = web_login(client, w.porteur.email)
    page = client.get("/mes-dossiers")
    assert page.status_code == 200
    assert f'action="/dossiers/{origin}/reconduire"' not in page.text
    posted = client.post(
        f"/dossiers/{origin}/reconduire", data={"csrf": csrf, "campaign_id": str(campaign["id"])}
    )
    assert posted.status_code == 409
    assert "créée par la CPO elle-même" in html.unescape(posted.text)


def test_an_ended_cpo_lets_its_action_be_reconducted() -> None:
    from workflows.reconduction import CpoCover, refusal

    live = CpoCover(7, "active", (2025, 2026, 2027))
    refused = refusal("conventionne", 1, 2, "g", "g", to_year=2026, cpo=live)
    assert refused is not None and refused[0] == "conflict" and refused[1].code == "dossier_sous_cpo"
    assert "années 2025 à 2027" in refused[1].message
    assert refusal("conventionne", 1, 2, "g", "g", to_year=2028, cpo=live) is None  # after its years
    ended = CpoCover(7, "resiliee", (2025, 2026, 2027))
    assert refusal("conventionne", 1, 2, "g", "g", to_year=2026, cpo=ended) is None
