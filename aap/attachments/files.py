"""Receiving and storing uploaded files: streamed, bounded, typed by content, stored by content hash.

The request body is read chunk by chunk and refused with 413 as soon as it passes the limit (and
before reading anything when Content-Length already says so), so a 60 MB upload costs neither
60 MB of memory nor 60 MB of disk. The type comes from the bytes, never from the file name: an
executable renamed ``.pdf`` is refused with 415.

Storing survives a crash (kill -9) at any moment: a file reaches its content address only after the
row that names it is committed. Until then it waits in ``files/tmp`` under an exclusive lock
(``flock``) held by the process writing it: received (``upload-…``), then staged under its hash
(``<sha256>.….pending``); after the commit it is moved to its address, after a rollback deleted.
``sweep`` (at ``aap serve``'s start and in each cron pass) handles what a dead process left: an
unlocked staged file whose hash a row names is moved to its address (the commit happened), any other
unlocked file in ``files/tmp`` is deleted. So no stored file lacks its row, and no row its file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from aap.errors import AppError, Invalid

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACCEPTED: dict[str, str] = {PDF: "PDF", PNG: "PNG", JPEG: "JPEG", ODT: "ODT", DOCX: "DOCX", XLSX: "XLSX"}
EXTENSIONS: dict[str, str] = {
    PDF: ".pdf",
    PNG: ".png",
    JPEG: ".jpg",
    ODT: ".odt",
    DOCX: ".docx",
    XLSX: ".xlsx",
}

# What a multipart body carries besides the file (boundaries, part headers, the « kind » field).
MULTIPART_SLACK = 16 * 1024
MAX_FIELD_BYTES = 1024


class TooLarge(AppError):
    status_code = 413
    code = "fichier_trop_volumineux"


class UnsupportedType(AppError):
    status_code = 415
    code = "type_non_accepte"


def accepted_types_fr() -> str:
    names = list(ACCEPTED.values())
    return ", ".join(names[:-1]) + " et " + names[-1]


def too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"Le fichier dépasse la taille maximale autorisée ({french_size(limit)}) : "
        "réduisez-le (par exemple en le numérisant en noir et blanc) puis réessayez.",
        errors=[
            {"path": "file", "code": "fichier_trop_volumineux", "message": f"{french_size(limit)} au plus"}
        ],
    )


def french_size(size: int) -> str:
    if size >= 1024 * 1024:
        value = f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".").replace(".", ",")
        return f"{value} Mo"
    if size >= 1024:
        return f"{size // 1024} ko"
    return f"{size} octets"


# --- type by content -------------------------------------------------------------------------------


def sniff(path: Path) -> str | None:
    """The MIME type of the file from its bytes, among the accepted ones; None otherwise."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(path)
    return None


def _sniff_zip(path: Path) -> str | None:
    """ODT declares itself in its ``mimetype`` entry; OOXML by ``[Content_Types].xml`` and its folder."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    declared = entry.read(200).strip()
                return ODT if declared == ODT.encode() else None
            if "[Content_Types].xml" in names:
                if any(n.startswith("word/") for n in names):
                    return DOCX
                if any(n.startswith("xl/") for n in names):
                    return XLSX
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError):
        return None
    return None


def check_type(path: Path) -> str:
    content_type = sniff(path)
    if content_type is None:
        raise UnsupportedType(
            f"Type de fichier non accepté : seuls les fichiers {accepted_types_fr()} sont acceptés. "
            "Le type est reconnu au contenu du fichier, pas à son nom.",
            errors=[
                {
                    "path": "file",
                    "code": "type_non_accepte",
                    "message": f"types acceptés : {accepted_types_fr()}",
                }
            ],
        )
    return content_type


def clean_filename(name: str | None, content_type: str | None = None) -> str:
    """The base name only, without control characters, at most 200 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C")
    base = re.sub(r"\s+", " ", base).strip().lstrip(".")
    if not base:
        base = "piece" + (EXTENSIONS.get(content_type or "", ""))
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:200]
    return base


# --- receiving -------------------------------------------------------------------------------------


@dataclass
class Received:
    """A file received into a temporary file, with its hash; ``discard`` removes what was not stored."""

    path: Path
    filename: str = ""
    size: int = 0
    sha256: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    handle: IO[bytes] | None = None  # open and locked (`flock`) until the file is stored or discarded

    @property
    def has_file(self) -> bool:
        return bool(self.sha256)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing releases the lock
            self.handle = None


def _locked_temp(directory: Path, prefix: str, suffix: str = "") -> tuple[Path, IO[bytes]]:
    """A new file in `directory`, open for writing and locked by this process. A sweep that deleted it
    between its creation and the lock leaves it unlinked: then another one is made."""
    while True:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
        handle = os.fdopen(fd, "wb")
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        if os.fstat(handle.fileno()).st_nlink > 0:
            return Path(name), handle
        handle.close()


def tmp_dir(data_dir: Path) -> Path:
    path = data_dir / "files" / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


class _Collector:
    """Callbacks of the streaming multipart parser: the ``file`` part goes to disk, the rest to memory."""

    def __init__(self, target: Path, out: IO[bytes], limit: int, max_field_bytes: int = MAX_FIELD_BYTES):
        self.limit = limit
        self.max_field_bytes = max_field_bytes
        self.out = out
        self.received = Received(path=target, handle=out)
        self.digest = hashlib.sha256()
        self.files = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._data = bytearray()

    def on_part_begin(self) -> None:
        self._disposition, self._name, self._is_file = b"", "", False
        self._data = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options and self._name == "file":
            self.files += 1
            if self.files > 1:
                raise Invalid("Envoyez un seul fichier à la fois.", code="un_seul_fichier")
            self._is_file = True
            self.received.filename = options[b"filename"].decode("utf-8", "replace")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._is_file:
            self.received.size += len(chunk)
            if self.received.size > self.limit:
                raise too_large(self.limit)
            self.digest.update(chunk)
            self.out.write(chunk)
        elif len(self._data) + len(chunk) <= self.max_field_bytes:
            self._data.extend(chunk)
        else:
            raise Invalid(f"Le champ « {self._name} » est trop long.", code="champ_trop_long")

    def on_part_end(self) -> None:
        if not self._is_file and self._name:
            self.received.fields[self._name] = self._data.decode("utf-8", "replace").strip()

    def callbacks(self) -> dict[str, object]:
        return {
            name: getattr(self, name)
            for name in (
                "on_part_begin",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_headers_finished",
                "on_part_data",
                "on_part_end",
            )
        }


async def receive_upload(
    request: Request,
    limit: int,
    data_dir: Path,
    *,
    max_field_bytes: int = MAX_FIELD_BYTES,
    file_required: bool = True,
) -> Received:
    """Reads a multipart body (``file`` and text fields) into a temporary file, bounded by ``limit``.
    A message with an optional file says ``file_required=False`` (no file: ``Received.has_file`` is
    false) and lets its text field be longer than the usual ``kind``."""
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise Invalid(
            "Envoyez le fichier en multipart/form-data (champs « file » et « kind »).",
            code="multipart_attendu",
        )
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.isdigit()
        and int(declared) > limit + MULTIPART_SLACK + max_field_bytes
    ):
        raise too_large(limit)
    target, out = _locked_temp(tmp_dir(data_dir), "upload-")
    collector = _Collector(target, out, limit, max_field_bytes)
    try:
        parser = MultipartParser(options[b"boundary"], collector.callbacks())  # type: ignore[arg-type]
        try:
            async for chunk in request.stream():
                if chunk:
                    parser.write(chunk)
            parser.finalize()
        except MultipartParseError as exc:
            raise Invalid(
                "Le corps multipart/form-data est mal formé : renvoyez le fichier.", code="multipart_invalide"
            ) from exc
        collector.out.flush()
        nothing = collector.files == 0 or (collector.received.size == 0 and not collector.received.filename)
        if nothing and not file_required:
            collector.received.discard()
            return collector.received
        if collector.files == 0:
            raise Invalid(
                "Aucun fichier reçu : joignez-le dans le champ « file ».",
                code="fichier_manquant",
                errors=[{"path": "file", "code": "required", "message": "fichier attendu"}],
            )
        if collector.received.size == 0:
            raise Invalid(
                "Le fichier est vide.",
                code="fichier_vide",
                errors=[{"path": "file", "code": "fichier_vide", "message": "fichier vide"}],
            )
    except BaseException:
        collector.received.discard()
        raise
    collector.received.sha256 = collector.digest.hexdigest()
    return collector.received


# --- storing ---------------------------------------------------------------------------------------


def stored_path(data_dir: Path, sha256: str) -> Path:
    return data_dir / "files" / sha256[:2] / sha256


_PENDING = "aap_pending_files"  # session.info: the files staged for the session's transaction


def store(session: Session, data_dir: Path, received: Received) -> Path:
    """The received file goes to its content address once `session` commits (the same content is
    stored once); deleted if it rolls back. Answers the address."""
    target = stored_path(data_dir, received.sha256)
    if target.exists():
        received.discard()
        return target
    staged = tmp_dir(data_dir) / f"{received.sha256}.{received.path.name}.pending"
    os.replace(received.path, staged)  # still open and locked: the sweep leaves it alone
    received.path = staged
    session.info.setdefault(_PENDING, []).append((received, target))
    return target


def store_bytes(session: Session, data_dir: Path, content: bytes) -> tuple[str, Path]:
    """Content given in memory (documents, demo, scripts), stored as `store` does. Answers its sha256
    and where to read it until the commit (its address once there)."""
    sha = hashlib.sha256(content).hexdigest()
    target = stored_path(data_dir, sha)
    if target.exists():
        return sha, target
    path, handle = _locked_temp(tmp_dir(data_dir), f"{sha}.", ".pending")
    handle.write(content)
    handle.flush()
    session.info.setdefault(_PENDING, []).append((Received(path=path, sha256=sha, handle=handle), target))
    return sha, path


def _place(received: Received, target: Path) -> None:
    if target.exists():
        received.discard()
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if received.handle is not None:
        os.fsync(received.handle.fileno())
    os.replace(received.path, target)
    received.release()


@event.listens_for(Session, "after_commit")
def _place_after_commit(session: Session) -> None:
    for received, target in session.info.pop(_PENDING, []):
        _place(received, target)


@event.listens_for(Session, "after_transaction_end")
def _discard_after_rollback(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended without a commit
        for received, _ in session.info.pop(_PENDING, []):
            received.discard()


@dataclass
class Swept:
    placed: int = 0
    deleted: int = 0
    busy: int = 0

    def __bool__(self) -> bool:
        return bool(self.placed or self.deleted)

    def __str__(self) -> str:
        return f"Fichiers laissés par un arrêt brutal : {self.placed} mis en place, {self.deleted} supprimés."


def sweep_data_dir() -> Swept:
    """`sweep` on the configured database and data directory (`aap serve`, the cron pass)."""
    from aap.db import session_scope
    from aap.settings import get_settings

    with session_scope() as session:
        return sweep(session, get_settings().data_dir)


def sweep(session: Session, data_dir: Path) -> Swept:
    """What dead processes left in `files/tmp` (see the module's docstring); files still locked by a
    living process are left alone."""
    from aap.models import Attachment

    out = Swept()
    directory = data_dir / "files" / "tmp"
    if not directory.is_dir():
        return out
    for path in sorted(directory.iterdir()):
        try:
            handle = path.open("rb")
        except OSError:  # gone meanwhile, or not a file
            continue
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                out.busy += 1
                continue
            try:
                if os.stat(path).st_ino != os.fstat(handle.fileno()).st_ino:
                    continue  # renamed and replaced meanwhile
            except FileNotFoundError:
                continue
            sha = path.name.split(".", 1)[0]
            named = path.name.endswith(".pending") and session.scalar(
                select(Attachment.id).where(Attachment.sha256 == sha).limit(1)
            )
            target = stored_path(data_dir, sha)
            if named and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                out.placed += 1
            else:
                path.unlink(missing_ok=True)
                out.deleted += 1
    session.rollback()
    return out
