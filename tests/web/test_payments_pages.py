"""Payments on screen: the instructeur or the financer records an avance or the solde from the dossier
page; the porteur sees the schedule and what was paid on its own dossier page."""

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.financing.helpers import Walk, to_avise
from tests.web.staff_helpers import AGENTS, web_login


def conventioned(client: TestClient) -> dict[str, Any]:
    """A fresh dossier, every line accorded in full and conventioned: nothing paid yet."""
    w = Walk(client)
    d = to_avise(w)
    for line in d["cofinancements"]:
        assert w.decide(d["id"], line["financeur"], "accorde", line["montant_demande"]).status_code == 200
    r = w.instructeur.fire(d["id"], "conventionner")
    assert r.status_code == 200, r.text
    return r.json()


def euros(value: Decimal) -> str:
    from aap.web.rendering import euros as shown

    return shown(value)


def test_the_instructeur_records_an_avance_and_the_porteur_sees_it_in_the_schedule(
    client: TestClient, demo: date
) -> None:
    d = conventioned(client)
    line = d["cofinancements"][0]
    code, accorde = line["financeur"], Decimal(line["montant_accorde"])
    avance = (accorde / 2).quantize(Decimal("0.01"))
    today = date.today()

    token = web_login(client, "instructeur@demo.aap.test")
    page = client.get(f"/instruction/dossiers/{d['id']}").text
    assert "Échéancier et versements" in page and f'action="/paiements/dossiers/{d["id"]}/{code}"' in page
    too_much = client.post(
        f"/paiements/dossiers/{d['id']}/{code}",
        data={"csrf": token, "kind": "avance", "paid_on": today.isoformat(), "montant": str(accorde + 1)},
    )
    assert too_much.status_code == 422
    assert (
        "Le versement n&#39;a pas été enregistré" not in too_much.text
    )  # the instruction page's own summary
    assert "dépasse ce qui reste à verser" in too_much.text and 'aria-invalid="true"' in too_much.text
    done = client.post(
        f"/paiements/dossiers/{d['id']}/{code}",
        data={"csrf": token, "kind": "avance", "paid_on": today.isoformat(), "montant": f"{avance:.2f}"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert euros(accorde - avance) in client.get(f"/instruction/dossiers/{d['id']}").text  # what is left

    web_login(client, "porteur@demo.aap.test")
    page = client.get(f"/dossiers/{d['id']}").text
    assert "Échéancier des versements" in page
    assert f"{euros(avance)} le" in page  # what was paid, and when
    assert "Solde, après acceptation du compte rendu financier" in page and "pas encore" in page


def test_a_financer_records_its_avance_from_its_page_and_only_on_its_line(
    client: TestClient, demo: date
) -> None:
    d = conventioned(client)
    mine, other = d["cofinancements"][0], d["cofinancements"][1]
    token = web_login(client, AGENTS[mine["financeur"]])
    page = client.get(f"/financeur/dossiers/{d['id']}").text
    assert f"/paiements/dossiers/{d['id']}/{mine['financeur']}" in page
    assert f"/paiements/dossiers/{d['id']}/{other['financeur']}" not in page
    solde = client.post(
        f"/paiements/dossiers/{d['id']}/{mine['financeur']}",
        data={"csrf": token, "kind": "solde", "paid_on": date.today().isoformat(), "montant": "1"},
    )
    assert solde.status_code == 409  # the solde waits for the bilan, said on the page
    assert "Le versement n&#39;a pas été enregistré" in solde.text
    r = client.post(
        f"/paiements/dossiers/{d['id']}/{mine['financeur']}",
        data={"csrf": token, "kind": "avance", "paid_on": date.today().isoformat(), "montant": "100.00"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    left = Decimal(mine["montant_accorde"]) - Decimal("100.00")
    assert f"reste à verser : {euros(left)}" in client.get(f"/financeur/dossiers/{d['id']}").text
    refused = client.post(
        f"/paiements/dossiers/{d['id']}/{other['financeur']}",
        data={"csrf": token, "kind": "avance", "paid_on": date.today().isoformat(), "montant": "1"},
    )
    assert refused.status_code in (403, 404)
