"""Steps the bilan tests share: a conventioned dossier whose bilan is still to write, filled through
the API like a porteur would."""

from typing import Any

from aap.demo.bilans import complete_answers
from aap.demo.pieces import piece_pdf
from tests.financing.helpers import Actor, Walk, previous_campaign

__all__ = ["Walk", "fill", "owed", "upload_statements"]


def owed(w: Walk, porteur: Actor | None = None) -> dict[str, Any]:
    """A conventioned dossier of `porteur` whose bilan is not yet filed (the demo leaves some)."""
    porteur = porteur or w.porteur
    campaign = previous_campaign(porteur)
    items = porteur.get(
        "/api/v1/dossiers", params={"campaign_id": campaign["id"], "state": "conventionne"}
    ).json()["items"]
    for d in items:
        bilan = porteur.get(f"/api/v1/dossiers/{d['id']}/bilan").json()
        if bilan["state"] in ("a_faire", "brouillon"):
            return d
    raise AssertionError("the demo leaves no bilan to write")


def upload_statements(porteur: Actor, dossier_id: int) -> dict[str, Any]:
    r = porteur.client.post(
        f"/api/v1/dossiers/{dossier_id}/bilan/attachments",
        headers=porteur.headers,
        files={"file": ("etats.pdf", piece_pdf("États financiers", "Démo", 2026), "application/pdf")},
        data={"kind": "etats_financiers"},
    )
    assert r.status_code == 201, r.text
    return r.json()


def fill(porteur: Actor, dossier_id: int) -> dict[str, Any]:
    """The bilan made complete: the financial statements attached, every answer given."""
    upload_statements(porteur, dossier_id)
    bilan = porteur.get(f"/api/v1/dossiers/{dossier_id}/bilan").json()
    qpv = "QN00401M"
    answers = complete_answers(bilan["answers"], qpv, bilan["answers"]["pieces"]["etats_financiers"])
    r = porteur.patch(f"/api/v1/dossiers/{dossier_id}/bilan", {"answers": answers}, bilan["version"])
    assert r.status_code == 200, r.text
    return r.json()
