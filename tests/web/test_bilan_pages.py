"""The bilan's pages over HTTP: the porteur's sections with the checklist and autosave, the
instructeur's review with the gaps, the focus page, the report page linked from the dashboard."""

from fastapi.testclient import TestClient

from tests.bilans.helpers import Walk, fill, owed
from tests.web.staff_helpers import csrf_of, web_login


def test_the_porteur_saves_a_section_by_autosave_and_sees_what_is_missing(client: TestClient, demo) -> None:
    d = owed(Walk(client))
    web_login(client, "porteur@demo.aap.test")
    page = client.get(f"/dossiers/{d['id']}/bilan")
    assert page.status_code == 200
    assert "Sections du bilan" in page.text and "réponse" in page.text and "Déposer le bilan" in page.text
    section = client.get(f"/dossiers/{d['id']}/bilan/section/appreciation")
    assert "data-autosave" in section.text
    version = int(section.text.split('name="version" value="')[1].split('"')[0])
    saved = client.post(
        f"/dossiers/{d['id']}/bilan/section/appreciation",
        data={
            "csrf": csrf_of(section.text),
            "version": str(version),
            "appreciation.qualitative": "Très bien.",
        },
        headers={"X-Autosave": "1"},
    )
    assert saved.status_code == 200 and saved.json()["ok"] and saved.json()["version"] == version + 1
    assert saved.json()["missing"]["appreciation"] == 2
    stale = client.post(
        f"/dossiers/{d['id']}/bilan/section/appreciation",
        data={"csrf": csrf_of(section.text), "version": str(version), "appreciation.qualitative": "Autre."},
        headers={"X-Autosave": "1"},
    )
    assert stale.status_code == 412 and stale.json()["code"] == "version_perimee"
    refused = client.post(f"/dossiers/{d['id']}/bilan/deposer", data={"csrf": csrf_of(section.text)})
    assert refused.status_code == 422 and "champ obligatoire" in refused.text


def test_the_instructeur_reviews_the_gaps_and_the_team_finds_focus_and_report(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    d = owed(w)
    fill(w.porteur, d["id"])
    assert w.porteur.fire(d["id"], "deposer_bilan").status_code == 200
    web_login(client, "instructeur@demo.aap.test")
    review = client.get(f"/dossiers/{d['id']}/bilan")
    assert "Écarts entre le prévu et le réalisé" in review.text and "<mark>+25 %</mark>" in review.text
    assert "Renvoyer le bilan pour corrections" in review.text and "Valider le bilan" in review.text
    no_date = client.post(
        f"/dossiers/{d['id']}/bilan/renvoyer", data={"csrf": csrf_of(review.text), "comment": "Détaillez."}
    )
    assert no_date.status_code == 422 and "date limite" in no_date.text
    assert "Focus bénéficiaires" in client.get("/focus").text
    dashboard = client.get("/tableau-de-bord")
    assert "/rapport" in dashboard.text
    web_login(client, "admin@demo.aap.test")
    focus = client.get("/focus")
    assert "On ne savait pas qu" in focus.text and "Organiser une séance" in focus.text
    campaign_id = d["campaign_id"]
    report = client.get(f"/campagnes/{campaign_id}/rapport")
    assert report.status_code == 200 and "Rapport de suivi et de bilan" in report.text
