"""An adjusted budget after a partial grant: the porteur files the budget again with what was
accorded, through the form's budget section (complete, balanced, versioned), and the letters annex it."""

from decimal import Decimal

from fastapi.testclient import TestClient

from tests.financing.helpers import Walk, to_avise
from tests.financing.test_documents_content import documents, pdf_text


def put(actor, url: str, budget: dict, version: object):  # type: ignore[no-untyped-def]
    return actor.client.put(url, json={"budget": budget}, headers={**actor.headers, "If-Match": str(version)})


def test_after_a_partial_grant_the_porteur_files_the_adjusted_budget_and_the_letter_refers_to_it(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    d = to_avise(w)
    accorded = {}
    for line in d["cofinancements"]:
        accorded[line["financeur"]] = (Decimal(line["montant_demande"]) * Decimal("0.6")).quantize(
            Decimal("0.01")
        )
        assert w.decide(d["id"], line["financeur"], "accorde", accorded[line["financeur"]]).status_code == 200
    d = w.porteur.get(f"/api/v1/dossiers/{d['id']}").json()
    assert d["state"] == "programme"
    url = f"/api/v1/dossiers/{d['id']}/budget-ajuste"
    state = w.porteur.get(url).json()
    assert state["required"] and state["open"] and state["budget"] is None

    budget = d["answers"]["budget"]
    produits = sum((Decimal(p["montant"]) for p in budget.get("produits", [])), Decimal(0))
    total = produits + sum(accorded.values(), Decimal(0))
    adjusted = {
        "charges": [{"compte": "64", "libelle": "Animatrice à mi-temps (réduit)", "montant": f"{total:.2f}"}],
        "produits": budget.get("produits", []),
        "financements": {code: f"{v:.2f}" for code, v in accorded.items()},
    }
    wrong = {**adjusted, "financements": dict(budget["financements"])}  # still the amounts asked
    r = put(w.porteur, url, wrong, str(d["version"]))
    assert r.status_code == 422
    paths = {e["path"] for e in r.json()["detail"]["errors"]}
    assert {f"budget.financements.{code}" for code in accorded} <= paths
    unbalanced = {**adjusted, "charges": [{"compte": "64", "libelle": "x", "montant": "1.00"}]}
    r = put(w.porteur, url, unbalanced, str(d["version"]))
    assert r.status_code == 422 and "budget" in {
        e["path"].split(".")[0] for e in r.json()["detail"]["errors"]
    }
    assert put(w.porteur, url, adjusted, "1").status_code == 412
    assert put(w.instructeur, url, adjusted, str(d["version"])).status_code == 403

    r = put(w.porteur, url, adjusted, str(d["version"]))
    assert r.status_code == 200, r.text
    assert r.json()["budget_version"] == 1 and r.json()["version"] == d["version"] + 1
    history = w.porteur.get(f"/api/v1/dossiers/{d['id']}/history").json()["items"]
    assert history[-1]["transition"] == "budget_ajuste"

    assert w.instructeur.fire(d["id"], "conventionner").status_code == 200
    doc = next(iter(documents(w.porteur, d["id"]).values()))
    text = pdf_text(w.porteur.get(f"/api/v1/dossiers/{d['id']}/documents/{doc['id']}").content)
    assert "budget prévisionnel de l'action ajusté après décision" in text
    assert "Animatrice à mi-temps (réduit)" in text


def test_the_porteur_files_the_adjusted_budget_from_its_dossier_page(client: TestClient, demo) -> None:
    """« Moins a été accordé que demandé » on the dossier page; the porteur opens the budget, sees the
    accorded subsidies in place, is told when it does not balance, then files it: version 1."""
    import html
    import re

    from tests.web.staff_helpers import csrf_of, web_login

    w = Walk(client)
    d = to_avise(w)
    accorded = {}
    for line in d["cofinancements"]:
        accorded[line["financeur"]] = (Decimal(line["montant_demande"]) / 2).quantize(Decimal("0.01"))
        assert w.decide(d["id"], line["financeur"], "accorde", accorded[line["financeur"]]).status_code == 200
    budget = w.porteur.get(f"/api/v1/dossiers/{d['id']}").json()["answers"]["budget"]

    web_login(client, "porteur@demo.aap.test")
    dossier_page = html.unescape(client.get(f"/dossiers/{d['id']}").text)
    assert "Moins a été accordé que demandé" in dossier_page
    assert f'href="/dossiers/{d["id"]}/budget-ajuste"' in dossier_page
    page = client.get(f"/dossiers/{d['id']}/budget-ajuste")
    assert page.status_code == 200
    for code, amount in accorded.items():  # the subsidies come filled with what was accorded
        field = re.search(rf'name="budget\.financements\.{code}" value="([^"]*)"', page.text)
        assert field and Decimal(field.group(1)) == amount, code

    produits = sum((Decimal(p["montant"]) for p in budget.get("produits", [])), Decimal(0))
    total = produits + sum(accorded.values(), Decimal(0))
    fields: dict[str, str] = {
        "csrf": csrf_of(page.text),
        "version": re.search(r'name="version" value="(\d+)"', page.text).group(1),
    }  # type: ignore[union-attr]
    for i, p in enumerate(budget.get("produits", [])):
        fields.update({f"budget.produits.{i}.{k}": str(p[k]) for k in ("compte", "libelle", "montant")})
    fields.update({f"budget.financements.{code}": f"{v:.2f}" for code, v in accorded.items()})
    fields.update({"budget.charges.0.compte": "64", "budget.charges.0.libelle": "Animatrice (réduit)"})

    refused = client.post(
        f"/dossiers/{d['id']}/budget-ajuste",
        data={**fields, "budget.charges.0.montant": "10,00"},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    shown = html.unescape(refused.text)
    assert "Rien n'a été enregistré" in shown and "Animatrice (réduit)" in shown  # what was typed stays

    filed = client.post(
        f"/dossiers/{d['id']}/budget-ajuste",
        data={**fields, "budget.charges.0.montant": f"{total:.2f}"},
        follow_redirects=False,
    )
    assert filed.status_code == 303, html.unescape(filed.text)[:3000]
    assert "Budget ajusté déposé (version 1)" in html.unescape(client.get(filed.headers["location"]).text)
    state = w.porteur.get(f"/api/v1/dossiers/{d['id']}/budget-ajuste").json()
    assert state["budget_version"] == 1
    assert state["budget"]["charges"][0]["libelle"] == "Animatrice (réduit)"
