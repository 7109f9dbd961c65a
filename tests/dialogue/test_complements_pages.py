"""While compléments are asked, the porteur edits a deposited dossier: never called a draft, with the
instructeur's message above the section being edited."""

import html
from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.api.helpers import Actor, complete_draft
from tests.web.staff_helpers import INSTRUCTEUR, csrf_of, web_login


def test_a_dossier_with_complements_asked_is_never_called_a_draft(client: TestClient, demo: date) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    instructeur = Actor(client, INSTRUCTEUR)
    assert instructeur.fire(dossier["id"], "prendre_en_instruction").status_code == 200
    due = (date.today() + timedelta(days=10)).isoformat()
    asked = instructeur.fire(
        dossier["id"], "demander_complements", comment="Précisez le nombre de séances.", due_date=due
    )
    assert asked.status_code == 200, asked.text

    web_login(client, "porteur@demo.aap.test")
    section = "action"
    page = html.unescape(client.get(f"/dossiers/{dossier['id']}/section/{section}").text)
    assert "Précisez le nombre de séances." in page
    assert "Enregistrer les compléments" in page
    assert "Enregistrer le brouillon" not in page and "pas encore déposé" not in page

    token = csrf_of(page)
    saved = client.post(
        f"/dossiers/{dossier['id']}/section/{section}",
        data={"csrf": token, "version": str(asked.json()["version"]), "action": "autosave"},
        headers={"X-Autosave": "1", "Accept": "application/json"},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["message"].startswith("Compléments enregistrés à")
    assert "brouillon" not in saved.json()["message"].lower()


def test_the_history_shows_which_answers_changed_with_the_complements(client: TestClient, demo: date) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    dossier = complete_draft(porteur)
    instructeur = Actor(client, INSTRUCTEUR)
    assert instructeur.fire(dossier["id"], "prendre_en_instruction").status_code == 200
    due = (date.today() + timedelta(days=10)).isoformat()
    asked = instructeur.fire(
        dossier["id"], "demander_complements", comment="Le calendrier des séances ?", due_date=due
    )
    assert asked.status_code == 200
    before = asked.json()["answers"]["action"]["description"]
    saved = porteur.patch(
        f"/api/v1/dossiers/{dossier['id']}",
        {"answers": {"action": {"description": "Chaque mercredi de mars à juin, 14 h - 17 h."}}},
        asked.json()["version"],
    )
    assert saved.status_code == 200, saved.text
    assert porteur.fire(dossier["id"], "completer", comment="Description précisée.").status_code == 200

    history = instructeur.get(f"/api/v1/dossiers/{dossier['id']}/history").json()["items"]
    done = [e for e in history if e["transition"] == "completer"][-1]
    assert done["data"]["changements"] == [
        {
            "path": "action.description",
            "label": "Description de l'action",
            "avant": before if len(before) <= 200 else before[:199] + "…",
            "apres": "Chaque mercredi de mars à juin, 14 h - 17 h.",
        }
    ]
    web_login(client, INSTRUCTEUR)
    page = html.unescape(client.get(f"/instruction/dossiers/{dossier['id']}").text)
    assert "1 réponse modifiée" in page and "→ Chaque mercredi de mars à juin" in page
