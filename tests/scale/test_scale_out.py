"""Scale-out on one database: two app servers (`aap serve` subprocesses) and two cron passes
(`aap notifications run` subprocesses) at once, against the same PostgreSQL (or SQLite file).

Two autosaves of one draft sent at the same moment to the two servers with the same `If-Match`: one is
saved, the other refused with 412, and both servers then show the saved one (no lost update). Two cron
passes started together send each reminder once to a real SMTP server (no duplicate message)."""

import os
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

from aap.models import Campaign
from aap.settings import Settings
from tests.notifications.conftest import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[2]
AAP = [sys.executable, "-m", "aap.cli"]
PORTEUR = "porteur@demo.aap.test"


def _env(engine: Engine, settings: Settings, smtp: SmtpServer) -> dict[str, str]:
    return {
        **os.environ,
        "AAP_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "AAP_SMTP_URL": smtp.url,
        "AAP_DATA_DIR": str(settings.data_dir),
        "AAP_SECRET_KEY": "scale-out-" + "x" * 40,
        "AAP_BASE_URL": "https://aap.example.test",
    }


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd), as the notification tests start it."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def servers(db_engine: Engine, settings: Settings, smtp: SmtpServer, demo: date) -> Iterator[list[str]]:
    env = _env(db_engine, settings, smtp)
    started: list[tuple[subprocess.Popen[bytes], str]] = []
    for _ in range(2):
        port = free_port()
        process = subprocess.Popen(
            [*AAP, "serve", "--workers", "1", "--port", str(port)],
            env={**env, "AAP_BASE_URL": f"http://127.0.0.1:{port}"},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append((process, f"http://127.0.0.1:{port}"))
    try:
        for process, base in started:
            deadline = time.monotonic() + 90
            while True:
                assert process.poll() is None, "le serveur s'est arrêté"
                try:
                    if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "le serveur ne répond pas"
                time.sleep(0.3)
        yield [base for _, base in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _token(base: str) -> dict[str, str]:
    r = httpx.post(base + "/api/v1/auth/token", data={"username": PORTEUR, "password": "demo"}, timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_two_servers_lose_no_update_and_two_cron_passes_send_each_message_once(
    servers: list[str], db_engine: Engine, settings: Settings, smtp: SmtpServer
) -> None:
    a, b = servers
    heads = [_token(a), _token(b)]
    drafts = httpx.get(a + "/api/v1/dossiers", headers=heads[0], params={"state": "brouillon"}, timeout=30)
    assert drafts.status_code == 200, drafts.text
    draft = drafts.json()["items"][0]
    seen = httpx.get(f"{b}/api/v1/dossiers/{draft['id']}", headers=heads[1], timeout=30).json()
    assert seen["version"] == draft["version"]

    titles = {a: "Titre enregistré par le serveur A", b: "Titre enregistré par le serveur B"}
    barrier = threading.Barrier(2)
    answers: dict[str, httpx.Response] = {}

    def save(base: str, head: dict[str, str]) -> None:
        body = {
            "answers": {**draft["answers"], "action": {**draft["answers"]["action"], "titre": titles[base]}}
        }
        barrier.wait()
        answers[base] = httpx.patch(
            f"{base}/api/v1/dossiers/{draft['id']}",
            headers={**head, "If-Match": str(draft["version"])},
            json=body,
            timeout=60,
        )

    threads = [
        threading.Thread(target=save, args=(base, head)) for base, head in zip(servers, heads, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    codes = sorted(r.status_code for r in answers.values())
    assert codes == [200, 412], {base: (r.status_code, r.text[:200]) for base, r in answers.items()}
    winner = next(base for base, r in answers.items() if r.status_code == 200)
    for base, head in zip(servers, heads, strict=True):  # both servers show the saved answers
        shown = httpx.get(f"{base}/api/v1/dossiers/{draft['id']}", headers=head, timeout=30).json()
        assert shown["answers"]["action"]["titre"] == titles[winner]
        assert shown["version"] == draft["version"] + 1

    with db_engine.connect() as conn:
        cloture = conn.scalar(select(Campaign.depot_cloture).order_by(Campaign.year.desc()))
    now = (cloture - timedelta(days=7)).isoformat()
    env = _env(db_engine, settings, smtp)
    passes = [
        subprocess.Popen(
            [*AAP, "notifications", "run", "--now", now],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in passes]
    assert all(p.returncode == 0 for p in passes), outputs
    keys = [m["X-Aap-Key"] for m in smtp.inbox.messages]
    assert smtp.inbox.by_rule("brouillon_avant_cloture"), outputs  # the pass had reminders to send
    assert len(keys) == len(set(keys)), "a message was sent twice"
