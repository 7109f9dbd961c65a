"""Concurrent clients against a real server: reads and saves, no 500, no lost save.

`python -m bench concurrency [--quick]` serves the demo with uvicorn on a free port and runs 100
clients for 30 s on the embedded SQLite, then 200 on PostgreSQL when `AAP_BENCH_POSTGRES_URL` (or
`AAP_TEST_POSTGRES_URL`) is set, and prints the answers by kind and status. The same `run_clients`
proves the property in `tests/security/test_concurrency.py` with fewer clients for a few seconds.

Each client logs in as one of the two demo porteurs, creates its own draft (a save), then loops:
list its dossiers, read its draft or the shared draft of its porteur, save one answer there with
`If-Match`. Afterwards every answered save must be stored: versions answered 200 on a dossier are
all different (two saves never both succeed from the same version), the stored version is the last
answered one and carries that save's text, and every created draft exists.
"""

from __future__ import annotations

import os
import random
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine, text

PORTEURS = ("porteur@demo.aap.test", "porteur2@demo.aap.test")
ALLOWED = {200, 201, 412, 503}


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    saves: list[tuple[int, int, str]] = field(default_factory=list)  # dossier, version answered, text
    created: list[int] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, response: httpx.Response) -> None:
        with self.lock:
            self.counts[f"{kind} {response.status_code}"] += 1
            if response.status_code not in ALLOWED:
                self.unexpected.append(f"{kind} {response.status_code} {response.text[:300]}")
            elif response.status_code == 503 and not response.headers.get("Retry-After"):
                self.unexpected.append(f"{kind} 503 sans Retry-After")

    def total(self, status: int | None = None) -> int:
        return sum(n for k, n in self.counts.items() if status is None or k.endswith(f" {status}"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread may not install them
        pass


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app on 127.0.0.1:<free port> in a thread; yields its base URL."""
    port = _free_port()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("le serveur n'a pas démarré")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _login(http: httpx.Client, email: str, password: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/token", data={"username": email, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def run_clients(base: str, clients: int, seconds: float, password: str = "demo") -> Tally:
    """`clients` threads for `seconds`, then the checks' raw material (see `lost_saves`)."""
    tally = Tally()
    with httpx.Client(base_url=base, timeout=60) as http:
        headers = {email: _login(http, email, password) for email in PORTEURS}
        campaign = next(
            c
            for c in http.get("/api/v1/campaigns", headers=headers[PORTEURS[0]]).json()["items"]
            if c["depot_ouvert"]
        )
        shared = {}
        for email in PORTEURS:
            r = http.post(f"/api/v1/campaigns/{campaign['id']}/dossiers", json={}, headers=headers[email])
            r.raise_for_status()
            shared[email] = r.json()["id"]
            tally.created.append(shared[email])
    window: dict[str, float] = {}

    def begin() -> None:  # the clock starts once every client is ready (creating them takes a while)
        window["stop"] = time.monotonic() + seconds

    start = threading.Barrier(clients, action=begin)

    def client(n: int) -> None:
        try:
            _client(n)
        except Exception as exc:  # a dropped connection is a finding, not a silent thread death
            with tally.lock:
                tally.unexpected.append(f"client {n} : {exc!r}")

    def _client(n: int) -> None:
        email = PORTEURS[n % len(PORTEURS)]
        rng = random.Random(n)
        with httpx.Client(base_url=base, timeout=60, headers=headers[email]) as http:
            start.wait()
            stop_at = window["stop"]
            mine: int | None = None
            while mine is None and time.monotonic() < stop_at:
                r = http.post(f"/api/v1/campaigns/{campaign['id']}/dossiers", json={})
                tally.note("POST dossier", r)
                if r.status_code == 201:
                    mine = r.json()["id"]
                    with tally.lock:
                        tally.created.append(mine)
                elif r.status_code == 503:
                    time.sleep(0.2)
            i = 0
            while time.monotonic() < stop_at:
                i += 1
                tally.note("GET liste", http.get("/api/v1/dossiers", params={"limit": 20}))
                target = shared[email] if mine is None or rng.random() < 0.3 else mine
                got = http.get(f"/api/v1/dossiers/{target}")
                tally.note("GET dossier", got)
                if got.status_code != 200:
                    time.sleep(0.2)
                    continue
                marker = f"client {n}, enregistrement {i}"
                saved = http.patch(
                    f"/api/v1/dossiers/{target}",
                    json={"answers": {"action": {"lieux": marker}}},
                    headers={"If-Match": str(got.json()["version"])},
                )
                tally.note("PATCH dossier", saved)
                if saved.status_code == 200:
                    with tally.lock:
                        tally.saves.append((target, saved.json()["version"], marker))
                elif saved.status_code == 503:
                    time.sleep(float(saved.headers.get("Retry-After", "1")) * rng.random())

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally


def lost_saves(base: str, tally: Tally, password: str = "demo") -> list[str]:
    """Every save answered 200 or 201 that the server does not hold, in words (empty: none lost)."""
    problems: list[str] = []
    by_dossier: dict[int, list[tuple[int, str]]] = {}
    for dossier_id, version, marker in tally.saves:
        by_dossier.setdefault(dossier_id, []).append((version, marker))
    with httpx.Client(base_url=base, timeout=60) as http:
        headers = {email: _login(http, email, password) for email in PORTEURS}
        stored: dict[int, dict[str, Any]] = {}
        for dossier_id in tally.created:
            for h in headers.values():
                r = http.get(f"/api/v1/dossiers/{dossier_id}", headers=h)
                if r.status_code == 200:
                    stored[dossier_id] = r.json()
                    break
            else:
                problems.append(f"dossier créé {dossier_id} introuvable")
    for dossier_id, answered in by_dossier.items():
        versions = [v for v, _ in answered]
        if len(set(versions)) != len(versions):
            problems.append(f"dossier {dossier_id} : deux enregistrements acceptés depuis la même version")
        last_version, last_marker = max(answered)
        d = stored.get(dossier_id)
        if d is None:
            continue
        if d["version"] != last_version or d["answers"].get("action", {}).get("lieux") != last_marker:
            problems.append(
                f"dossier {dossier_id} : version {d['version']} stockée, dernier enregistrement accepté "
                f"{last_version} ({last_marker!r})"
            )
    return problems


def _demo_engine(url: str | None, data_dir: Path) -> Engine:
    from aap.db import make_engine
    from aap.demo.loader import load_demo
    from aap.migrate import upgrade

    engine = make_engine(url or f"sqlite:///{data_dir / 'aap.sqlite3'}")
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    load_demo(engine, today=date.today(), password="demo", data_dir=data_dir)
    return engine


def measure(label: str, url: str | None, clients: int, seconds: float) -> bool:
    from aap.app import create_app
    from aap.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        engine = _demo_engine(url, data_dir)
        settings = Settings(data_dir=data_dir, secret_key="bench-" + "k" * 40, smtp_url=None)
        with serve(create_app(settings, engine)) as base:
            began = time.monotonic()
            tally = run_clients(base, clients, seconds)
            elapsed = time.monotonic() - began
            problems = lost_saves(base, tally)
        engine.dispose()
    print(f"\n{label} : {clients} clients pendant {elapsed:.0f} s, {tally.total()} requêtes")
    for key in sorted(tally.counts):
        print(f"  {key:<22} {tally.counts[key]:>7}")
    print(f"  enregistrements acceptés : {len(tally.saves)}, brouillons créés : {len(tally.created)}")
    print(f"  erreurs 500 ou inattendues : {len(tally.unexpected)}, enregistrements perdus : {len(problems)}")
    for line in (tally.unexpected + problems)[:10]:
        print(f"    {line}")
    return not tally.unexpected and not problems


def main(argv: list[str]) -> bool:
    quick = "--quick" in argv
    seconds = 5.0 if quick else 30.0
    ok = measure("SQLite", None, 30 if quick else 100, seconds)
    pg = os.environ.get("AAP_BENCH_POSTGRES_URL") or os.environ.get("AAP_TEST_POSTGRES_URL")
    if pg:
        ok = measure("PostgreSQL", pg, 50 if quick else 200, seconds) and ok
    else:
        print("\nPostgreSQL : AAP_BENCH_POSTGRES_URL non défini, mesure sautée.")
    return ok


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1:]) else 1)
