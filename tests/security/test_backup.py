"""`aap backup` / `aap restore`: a populated database and its files make the round trip on both
databases, the copy is consistent while a write is in progress, and a restore never overwrites."""

import tarfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from aap.app import create_app
from aap.backup import BackupError, backup, restore
from aap.cli import app as cli
from aap.db import get_engine
from aap.models import Base
from aap.settings import Settings, get_settings
from tests.conftest import login, truncate_all


def _everything(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {
            t.name: [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in Base.metadata.sorted_tables
        }


def _files(data_dir: Path) -> dict[str, bytes]:
    root = data_dir / "files"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_populated_database_and_its_files_make_the_round_trip(
    db_engine: Engine, demo: date, settings: Settings, tmp_path: Path
) -> None:
    before, files = _everything(db_engine), _files(settings.data_dir)
    assert before["dossiers"] and before["attachments"] and files
    archive = tmp_path / "sauvegarde.tar.gz"
    manifest = backup(db_engine, settings.data_dir, archive)
    assert manifest["rows"]["dossiers"] == len(before["dossiers"]) and manifest["missing_files"] == []

    truncate_all(db_engine)
    restored_dir = tmp_path / "restauré"
    restore(db_engine, restored_dir, archive)
    assert _everything(db_engine) == before
    assert _files(restored_dir) == {k: v for k, v in files.items() if k.count("/") == 1}

    # the restored platform works: ids continue after the restored ones, files download
    app = create_app(settings.model_copy(update={"data_dir": restored_dir}), db_engine)
    with TestClient(app) as client:
        porteur = login(client, "porteur@demo.aap.test")
        open_campaign = next(
            c for c in client.get("/api/v1/campaigns", headers=porteur).json()["items"] if c["depot_ouvert"]
        )
        created = client.post(f"/api/v1/campaigns/{open_campaign['id']}/dossiers", json={}, headers=porteur)
        assert created.status_code == 201, created.text
        assert created.json()["id"] > max(d["id"] for d in before["dossiers"])
        piece = next(
            a
            for a in before["attachments"]
            if a["organisation_id"] and a["dossier_id"] is None and a["organisation_id"] == 1
        )
        download = client.get(f"/api/v1/attachments/{piece['id']}", headers=porteur)
        assert download.status_code == 200 and len(download.content) == piece["size"]


def test_the_copy_is_consistent_while_a_write_is_in_progress(
    db_engine: Engine, demo: date, settings: Settings, tmp_path: Path
) -> None:
    with db_engine.connect() as writer:  # holds SQLite's write lock / PostgreSQL's row lock, uncommitted
        writer.execute(text("UPDATE users SET full_name = 'À moitié écrit'"))
        manifest = backup(db_engine, settings.data_dir, tmp_path / "pendant.tar.gz")
        writer.rollback()
    assert manifest["rows"]["users"] > 0
    with tarfile.open(tmp_path / "pendant.tar.gz") as tar:
        users = tar.extractfile("tables/users.jsonl")
        assert users is not None
        assert "À moitié écrit" not in users.read().decode()


def test_a_restore_never_overwrites_a_database_that_holds_data(
    db_engine: Engine, demo: date, settings: Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "s.tar.gz"
    backup(db_engine, settings.data_dir, archive)
    with pytest.raises(BackupError, match="contient déjà des données"):
        restore(db_engine, tmp_path / "ailleurs", archive)


def test_the_commands_back_up_and_restore_a_fresh_sqlite_file(
    db_engine: Engine, demo: date, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db_engine.dialect.name != "sqlite":
        pytest.skip("the command's round trip runs once, on the embedded database")
    archive = tmp_path / "cli.tar.gz"
    backup(db_engine, settings.data_dir, archive)
    target = tmp_path / "cible"
    monkeypatch.setenv("AAP_DATABASE_URL", f"sqlite:///{target / 'aap.sqlite3'}")
    monkeypatch.setenv("AAP_DATA_DIR", str(target))
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        runner = CliRunner()
        restored = runner.invoke(cli, ["restore", str(archive)])
        assert restored.exit_code == 0, restored.output
        assert "Restauré" in restored.output
        again = runner.invoke(cli, ["restore", str(archive)])
        assert again.exit_code == 1 and "contient déjà des données" in again.output
        copy = runner.invoke(cli, ["backup", str(tmp_path / "copie.tar.gz")])
        assert copy.exit_code == 0 and "Sauvegarde écrite" in copy.output
        assert _everything(get_engine()) == _everything(db_engine)
    finally:
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()
