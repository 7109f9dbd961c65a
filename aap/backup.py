"""`aap backup FILE` / `aap restore FILE`: the database and the stored files in one archive.

The copy is consistent while the app runs: every table is read in ONE read-only transaction (a
snapshot: SQLite's WAL read transaction, PostgreSQL's REPEATABLE READ), which takes no write lock, so
saves go on meanwhile and none of them is half in the copy. Stored files are content-addressed
(`files/ab/abcd…`, the name is the SHA-256 of the content) and never rewritten: the archive holds
those the snapshot's rows name, each checked against its digest.

The archive (tar.gz) holds `manifest.json` (format, Alembic revision, tables in dependency order,
row counts), `tables/<name>.jsonl` (a row per line, as the database returns it) and `files/…`. It
restores into an empty database of the same kind: migrated to the archive's revision, rows inserted
parents first, PostgreSQL sequences moved past the restored ids, then migrated to the current head.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, func, inspect, select, text

from aap.db import BEGIN_OPTION
from aap.migrate import downgrade, upgrade

FORMAT = "aap-backup/1"
BATCH = 1000


class BackupError(Exception):
    """Why a restore was refused, in French, for the operator."""


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"valeur non sérialisable : {type(value)}")


def _decoder(column: Any) -> Any:
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return None
    if kind is datetime:
        return datetime.fromisoformat
    if kind is date:
        return date.fromisoformat
    if kind is time:
        return time.fromisoformat
    if kind is Decimal:
        return Decimal
    if kind is bytes:
        return base64.b64decode
    return None


def _tables(conn: Connection) -> list[Table]:
    meta = MetaData()
    meta.reflect(conn)
    return [t for t in meta.sorted_tables if t.name != "alembic_version"]


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _snapshot(engine: Engine) -> Connection:
    """A connection in a read-only snapshot transaction that takes no write lock."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{BEGIN_OPTION: "deferred"}).connect()
    conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    conn.execute(text("SET TRANSACTION READ ONLY"))
    return conn


def _rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    for row in conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*order)):
        yield dict(row._mapping)


def _add(tar: tarfile.TarFile, name: str, data: io.BufferedIOBase | io.BytesIO, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = size, int(datetime.now(UTC).timestamp())
    tar.addfile(info, data)


def backup(engine: Engine, data_dir: Path, target: Path) -> dict[str, Any]:
    """Writes the archive to `target` (through a temporary file: never half an archive); its manifest."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partiel")
    digests: set[str] = set()
    with _snapshot(engine) as conn, tarfile.open(partial, "w:gz") as tar:
        revision = _revision(conn)
        tables = _tables(conn)
        counts: dict[str, int] = {}
        for table in tables:
            with tempfile.TemporaryFile() as out:
                n = 0
                for row in _rows(conn, table):
                    out.write(json.dumps(row, default=_encode, ensure_ascii=False).encode() + b"\n")
                    n += 1
                    if table.name == "attachments" and row.get("sha256"):
                        digests.add(row["sha256"])
                counts[table.name] = n
                size = out.tell()
                out.seek(0)
                _add(tar, f"tables/{table.name}.jsonl", out, size)  # type: ignore[arg-type]
        conn.rollback()
        missing = []
        for digest in sorted(digests):
            path = data_dir / "files" / digest[:2] / digest
            if not path.exists():
                missing.append(digest)
                continue
            tar.add(path, arcname=f"files/{digest[:2]}/{digest}")
        manifest = {
            "format": FORMAT,
            "dialect": engine.dialect.name,
            "revision": revision,
            "created_at": datetime.now(UTC).isoformat(),
            "tables": [t.name for t in tables],
            "rows": counts,
            "files": len(digests) - len(missing),
            "missing_files": missing,
        }
        data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        _add(tar, "manifest.json", io.BytesIO(data), len(data))
    partial.replace(target)
    return manifest


def _is_empty(conn: Connection) -> bool:
    return all(conn.execute(select(func.count()).select_from(t)).scalar_one() == 0 for t in _tables(conn))


def _migrate_to(engine: Engine, revision: str | None) -> None:
    with engine.connect() as conn:
        current = _revision(conn)
    if revision is None or current == revision:
        return
    if current is None:
        upgrade(engine, revision)
        return
    try:  # an empty database ahead of the archive: back to the archive's revision
        downgrade(engine, revision)
    except Exception:
        upgrade(engine, revision)


def restore(engine: Engine, data_dir: Path, source: Path) -> dict[str, Any]:
    """Restores the archive into an empty database; refuses anything else (nothing is overwritten)."""
    with tarfile.open(source, "r:gz") as tar:
        member = tar.extractfile("manifest.json")
        if member is None:
            raise BackupError(f"{source} n'est pas une sauvegarde aap (manifest.json absent).")
        manifest = json.load(member)
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{source} : format {manifest.get('format')!r} inconnu (attendu {FORMAT}).")
        if manifest["dialect"] != engine.dialect.name:
            raise BackupError(
                f"Sauvegarde d'une base {manifest['dialect']}, restauration vers {engine.dialect.name} : "
                "restaurez dans une base du même type."
            )
        with engine.connect() as conn:
            if _revision(conn) is not None and not _is_empty(conn):
                raise BackupError(
                    "La base de destination contient déjà des données : restaurez dans une base vide "
                    "(nouvelle base PostgreSQL, ou nouveau fichier SQLite via AAP_DATABASE_URL)."
                )
        _migrate_to(engine, manifest["revision"])
        with engine.begin() as conn:
            tables = {t.name: t for t in _tables(conn)}
            for name in manifest["tables"]:
                table = tables[name]
                decoders = {c.name: d for c in table.columns if (d := _decoder(c)) is not None}
                stream = tar.extractfile(f"tables/{name}.jsonl")
                assert stream is not None
                batch: list[dict[str, Any]] = []
                for line in stream:
                    row = json.loads(line)
                    for key, decode in decoders.items():
                        if row.get(key) is not None:
                            row[key] = decode(row[key])
                    batch.append(row)
                    if len(batch) >= BATCH:
                        conn.execute(table.insert(), batch)
                        batch = []
                if batch:
                    conn.execute(table.insert(), batch)
            if engine.dialect.name == "postgresql":
                for table in tables.values():
                    if "id" in table.c and manifest["rows"].get(table.name):
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f"(SELECT max(id) FROM {table.name}))"
                            )
                        )
        for member_info in tar.getmembers():
            if not member_info.name.startswith("files/") or not member_info.isfile():
                continue
            digest = member_info.name.rsplit("/", 1)[-1]
            content = tar.extractfile(member_info)
            assert content is not None
            data = content.read()
            if hashlib.sha256(data).hexdigest() != digest:
                raise BackupError(
                    f"Fichier {member_info.name} altéré : son contenu ne correspond plus à son nom."
                )
            path = data_dir / "files" / digest[:2] / digest
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_bytes(data)
    upgrade(engine)
    return manifest
