"""The dossier's checklist never says « complet » for the pièces while a required pièce is missing."""

import re
from datetime import date

from fastapi.testclient import TestClient

from tests.api.helpers import open_campaign
from tests.guichet.helpers import PDF, porteur_without_pieces, upload
from tests.web.staff_helpers import web_login

KINDS = ("statuts", "liste_dirigeants", "rib", "comptes_approuves", "rapport_activite")


def pieces_line(client: TestClient, dossier_id: int) -> str:
    page = client.get(f"/dossiers/{dossier_id}").text
    return dict(re.findall(r'data-missing-for="(\w+)">([^<]*)<', page))["pieces"]


def test_a_newcomer_without_pieces_is_told_they_are_missing_until_each_is_sent(
    client: TestClient, demo: date, db_engine
) -> None:
    newcomer = porteur_without_pieces(client, db_engine)
    d = newcomer.post(f"/api/v1/campaigns/{open_campaign(newcomer)['id']}/dossiers").json()
    web_login(client, "porteur3@demo.aap.test")
    assert pieces_line(client, d["id"]) == "5 réponses manquantes"
    for kind in KINDS[:-1]:
        assert upload(newcomer, f"/api/v1/dossiers/{d['id']}/attachments", PDF, kind=kind).status_code == 201
    assert pieces_line(client, d["id"]) == "1 réponse manquante"  # the activity report, still missing
    assert upload(newcomer, f"/api/v1/dossiers/{d['id']}/attachments", PDF, kind=KINDS[-1]).status_code == 201
    assert pieces_line(client, d["id"]) == "complet"
