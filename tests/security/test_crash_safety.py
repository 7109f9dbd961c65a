"""The server killed (kill -9) in the middle of transitions and uploads: once it is back, no dossier is
half-written (its state is the end of its history, no acknowledged change is lost) and the data
directory holds no orphan (every stored file is named by a row, every row's file is there, nothing is
left in `files/tmp`).

A real `aap serve` on a free port, on the test's database; a file reaches its content address only
after its row is committed, and what a killed process left is put in place or deleted by the sweep at
the next start (`aap.attachments.files`). The exact moments (a file staged, not committed; committed,
not yet in place) are also hit on purpose, in a process that kills itself there."""

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.attachments import files
from aap.models import Attachment, Dossier, DossierEvent
from aap.settings import Settings
from tests.security.live_server import Server


@pytest.fixture
def server(db_engine: Engine, settings: Settings, demo: date, tmp_path: Path) -> Iterator[Server]:
    db_url = db_engine.url.render_as_string(hide_password=False)
    running = Server(db_url, settings.data_dir, tmp_path)
    running.start()
    yield running
    running.stop()


def _login(base: str, email: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": email, "password": "demo"}, timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _pdf(n: int) -> bytes:
    return b"%PDF-1.4\n% piece " + str(n).encode() + os.urandom(2048) + b"\n%%EOF\n"


def _data_dir_problems(engine: Engine, data_dir: Path) -> list[str]:
    """Orphans both ways, and anything left in files/tmp."""
    with Session(engine) as s:
        named = set(s.scalars(select(Attachment.sha256)))
    root = data_dir / "files"
    stored = {p.name for p in root.glob("??/*") if p.is_file()}
    problems = [f"fichier sans ligne : {sha}" for sha in sorted(stored - named)]
    problems += [f"ligne sans fichier : {sha}" for sha in sorted(named - stored)]
    problems += [f"reste dans files/tmp : {p.name}" for p in sorted((root / "tmp").glob("*"))]
    return problems


def _dossier_problems(engine: Engine, acknowledged: dict[int, int]) -> list[str]:
    """Each dossier's state is where its history ends, each step starts where the previous ended, and
    no version answered 200 is missing."""
    problems = []
    with Session(engine) as s:
        for dossier in s.scalars(select(Dossier)):
            events = s.scalars(
                select(DossierEvent).where(DossierEvent.dossier_id == dossier.id).order_by(DossierEvent.id)
            ).all()
            for before, after in zip(events, events[1:], strict=False):
                if after.from_state != before.to_state:
                    problems.append(f"dossier {dossier.id} : historique rompu après {before.transition}")
            if events and events[-1].to_state != dossier.state:
                problems.append(
                    f"dossier {dossier.id} : état {dossier.state}, historique {events[-1].to_state}"
                )
            if dossier.version < acknowledged.get(dossier.id, 0):
                problems.append(
                    f"dossier {dossier.id} : version {dossier.version} < {acknowledged[dossier.id]}"
                )
    return problems


def _loop_dossier(base: str, instructeur: dict[str, str]) -> int:
    """A dossier under instruction that compléments can go back and forth on."""
    staff = httpx.get(
        f"{base}/api/v1/dossiers", headers=instructeur, params={"limit": 100}, timeout=30
    ).json()
    loop = next(
        d for d in staff["items"] if d["state"] in ("depose", "en_instruction", "complements_demandes")
    )
    if loop["state"] == "depose":
        r = httpx.post(
            f"{base}/api/v1/dossiers/{loop['id']}/transitions/prendre_en_instruction", headers=instructeur
        )
        assert r.status_code == 200, r.text
    return int(loop["id"])


def _transitions(
    base: str,
    dossier_id: int,
    instructeur: dict[str, str],
    porteur: dict[str, str],
    stop: threading.Event,
    acknowledged: dict[int, int],
) -> None:
    """Compléments asked, then given, again and again; notes the versions answered 200."""
    due = (date.today() + timedelta(days=10)).isoformat()
    ask = {"comment": "Précisez le calendrier.", "due_date": due}
    url = f"/api/v1/dossiers/{dossier_id}"
    with httpx.Client(base_url=base, timeout=30) as http, contextlib.suppress(httpx.HTTPError):
        while not stop.is_set():
            if http.get(url, headers=instructeur).json()["state"] == "en_instruction":
                r = http.post(f"{url}/transitions/demander_complements", json=ask, headers=instructeur)
            else:
                r = http.post(f"{url}/transitions/completer", headers=porteur)
            if r.status_code == 200:
                acknowledged[dossier_id] = max(acknowledged.get(dossier_id, 0), r.json()["version"])


def _uploads(base: str, dossier_id: int, porteur: dict[str, str], n: int, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=30) as http, contextlib.suppress(httpx.HTTPError):
        for i in range(10_000):
            if stop.is_set():
                return
            http.post(
                f"/api/v1/dossiers/{dossier_id}/attachments",
                headers=porteur,
                files={"file": (f"piece-{n}-{i}.pdf", _pdf(n * 10_000 + i), "application/pdf")},
                data={"kind": "statuts"},
            )


def _work_until_killed(server: Server, seconds: float) -> dict[int, int]:
    """Transitions on a dossier under instruction and uploads to a draft, from several clients, until
    the server is killed; answers the versions acknowledged per dossier."""
    base = server.base
    instructeur = _login(base, "instructeur@demo.aap.test")
    porteur = _login(base, "porteur@demo.aap.test")
    mine = httpx.get(f"{base}/api/v1/dossiers", headers=porteur, params={"limit": 100}, timeout=30).json()
    draft = next(d for d in mine["items"] if d["state"] == "brouillon")
    loop = _loop_dossier(base, instructeur)
    acknowledged: dict[int, int] = {}
    stop = threading.Event()
    threads = [
        threading.Thread(target=_transitions, args=(base, loop, instructeur, porteur, stop, acknowledged))
    ]
    threads += [
        threading.Thread(target=_uploads, args=(base, draft["id"], porteur, n, stop)) for n in range(3)
    ]
    for t in threads:
        t.start()
    time.sleep(seconds)
    server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=60)
    return acknowledged


def test_killed_during_transitions_and_uploads_leaves_no_half_written_dossier_nor_orphan(
    server: Server, db_engine: Engine, settings: Settings
) -> None:
    rng = random.Random(10)
    acknowledged: dict[int, int] = {}
    for _ in range(3):
        for key, version in _work_until_killed(server, 1.0 + rng.random()).items():
            acknowledged[key] = max(acknowledged.get(key, 0), version)
        server.start()  # the sweep of the start puts in place or deletes what the killed one left
        assert _dossier_problems(db_engine, acknowledged) == []
        assert _data_dir_problems(db_engine, settings.data_dir) == []
    assert acknowledged  # transitions were acknowledged before the kills


def test_killed_in_the_middle_of_receiving_an_upload(
    server: Server, db_engine: Engine, settings: Settings
) -> None:
    """The body half sent when the server dies: after the restart, nothing of it remains."""
    porteur = _login(server.base, "porteur@demo.aap.test")
    mine = httpx.get(f"{server.base}/api/v1/dossiers", headers=porteur, params={"limit": 100}, timeout=30)
    draft = next(d for d in mine.json()["items"] if d["state"] == "brouillon")
    boundary = "crashtestboundary"
    head = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nstatuts\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="gros.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + b"%PDF-1.4\n"
        + os.urandom(256 * 1024)
    )
    halfway, killed = threading.Event(), threading.Event()

    def body() -> Iterator[bytes]:
        yield head
        halfway.set()
        killed.wait(30)  # the rest never arrives in time: the server dies first
        yield b"\r\n--" + boundary.encode() + b"--\r\n"

    def send() -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(
                f"{server.base}/api/v1/dossiers/{draft['id']}/attachments",
                headers={**porteur, "Content-Type": f"multipart/form-data; boundary={boundary}"},
                content=body(),
                timeout=60,
            )

    sender = threading.Thread(target=send)
    sender.start()
    assert halfway.wait(30)
    deadline = time.monotonic() + 30
    while not list((settings.data_dir / "files" / "tmp").glob("upload-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list((settings.data_dir / "files" / "tmp").glob("upload-*")), "l'envoi n'a pas commencé"
    server.kill()
    killed.set()
    sender.join(timeout=60)
    started = server.start()
    assert "supprimés" in started
    assert _data_dir_problems(db_engine, settings.data_dir) == []
    assert httpx.get(f"{server.base}/api/v1/dossiers/{draft['id']}", headers=porteur).status_code == 200


KILL_AT = """
import os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from sqlalchemy import select
from sqlalchemy.orm import Session
from aap.attachments import files
from aap.db import make_engine
from aap.models import Attachment, Organisation

url, data_dir, moment = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
session = Session(make_engine(url))
organisation = session.scalars(select(Organisation).order_by(Organisation.id)).first()
content = b"%PDF-1.4\\n" + moment.encode() + os.urandom(64)
sha, _ = files.store_bytes(session, data_dir, content)
session.add(Attachment(organisation_id=organisation.id, kind="statuts", filename="statuts.pdf",
    content_type="application/pdf", size=len(content), sha256=sha, uploaded_at=datetime.now(UTC)))
print(sha, flush=True)
if moment == "before_commit":
    session.flush()
    os.kill(os.getpid(), signal.SIGKILL)
files._place = lambda received, target: os.kill(os.getpid(), signal.SIGKILL)  # after the commit
session.commit()
"""


@pytest.mark.parametrize("moment", ["before_commit", "after_commit"])
def test_a_process_killed_between_the_file_and_its_row(
    moment: str, db_engine: Engine, settings: Settings, demo: date
) -> None:
    db_url = db_engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-c", KILL_AT, db_url, str(settings.data_dir), moment],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    sha = done.stdout.strip()
    assert list((settings.data_dir / "files" / "tmp").glob(f"{sha}.*"))  # left staged by the dead process
    with Session(db_engine) as session:
        swept = files.sweep(session, settings.data_dir)
        row = session.scalar(select(Attachment).where(Attachment.sha256 == sha))
    if moment == "before_commit":
        assert (swept.placed, swept.deleted) == (0, 1) and row is None
    else:
        assert (swept.placed, swept.deleted) == (1, 0) and row is not None
        assert files.stored_path(settings.data_dir, sha).read_bytes().startswith(b"%PDF-1.4\nafter_commit")
    assert _data_dir_problems(db_engine, settings.data_dir) == []
