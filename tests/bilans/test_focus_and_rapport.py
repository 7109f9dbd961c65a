"""The focus bénéficiaires and the annual report over the API."""

from datetime import date, timedelta
from io import BytesIO

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.accessible_pdf import fonts
from tests.bilans.helpers import Walk, fill, owed
from tests.financing.helpers import previous_campaign


def test_an_operator_registers_beneficiaries_for_the_autumn_focus(client: TestClient, demo) -> None:
    w = Walk(client)
    year = previous_campaign(w.admin)["year"]
    created = w.admin.post(
        "/api/v1/focus",
        json={
            "date": (date.today() + timedelta(days=30)).isoformat(),
            "heure": "18:30",
            "lieu": "Centre social",
            "qpv": "QN00401M",
            "annee": year,
        },
    )
    assert created.status_code == 201, created.text
    fid = created.json()["id"]
    assert w.porteur.post("/api/v1/focus", json={"date": "2026-10-01", "lieu": "x"}).status_code == 403

    d = owed(w)
    url = f"/api/v1/focus/{fid}/participations"
    counts = {"femmes": 3, "hommes": 2, "age_12_17": 4, "age_26_64": 1}
    r = w.porteur.post(url, json={"dossier_id": d["id"], "beneficiaires": counts})
    assert r.status_code == 201, r.text
    assert r.json()["total"] == 5
    # counts that do not add up, an unknown profile, another association's dossier
    wrong = w.porteur.post(
        url, json={"dossier_id": d["id"], "beneficiaires": {"femmes": 3, "hommes": 2, "age_12_17": 1}}
    )
    assert wrong.status_code == 422 and wrong.json()["detail"]["errors"][0]["code"] == "beneficiaires_age"
    named = w.porteur.post(
        url, json={"dossier_id": d["id"], "beneficiaires": {"femmes": 1, "hommes": 0, "nom": 1}}
    )
    assert named.status_code == 422
    assert w.porteur2.post(url, json={"dossier_id": d["id"], "beneficiaires": counts}).status_code == 404
    # a dossier not funded
    draft = w.porteur.get("/api/v1/dossiers", params={"state": "brouillon"}).json()["items"][0]
    assert w.porteur.post(url, json={"dossier_id": draft["id"], "beneficiaires": counts}).status_code == 409

    said = w.admin.post(
        f"/api/v1/focus/{fid}/contributions",
        json={
            "theme": "Mobilité",
            "texte": "Le bus ne passe plus après 19 h.",
            "propositions": "Navette le soir.",
        },
    )
    assert said.status_code == 201
    assert (
        w.porteur.post(f"/api/v1/focus/{fid}/contributions", json={"theme": "x", "texte": "y"}).status_code
        == 403
    )

    listed = w.instructeur.get("/api/v1/focus", params={"territory": "dlva", "annee": year}).json()
    session = next(s for s in listed["items"] if s["id"] == fid)
    assert session["beneficiaires"]["total"] == 5 and session["beneficiaires"]["operateurs"] == 1
    assert session["contributions"][0]["texte"] == "Le bus ne passe plus après 19 h."
    mine = next(
        s for s in w.porteur.get("/api/v1/focus", params={"annee": year}).json()["items"] if s["id"] == fid
    )
    assert [p["dossier_id"] for p in mine["participations"]] == [d["id"]]
    theirs = next(
        s for s in w.porteur2.get("/api/v1/focus", params={"annee": year}).json()["items"] if s["id"] == fid
    )
    assert theirs["participations"] == []


def test_the_report_adds_up_to_the_bilans_and_its_pdf_and_xlsx_open(client: TestClient, demo) -> None:
    w = Walk(client)
    campaign = previous_campaign(w.admin)
    url = f"/api/v1/campaigns/{campaign['id']}/rapport"
    before = w.admin.get(url).json()
    # the demo: 5 bilans expected; one validated, one sent back, one filed, one late
    assert before["bilans"]["attendus"] == 5
    assert before["bilans"]["valides"] == 1 and before["bilans"]["deposes"] == 2
    assert before["bilans"]["a_corriger"] == 1 and before["bilans"]["en_retard"] == 1

    d = owed(w, w.porteur2)
    filled = fill(w.porteur2, d["id"])
    assert w.porteur2.fire(d["id"], "deposer_bilan").status_code == 200
    after = w.admin.get(url).json()
    assert after["bilans"]["deposes"] == before["bilans"]["deposes"] + 1
    benef = filled["answers"]["beneficiaires"]
    assert after["beneficiaires"]["total"] == before["beneficiaires"]["total"] + benef["total"]
    assert (
        after["beneficiaires"]["par_sexe"]["femmes"]
        == before["beneficiaires"]["par_sexe"]["femmes"] + benef["sexe"]["femmes"]
    )
    assert sum(after["beneficiaires"]["par_age"].values()) == after["beneficiaires"]["total"]
    assert sum(after["beneficiaires"]["par_qpv"].values()) == after["beneficiaires"]["total"]
    for row in filled["answers"]["budget"]["financements"]:
        code = row["financeur"]
        was = float(before["montants"]["realise"].get(code, "0"))
        assert float(after["montants"]["realise"][code]) == was + float(row["realise"])
    assert any(i["dossier_id"] == d["id"] for i in after["indicateurs"])
    assert after["focus"]["contributions"] and after["focus"]["beneficiaires"] == 11
    assert {x["code"] for x in after["delais"]} >= {"depot_decision", "bilan_validation"}

    pdf = w.admin.get(url, params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # the Unicode font is embedded: « œuvre », « € » print as such
    assert any("DejaVu" in name for name in fonts(pdf.content))
    xlsx = w.admin.get(url, params={"format": "xlsx"})
    assert xlsx.status_code == 200
    book = load_workbook(BytesIO(xlsx.content))
    assert book["Synthèse"]["B4"].value == after["bilans"]["attendus"]
    assert {"Bénéficiaires", "Montants", "Indicateurs", "Focus bénéficiaires", "Délais"} <= set(
        book.sheetnames
    )
    # the open call's report cites what last year's focus said, for the team preparing it
    current = w.admin.get("/api/v1/campaigns").json()["items"]
    open_id = next(c["id"] for c in current if c["id"] != campaign["id"])
    cited = w.admin.get(f"/api/v1/campaigns/{open_id}/rapport").json()["focus_pour_cet_appel"]
    assert {c["theme"] for c in cited} >= {"Accès aux droits", "Jeunesse"}
    # a porteur does not read the report
    assert w.porteur.get(url).status_code == 403
