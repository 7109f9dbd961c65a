"""Retention rules as data: the file validated with every error located; `aap retention run --dry-run`
counts per rule and deletes nothing; the pass deletes in batches, removes the stored files after the
commit, and a second pass finds nothing."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from aap.attachments.files import stored_path
from aap.db import make_engine
from aap.migrate import upgrade
from aap.models import Bilan, BilanFigure
from aap.rgpd import retention
from aap.rules_files import RulesFileError
from aap.rules_files.retention import parse_retention, parse_retention_file
from aap.settings import Settings
from tests.api.helpers import Actor, drafts, open_campaign
from tests.guichet.helpers import PDF, upload
from tests.rgpd.helpers import ETAT, PORTEUR, dossier_read_by_etat, horizon, linked_piece

ROOT = Path(__file__).resolve().parents[2]


def test_the_retention_file_is_refused_with_every_error_located(tmp_path: Path) -> None:
    bad = tmp_path / "retention.yaml"
    bad.write_text(
        "brouillons_abandonnes:\n  mois: 0\n  etats: [depose]\n"
        "versions_de_pieces: {mois: 12}\n"
        "donnees_beneficiares: {ans: 5}\n"
        "journal_acces: {mois: douze}\n"
    )
    with pytest.raises(RulesFileError) as refused:
        parse_retention_file(bad)
    where = {(e.line, e.path) for e in refused.value.errors}
    assert (2, "brouillons_abandonnes.mois") in where
    assert (3, "brouillons_abandonnes.etats[0]") in where
    assert (5, "donnees_beneficiares") in where  # unknown (misspelt) rule
    assert (6, "journal_acces.mois") in where
    assert any("vouliez-vous dire « donnees_beneficiaires »" in e.message for e in refused.value.errors)
    assert parse_retention_file().journal_acces.mois == 12  # the file the package ships is valid


def _run(engine: Engine, settings: Settings, now: datetime, dry_run: bool) -> dict:
    rules = parse_retention_file().model_copy(update={"lot": 2})  # several batches per rule
    return retention.run(
        sessionmaker(bind=engine), rules, now=now, data_dir=settings.data_dir, dry_run=dry_run
    )


def test_dry_run_counts_then_the_pass_deletes_and_a_second_pass_finds_nothing(
    client: TestClient, demo, session: Session, db_engine: Engine, settings: Settings
) -> None:
    org_id = horizon(session).id
    dossier = dossier_read_by_etat(session)
    rib = linked_piece(session, dossier, "rib")
    session.close()
    porteur = Actor(client, PORTEUR)
    own_drafts = drafts(porteur, open_campaign(porteur)["id"])
    assert len(own_drafts) >= 3
    url = f"/api/v1/organisations/{org_id}/pieces"
    old = upload(porteur, url, PDF + b"% retention v1", "statuts-v1.pdf").json()
    new = upload(porteur, url, PDF + b"% retention v2", "statuts-v2.pdf").json()
    assert Actor(client, ETAT).get(f"/api/v1/attachments/{rib.id}").status_code == 200  # a log row

    later = datetime.now(UTC) + timedelta(days=31 * 25)  # past every delay in months of the file
    plan = _run(db_engine, settings, later, dry_run=True)
    counts = {name: rule["count"] for name, rule in plan["rules"].items()}
    assert counts["brouillons_abandonnes"] >= len(own_drafts)
    assert counts["versions_de_pieces"] >= 1 and counts["journal_acces"] >= 1
    assert len(drafts(porteur, open_campaign(porteur)["id"])) == len(own_drafts)  # nothing deleted
    assert stored_path(settings.data_dir, old["sha256"]).exists()

    done = _run(db_engine, settings, later, dry_run=False)
    assert {name: rule["count"] for name, rule in done["rules"].items()} == counts
    again = _run(db_engine, settings, later, dry_run=False)
    assert all(rule["count"] == 0 for rule in again["rules"].values())
    assert drafts(porteur, open_campaign(porteur)["id"]) == []
    assert porteur.get(f"/api/v1/dossiers/{dossier.id}").status_code == 200  # a deposited dossier stays
    assert porteur.get(f"/api/v1/attachments/{rib.id}").status_code == 200  # the RIB it relies on too
    assert porteur.get(f"/api/v1/attachments/{old['id']}").status_code == 404
    assert not stored_path(settings.data_dir, old["sha256"]).exists()
    assert stored_path(settings.data_dir, new["sha256"]).exists()
    assert done["files_removed"] >= 1


def test_old_bilans_keep_only_their_total_of_beneficiaries(
    client: TestClient, demo, session: Session, db_engine: Engine, settings: Settings
) -> None:
    bilan = session.scalar(select(Bilan).order_by(Bilan.id).limit(1))
    assert bilan is not None
    bilan.answers = {
        **(bilan.answers or {}),
        "beneficiaires": {"total": 12, "sexe": {"femmes": 7, "hommes": 5}, "hors_qpv": 2},
    }
    bilan.validated_at = datetime.now(UTC) - timedelta(days=366 * 6)
    session.add(BilanFigure(bilan_id=bilan.id, dimension="sexe", key="femmes", realise=7))
    session.add(BilanFigure(bilan_id=bilan.id, dimension="financeur", key="ETAT", prevu=1000, realise=900))
    session.commit()
    bilan_id = bilan.id
    session.close()

    report = _run(db_engine, settings, datetime.now(UTC), dry_run=False)
    assert report["rules"]["donnees_beneficiaires"]["details"]["bilans"] >= 1
    with Session(db_engine) as check:
        kept = check.get(Bilan, bilan_id)
        assert kept is not None and kept.answers["beneficiaires"] == {"total": 12}
        dimensions = set(check.scalars(select(BilanFigure.dimension).where(BilanFigure.bilan_id == bilan_id)))
        assert "sexe" not in dimensions and "financeur" in dimensions  # the money stays


def test_the_command_prints_json_and_refuses_a_wrong_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'aap.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    env = {**os.environ, "AAP_DATABASE_URL": url, "AAP_DATA_DIR": str(tmp_path)}
    aap = [sys.executable, "-m", "aap.cli", "retention", "run"]
    dry = subprocess.run(
        [*aap, "--dry-run", "--json"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True
    assert set(report["rules"]) == {
        "brouillons_abandonnes",
        "versions_de_pieces",
        "donnees_beneficiaires",
        "journal_acces",
    }
    text = subprocess.run([*aap, "--dry-run"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "Simulation (rien n'est effacé)" in text.stdout and "journal_acces : 0 à effacer" in text.stdout
    bad = tmp_path / "r.yaml"
    bad.write_text("lot: 0\n")
    refused = subprocess.run(
        [*aap, "--rules", str(bad)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 1
    assert "refusé, rien n'a été effacé (5 erreur(s))" in refused.stderr
    assert f"{bad}:1: lot:" in refused.stderr


def test_parse_retention_from_data() -> None:
    rules = parse_retention(
        {
            "brouillons_abandonnes": {"mois": 6, "etats": ["brouillon"]},
            "versions_de_pieces": {"mois": 1},
            "donnees_beneficiaires": {"ans": 1},
            "journal_acces": {"mois": 1},
        }
    )
    assert rules.lot == 500
    assert retention.months_before(datetime(2027, 3, 31, tzinfo=UTC), 1) == datetime(2027, 2, 28, tzinfo=UTC)
