"""A financer reads the versions of the pièces in force (those the dossier it reads relies on, or the
organisation's current ones), never a version the association replaced before."""

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api.helpers import Actor
from tests.guichet.helpers import PDF, upload
from tests.rgpd.helpers import ETAT, PORTEUR, dossier_read_by_etat, horizon, linked_piece


def test_a_financer_reads_the_pieces_in_force_not_the_replaced_versions(
    client: TestClient, demo, session: Session
) -> None:
    org_id = horizon(session).id
    dossier = dossier_read_by_etat(session)
    deposited_statuts = linked_piece(session, dossier, "statuts")
    session.close()
    porteur, etat = Actor(client, PORTEUR), Actor(client, ETAT)
    url = f"/api/v1/organisations/{org_id}/pieces"
    first = upload(porteur, url, PDF + b"% version 1", "statuts-v1.pdf")
    second = upload(porteur, url, PDF + b"% version 2", "statuts-v2.pdf")
    assert first.status_code == second.status_code == 201
    replaced, current = first.json()["id"], second.json()["id"]

    # the version replaced before any dossier relied on it: not for the État
    assert etat.get(f"/api/v1/attachments/{replaced}").status_code == 404
    # the version deposited with the dossier (replaced since) and the current one: yes
    assert etat.get(f"/api/v1/attachments/{deposited_statuts.id}").status_code == 200
    assert etat.get(f"/api/v1/attachments/{current}").status_code == 200
    listed = etat.get(f"/api/v1/dossiers/{dossier.id}/attachments").json()
    ids = {a["id"] for a in listed["items"]}
    assert replaced not in ids and deposited_statuts.id in ids
    # the association and the team still read every version
    assert porteur.get(f"/api/v1/attachments/{replaced}").status_code == 200
    assert (
        Actor(client, "instructeur@demo.aap.test").get(f"/api/v1/attachments/{replaced}").status_code == 200
    )
