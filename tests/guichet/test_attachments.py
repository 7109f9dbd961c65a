"""Attachments: typed by content, bounded in size, stored by hash, read by whoever reads the dossier;
the organisation's pièces kept once and reused until replaced."""

from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient

from aap.attachments.files import stored_path
from tests.api.helpers import Actor, complete_draft, drafts, open_campaign
from tests.guichet.helpers import (
    DOCX,
    ELF,
    JPEG,
    ODT,
    PDF,
    PLAIN_ZIP,
    PNG,
    XLSX,
    porteur_without_pieces,
    upload,
)

MB = 1024 * 1024


def _draft(porteur: Actor) -> dict:
    return drafts(porteur, open_campaign(porteur)["id"])[0]


def _intact(porteur: Actor, before: dict) -> None:
    after = porteur.get(f"/api/v1/dossiers/{before['id']}").json()
    assert (after["version"], after["answers"], after["state"]) == (
        before["version"],
        before["answers"],
        "brouillon",
    )


def _files(data_dir: Path) -> list[Path]:
    return (
        [p for p in (data_dir / "files").rglob("*") if p.is_file()] if (data_dir / "files").exists() else []
    )


def test_a_pdf_is_accepted_stored_by_its_hash_and_downloadable(client: TestClient, demo, settings) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    d = _draft(porteur)
    response = upload(porteur, f"/api/v1/dossiers/{d['id']}/attachments", PDF, "Statuts 2024.pdf")
    assert response.status_code == 201, response.text
    a = response.json()
    assert (a["kind"], a["scope"], a["content_type"], a["size"]) == (
        "statuts",
        "organisation",
        "application/pdf",
        len(PDF),
    )
    assert a["filename"] == "Statuts 2024.pdf" and a["current"] and a["replaced_at"] is None
    assert stored_path(settings.data_dir, a["sha256"]).read_bytes() == PDF

    download = porteur.get(a["url"])
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]
    assert download.headers["x-content-type-options"] == "nosniff"
    _intact(porteur, d)  # an upload is not an answer: the draft's version does not move


def test_each_accepted_type_is_recognised_by_its_content(client: TestClient, demo) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    url = f"/api/v1/dossiers/{_draft(porteur)['id']}/attachments"
    expected = {
        "png": (PNG, "image/png"),
        "jpg": (JPEG, "image/jpeg"),
        "odt": (ODT, "application/vnd.oasis.opendocument.text"),
        "docx": (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "xlsx": (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    }
    for ext, (content, mime) in expected.items():
        # the name and the declared type lie; the content decides
        response = upload(
            porteur, url, content, f"document.bin.{ext}.txt", kind="rib", content_type="text/plain"
        )
        assert response.status_code == 201, (ext, response.text)
        assert response.json()["content_type"] == mime


def test_an_executable_renamed_pdf_is_refused_and_the_draft_is_intact(
    client: TestClient, demo, settings
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    d = _draft(porteur)
    before_files = _files(settings.data_dir)
    for content in (ELF, PLAIN_ZIP, b"%PD"):
        response = upload(porteur, f"/api/v1/dossiers/{d['id']}/attachments", content, "statuts.pdf")
        assert response.status_code == 415, response.text
        detail = response.json()["detail"]
        assert detail["code"] == "type_non_accepte"
        assert "PDF, PNG, JPEG, ODT, DOCX et XLSX" in detail["message"]
    _intact(porteur, d)
    assert _files(settings.data_dir) == before_files  # nothing stored, no temporary file left
    assert porteur.get(f"/api/v1/organisations/{_org_id(porteur)}/pieces").json()["total"] == 5


def test_a_60_mb_file_is_refused_before_it_is_read_and_the_draft_is_intact(
    client: TestClient, demo, settings
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    d = _draft(porteur)
    before_files = _files(settings.data_dir)
    big = b"%PDF-1.4\n" + b"0" * (60 * MB)
    response = upload(porteur, f"/api/v1/dossiers/{d['id']}/attachments", big, "rapport.pdf")
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert detail["code"] == "fichier_trop_volumineux" and "10 Mo" in detail["message"]
    _intact(porteur, d)
    assert _files(settings.data_dir) == before_files


def test_a_60_mb_file_sent_without_length_is_cut_off_while_streaming(
    client: TestClient, demo, settings
) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    d = _draft(porteur)
    before_files = _files(settings.data_dir)
    sent = {"bytes": 0}

    def body() -> Iterator[bytes]:
        head = (
            b'--XyZ\r\nContent-Disposition: form-data; name="kind"\r\n\r\nstatuts\r\n'
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="gros.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
        )
        yield head
        for _ in range(60):
            sent["bytes"] += MB
            yield b"0" * MB
        yield b"\r\n--XyZ--\r\n"

    response = client.post(
        f"/api/v1/dossiers/{d['id']}/attachments",
        content=body(),
        headers={**porteur.headers, "Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert response.status_code == 413, response.text
    assert response.json()["detail"]["code"] == "fichier_trop_volumineux"
    _intact(porteur, d)
    assert _files(settings.data_dir) == before_files


def test_an_unknown_kind_or_a_missing_file_is_refused(client: TestClient, demo) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    d = _draft(porteur)
    url = f"/api/v1/dossiers/{d['id']}/attachments"
    unknown = upload(porteur, url, PDF, kind="photo_de_vacances")
    assert unknown.status_code == 422
    assert unknown.json()["detail"]["code"] == "piece_type_inconnu"
    assert "statuts" in unknown.json()["detail"]["message"]
    assert upload(porteur, url, PDF, kind=None).status_code == 422
    no_file = client.post(
        url, headers=porteur.headers, data={"kind": "statuts"}, files={"autre": ("x.txt", b"x", "text/plain")}
    )
    assert no_file.status_code == 422 and no_file.json()["detail"]["code"] == "fichier_manquant"
    _intact(porteur, d)


def test_only_those_who_read_the_dossier_see_its_files(client: TestClient, demo) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    other = Actor(client, "porteur2@demo.aap.test")
    instructeur = Actor(client, "instructeur@demo.aap.test")
    d = complete_draft(porteur)  # deposed: the instructeur reads it
    listing = porteur.get(f"/api/v1/dossiers/{d['id']}/attachments").json()
    assert listing["total"] == 5
    piece = listing["items"][0]

    assert instructeur.get(piece["url"]).status_code == 200
    assert instructeur.get(f"/api/v1/dossiers/{d['id']}/attachments").json()["total"] == 5
    assert other.get(piece["url"]).status_code == 404
    assert other.get(f"/api/v1/dossiers/{d['id']}/attachments").status_code == 404
    assert upload(other, f"/api/v1/dossiers/{d['id']}/attachments", PDF).status_code == 404
    assert other.get("/api/v1/attachments/999999").status_code == 404
    # the instructeur reads, but does not write the porteur's files
    assert (
        upload(instructeur, f"/api/v1/dossiers/{_draft(porteur)['id']}/attachments", PDF).status_code == 403
    )


def _org_id(porteur: Actor) -> int:
    return porteur.get("/api/v1/me").json()["organisation"]["id"]


def test_organisation_pieces_are_kept_once_and_replaced_by_a_newer_one(client: TestClient, demo) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    org = _org_id(porteur)
    url = f"/api/v1/organisations/{org}/pieces"
    before = porteur.get(url).json()
    assert before["total"] == 5 and {k["kind"] for k in before["kinds"]} >= {"statuts", "rib"}
    old_rib = next(a for a in before["items"] if a["kind"] == "rib")

    new_rib = upload(porteur, url, PDF, "RIB Crédit Coopératif.pdf", kind="rib")
    assert new_rib.status_code == 201, new_rib.text
    after = porteur.get(url).json()
    assert after["total"] == 5
    assert next(a for a in after["items"] if a["kind"] == "rib")["id"] == new_rib.json()["id"]
    history = porteur.get(url, params={"include_replaced": True}).json()["items"]
    replaced = next(a for a in history if a["id"] == old_rib["id"])
    assert replaced["replaced_at"] and not replaced["current"]

    # every draft of the organisation now relies on the new RIB
    d = _draft(porteur)
    pieces = {
        p["kind"]: p["attachment"]
        for p in porteur.get(f"/api/v1/dossiers/{d['id']}/attachments").json()["pieces"]
    }
    assert pieces["rib"]["id"] == new_rib.json()["id"]

    assert upload(porteur, url, PDF, kind="budget").status_code == 422
    stranger = Actor(client, "porteur2@demo.aap.test")
    assert stranger.get(url).status_code == 404
    assert upload(stranger, url, PDF, kind="rib").status_code == 404
    assert Actor(client, "instructeur@demo.aap.test").get(url).status_code == 404


def test_a_deposed_dossier_keeps_the_pieces_it_was_deposed_with(client: TestClient, demo) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    instructeur = Actor(client, "instructeur@demo.aap.test")
    d = complete_draft(porteur)
    assert instructeur.fire(d["id"], "prendre_en_instruction").status_code == 200
    linked = porteur.get(f"/api/v1/dossiers/{d['id']}").json()["answers"]["pieces"]
    assert set(linked) == {"statuts", "liste_dirigeants", "rib", "comptes_approuves", "rapport_activite"}

    newer = upload(porteur, f"/api/v1/organisations/{_org_id(porteur)}/pieces", PDF, kind="statuts").json()
    seen = {
        p["kind"]: p["attachment"]["id"]
        for p in instructeur.get(f"/api/v1/dossiers/{d['id']}/attachments").json()["pieces"]
        if p["attachment"]
    }
    assert seen["statuts"] == linked["statuts"] != newer["id"]


def test_a_newcomer_sends_its_pieces_from_the_dossier_and_can_then_depose(
    client: TestClient, demo, db_engine
) -> None:
    newcomer = porteur_without_pieces(client, db_engine)
    porteur = Actor(client, "porteur@demo.aap.test")
    complete = porteur.get(f"/api/v1/dossiers/{_draft_with_title(porteur)}").json()["answers"]
    d = newcomer.post(f"/api/v1/campaigns/{open_campaign(newcomer)['id']}/dossiers").json()
    answers = {k: v for k, v in complete.items() if k not in ("organisation", "pieces")}
    answers["organisation"] = {k: complete["organisation"][k] for k in ("representant", "contact")}
    saved = newcomer.patch(f"/api/v1/dossiers/{d['id']}", {"answers": answers}, d["version"])
    assert saved.status_code == 200, saved.text
    refused = newcomer.fire(d["id"], "deposer")
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["detail"]["errors"]} == {
        "pieces.statuts",
        "pieces.liste_dirigeants",
        "pieces.rib",
        "pieces.comptes_approuves",
        "pieces.rapport_activite",
    }
    for kind in ("statuts", "liste_dirigeants", "rib", "comptes_approuves", "rapport_activite"):
        assert upload(newcomer, f"/api/v1/dossiers/{d['id']}/attachments", PDF, kind=kind).status_code == 201
    deposed = newcomer.fire(d["id"], "deposer")
    assert deposed.status_code == 200, deposed.text
    assert set(deposed.json()["answers"]["pieces"]) == {
        "statuts",
        "liste_dirigeants",
        "rib",
        "comptes_approuves",
        "rapport_activite",
    }


def test_a_piece_of_another_organisation_cannot_be_referenced(client: TestClient, demo) -> None:
    porteur = Actor(client, "porteur@demo.aap.test")
    other = Actor(client, "porteur2@demo.aap.test")
    foreign = other.get(f"/api/v1/organisations/{_org_id(other)}/pieces").json()["items"][0]
    d = _draft(porteur)
    response = porteur.patch(
        f"/api/v1/dossiers/{d['id']}", {"answers": {"pieces": {"statuts": foreign["id"]}}}, d["version"]
    )
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["detail"]["errors"]] == ["pieces.statuts"]


def _draft_with_title(porteur: Actor) -> int:
    return next(
        d["id"]
        for d in drafts(porteur, open_campaign(porteur)["id"])
        if d["title"] and len(d["cofinancements"]) >= 2
    )
