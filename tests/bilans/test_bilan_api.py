"""The bilan over the API: prefilled, saved with versions, refused while incomplete with every
missing field, filed, sent back with a message (answers kept), validated; the solde waits for it."""

from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.bilans.helpers import Walk, fill, owed, upload_statements


def test_a_bilan_is_prefilled_from_the_dossier_and_its_form_is_json_schema(client: TestClient, demo) -> None:
    w = Walk(client)
    d = owed(w)
    r = w.porteur.get(f"/api/v1/dossiers/{d['id']}/bilan")
    assert r.status_code == 200, r.text
    bilan = r.json()
    assert r.headers["ETag"] == f'"{bilan["version"]}"'
    assert bilan["state"] in ("a_faire", "brouillon") and bilan["form"] == {"code": "bilan", "version": 1}
    assert bilan["due_date"] and not bilan["complete"]
    answers = bilan["answers"]
    assert answers["realisation"]["titre"] == d["title"]
    # the budget lines come with their prévu, each financer's line with its accorded amount
    assert answers["budget"]["charges"][0]["prevu"] == d["answers"]["budget"]["charges"][0]["montant"]
    accorded = {c["financeur"]: c["montant_accorde"] for c in d["cofinancements"]}
    assert {row["financeur"]: row["prevu"] for row in answers["budget"]["financements"]} == accorded
    assert (
        answers["indicateurs"]["droit_commun"]["indicateur"]
        == d["answers"]["action"]["indicateur_droit_commun"]
    )

    schema = w.porteur.get(f"/api/v1/dossiers/{d['id']}/bilan/form").json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["x-gap-threshold"] == "0.15"
    assert {"budget", "beneficiaires", "indicateurs", "appreciation"} <= set(schema["properties"])


def test_the_whole_year_end_refused_filed_returned_corrected_validated_and_the_solde(
    client: TestClient, demo
) -> None:
    w = Walk(client)
    d = owed(w)
    did = d["id"]
    url = f"/api/v1/dossiers/{did}/bilan"

    # incomplete: refused with every missing field, nothing lost
    refused = w.porteur.fire(did, "deposer_bilan")
    assert refused.status_code == 422, refused.text
    errors = refused.json()["detail"]["errors"]
    fields = {e["field"] for e in errors}
    assert {"realisation.objectifs_atteints", "beneficiaires.total", "appreciation.qualitative"} <= fields
    assert "pieces.etats_financiers" in fields
    assert all(e["message"] for e in errors)

    # the solde waits for the validated bilan
    line = d["cofinancements"][0]
    pay = f"/api/v1/dossiers/{did}/cofinancements/{line['financeur']}/paiements"
    today = date.today().isoformat()
    blocked = w.admin.post(pay, json={"kind": "solde", "date": today, "montant": "1.00"})
    assert blocked.status_code == 409, blocked.text
    assert blocked.json()["detail"]["code"] == "bilan_non_valide"
    assert "validation du bilan" in blocked.json()["detail"]["message"]

    filled = fill(w.porteur, did)
    assert filled["complete"] and filled["state"] == "brouillon", filled["checklist"]
    assert w.porteur.fire(did, "deposer_bilan").status_code == 200
    assert w.porteur.get(url).json()["state"] == "depose"
    # a filed bilan is no longer changed
    again = w.porteur.patch(url, {"answers": {"appreciation": {"suites": "x"}}}, filled["version"] + 1)
    assert again.status_code == 409

    # sent back: a message and a due date are required
    no_due = w.instructeur.fire(did, "renvoyer_bilan", comment="Joignez le détail des charges.")
    assert no_due.status_code == 422
    assert {e["field"] for e in no_due.json()["detail"]["errors"]} == {"due_date"}
    due = (date.today() + timedelta(days=20)).isoformat()
    back = w.instructeur.fire(did, "renvoyer_bilan", comment="Joignez le détail des charges.", due_date=due)
    assert back.status_code == 200, back.text
    returned = w.porteur.get(url).json()
    assert returned["state"] == "a_corriger" and returned["due_date"] == due
    assert returned["comment"] == "Joignez le détail des charges."
    assert returned["answers"] == w.porteur.get(url).json()["answers"]
    assert returned["answers"]["appreciation"]["suites"] == filled["answers"]["appreciation"]["suites"]

    corrected = w.porteur.patch(
        url, {"answers": {"appreciation": {"difficultes": "Détail joint."}}}, returned["version"]
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["state"] == "a_corriger"
    assert w.porteur.fire(did, "deposer_bilan").status_code == 200
    done = w.instructeur.fire(did, "valider_bilan")
    assert done.status_code == 200 and done.json()["state"] == "cloture"
    assert w.porteur.get(url).json()["state"] == "valide"

    paid = w.admin.post(pay, json={"kind": "solde", "date": today, "montant": "1.00"})
    assert paid.status_code == 201, paid.text


def test_bad_input_each_refused_with_its_field_and_code(client: TestClient, demo) -> None:
    w = Walk(client)
    d = owed(w)
    did = d["id"]
    url = f"/api/v1/dossiers/{did}/bilan"
    filled = fill(w.porteur, did)
    version = filled["version"]

    # beneficiaries that do not add up
    r = w.porteur.patch(url, {"answers": {"beneficiaires": {"sexe": {"femmes": 30}}}}, version)
    assert r.status_code == 200
    version = r.json()["version"]
    refused = w.porteur.fire(did, "deposer_bilan")
    assert refused.status_code == 422
    sexe = [e for e in refused.json()["detail"]["errors"] if e["code"] == "beneficiaires_sexe"]
    assert sexe and sexe[0]["field"] == "beneficiaires.sexe"
    assert "ne correspond pas au nombre total de bénéficiaires (40)" in sexe[0]["message"]
    r = w.porteur.patch(url, {"answers": {"beneficiaires": {"sexe": {"femmes": 22}}}}, version)
    version = r.json()["version"]

    # a réalisé far from its prévu without explanation
    charges = r.json()["answers"]["budget"]["charges"]
    charges[1]["explication"] = None
    r = w.porteur.patch(url, {"answers": {"budget": {"charges": charges}}}, version)
    assert r.status_code == 200, r.text
    version = r.json()["version"]
    assert any(g["path"] == "budget.charges.1" for g in r.json()["ecarts"])
    refused = w.porteur.fire(did, "deposer_bilan")
    gap = [e for e in refused.json()["detail"]["errors"] if e["code"] == "ecart_non_explique"]
    assert [e["field"] for e in gap] == ["budget.charges.1.explication"]
    assert "s'écarte de plus de 15" in gap[0]["message"]

    # a wrong value: 422 on its field, nothing saved; a stale version: 412
    bad = w.porteur.patch(url, {"answers": {"beneficiaires": {"total": "beaucoup"}}}, version)
    assert bad.status_code == 422
    assert bad.json()["detail"]["errors"][0]["path"] == "beneficiaires.total"
    assert w.porteur.get(url).json()["answers"]["beneficiaires"]["total"] == 40
    stale = w.porteur.patch(url, {"answers": {"beneficiaires": {"total": 41}}}, version - 1)
    assert stale.status_code == 412

    # a bilan of another association: as if it did not exist
    assert w.porteur2.get(url).status_code == 404
    assert w.porteur2.patch(url, {"answers": {}}, version).status_code == 404
    assert w.porteur2.fire(did, "deposer_bilan").status_code == 404
    upload = client.post(
        f"{url}/attachments",
        headers=w.porteur2.headers,
        files={"file": ("x.pdf", b"%PDF-1.4", "application/pdf")},
        data={"kind": "etats_financiers"},
    )
    assert upload.status_code == 404
    # an instructeur reads it but does not write it
    assert w.instructeur.get(url).status_code == 200
    assert w.instructeur.patch(url, {"answers": {}}, version).status_code == 403
    assert upload_statements(w.porteur, did)["kind"] == "etats_financiers"
