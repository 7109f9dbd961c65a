"""Benchmark of the staff pages, exports and totals as the campaign grows, and of the transition path.

For each database (a SQLite file; a throwaway PostgreSQL when `scripts/with-postgres` gives one in
AAP_TEST_POSTGRES_URL), the demo is loaded, then campaigns of 1 000, 10 000 and 30 000 dossiers are
added (`aap bench generate`). After each, a real server (`aap serve --workers 1`, what `make run`
starts) is timed from this process over loopback on: the instructeur list (one page of 50, then with
filters), the dashboard, the comité page, the financer page, the totals, the API list with filters,
the programme CSV and XLSX; and its peak RSS is read from /proc. Then transitions per second
(`prendre_en_instruction`) through the service against the same writes in raw SQL.

Printed as tables, and written as JSON under `var/bench/`. Ratios (30k/1k, service/raw) are what to
compare between machines; absolute times depend on the machine and its load.
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.orm import Session

from aap.db import make_engine
from aap.demo.loader import load_demo
from aap.demo.volume import generate
from aap.migrate import upgrade
from aap.models import Dossier, DossierEvent, User
from bench.load import load_test, print_load

SIZES = (1_000, 10_000, 30_000)
# open-loop load at the largest size (`BENCH_LOAD_RATES=50,100,200`; empty: skipped)
LOAD_RATES = tuple(int(r) for r in os.environ.get("BENCH_LOAD_RATES", "50,100,200").split(",") if r.strip())
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "10"))
REPEAT = 3
INSTRUCTEUR, AGENT = "instructeur@demo.aap.test", "etat@demo.aap.test"
OUT_DIR = Path("var/bench")


@dataclass
class SizeResult:
    backend: str
    dossiers: int
    generate_s: float
    times: dict[str, float] = field(default_factory=dict)  # operation -> median seconds
    sizes: dict[str, int] = field(default_factory=dict)  # operation -> bytes answered
    rss_mb: float = 0.0
    service_per_s: float = 0.0
    raw_per_s: float = 0.0
    load: list[dict[str, Any]] = field(default_factory=list)  # open-loop load, largest size only


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def operations(campaign_id: int) -> list[tuple[str, str, str]]:
    """(name, who, path): who is `web` (instructeur's session), `agent` (a financer's) or `api`."""
    c = campaign_id
    return [
        ("liste /instruction (page de 50)", "web", f"/instruction?campagne={c}"),
        (
            "liste filtrée (état, QPV, orientation)",
            "web",
            f"/instruction?campagne={c}&etat=conventionne&qpv=QN00401M&orientation=C",
        ),
        ("liste, page 20", "web", f"/instruction?campagne={c}&page=20"),
        ("tableau de bord", "web", f"/tableau-de-bord?campagne={c}"),
        ("page du comité", "web", f"/instruction/comite/{c}"),
        ("page du financeur", "agent", f"/financeur?campagne={c}"),
        ("API totaux", "api", f"/api/v1/campaigns/{c}/totaux"),
        ("API liste filtrée (50)", "api", f"/api/v1/dossiers?campaign_id={c}&qpv=QN00402M&orientation=A"),
        ("programmation CSV (tous)", "api", f"/api/v1/campaigns/{c}/programmation?format=csv&state=tous"),
        ("programmation XLSX (tous)", "api", f"/api/v1/campaigns/{c}/programmation?format=xlsx&state=tous"),
    ]


class Server:
    """`aap serve --workers 1` in a child process, on a free port."""

    def __init__(self, url: str, data_dir: Path, workers: int = 1):
        self.port = free_port()
        env = {
            **os.environ,
            "AAP_DATABASE_URL": url,
            "AAP_DATA_DIR": str(data_dir),
            "AAP_SECRET_KEY": "bench-" + "x" * 40,
            "AAP_BASE_URL": f"http://127.0.0.1:{self.port}",
        }
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "aap.cli", "serve", "--workers", str(workers), "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("le serveur ne répond pas")

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else 0.0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def web_client(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=600)
    page = client.get("/connexion").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    r = client.post("/connexion", data={"email": email, "password": "demo", "csrf": token.group(1)})
    assert r.status_code in (200, 303), r.text
    return client


def api_client(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=600)
    r = client.post("/api/v1/auth/token", data={"username": email, "password": "demo"})
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


def time_pages(server: Server, campaign_id: int, result: SizeResult) -> None:
    clients = {
        "web": web_client(server.base, INSTRUCTEUR),
        "agent": web_client(server.base, AGENT),
        "api": api_client(server.base, INSTRUCTEUR),
    }
    for name, who, path in operations(campaign_id):
        client = clients[who]
        client.get(path)  # warm: templates, forms, plans
        samples = []
        for _ in range(1 if "programmation" in path else REPEAT):
            started = time.perf_counter()
            r = client.get(path)
            samples.append(time.perf_counter() - started)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
        result.times[name] = statistics.median(samples)
        result.sizes[name] = len(r.content)
    for client in clients.values():
        client.close()


def transitions_per_second(engine: Engine, campaign_id: int, count: int = 100) -> tuple[float, float]:
    """`prendre_en_instruction` on deposited dossiers: through the service, then the same writes
    (state, version, time stamp, history row) in raw SQL on as many others."""
    from aap.dossiers import service

    with Session(engine, expire_on_commit=False) as s:
        ids = list(
            s.scalars(
                select(Dossier.id)
                .where(Dossier.campaign_id == campaign_id, Dossier.state == "depose")
                .order_by(Dossier.id)
                .limit(2 * count)
            )
        )
        instructeur = s.scalar(select(User).where(User.email == INSTRUCTEUR))
        assert instructeur is not None
    half = len(ids) // 2
    through_service, raw = ids[:half], ids[half : 2 * half]
    if not half:
        return 0.0, 0.0
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as s:
        user = s.get(User, instructeur.id)
        assert user is not None
        started = time.perf_counter()
        for dossier_id in through_service:
            service.fire_transition(s, user, dossier_id, "prendre_en_instruction", {}, now)
        service_s = time.perf_counter() - started
    with engine.connect() as conn:
        started = time.perf_counter()
        for dossier_id in raw:
            with conn.begin():
                version = conn.scalar(
                    select(Dossier.version).where(Dossier.id == dossier_id, Dossier.state == "depose")
                )
                conn.execute(
                    update(Dossier)
                    .where(Dossier.id == dossier_id, Dossier.version == version)
                    .values(
                        state="en_instruction",
                        version=(version or 0) + 1,
                        instruction_started_at=now,
                        updated_at=now,
                    )
                )
                conn.execute(
                    insert(DossierEvent).values(
                        dossier_id=dossier_id,
                        transition="prendre_en_instruction",
                        from_state="depose",
                        to_state="en_instruction",
                        user_id=instructeur.id,
                        email=instructeur.email,
                        role="instructeur",
                        at=now,
                        data={},
                    )
                )
        raw_s = time.perf_counter() - started
    return half / service_s, half / raw_s


def prepare(url: str, data_dir: Path) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    load_demo(engine, today=date.today(), password="demo", data_dir=data_dir)
    return engine


def run_backend(backend: str, url: str, sizes: tuple[int, ...], tmp: Path) -> list[SizeResult]:
    data_dir = tmp / f"data-{backend}"
    print(f"… {backend} : base, démo", file=sys.stderr, flush=True)
    engine = prepare(url, data_dir)
    out = []
    for n in sizes:
        print(f"… {backend} : {n} dossiers", file=sys.stderr, flush=True)
        started = time.perf_counter()
        campaign = generate(engine, n, 4)
        result = SizeResult(backend, n, time.perf_counter() - started)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        server = Server(url, data_dir)
        try:
            time_pages(server, campaign.id, result)
            result.rss_mb = server.peak_rss_mb()
        finally:
            server.stop()
        result.service_per_s, result.raw_per_s = transitions_per_second(engine, campaign.id)
        out.append(result)
        _print_one(result)
    if LOAD_RATES and out:
        print(f"… {backend} : charge à débit fixe, 2 processus", file=sys.stderr, flush=True)
        server = Server(url, data_dir, workers=2)
        try:
            out[-1].load = load_test(server.base, campaign.id, LOAD_RATES, LOAD_SECONDS)
        finally:
            server.stop()
    engine.dispose()
    return out


def _print_one(r: SizeResult) -> None:
    print(
        f"  {r.backend} {r.dossiers}: généré en {r.generate_s:.1f} s, RSS {r.rss_mb:.0f} Mo", file=sys.stderr
    )


def print_tables(results: list[SizeResult]) -> None:
    by_backend: dict[str, list[SizeResult]] = {}
    for r in results:
        by_backend.setdefault(r.backend, []).append(r)
    for backend, rows in by_backend.items():
        rows.sort(key=lambda r: r.dossiers)
        first, last = rows[0], rows[-1]
        print(f"\nPages et exports, {backend} (médianes, secondes ; serveur `aap serve --workers 1`)")
        head = f"{'opération':<42}" + "".join(f"{r.dossiers:>10,}".replace(",", " ") for r in rows)
        head += f"{'ratio':>9}" if len(rows) > 1 else ""
        print(head)
        print("-" * len(head))
        for name in first.times:
            line = f"{name:<42}" + "".join(f"{r.times[name]:>10.3f}" for r in rows)
            if len(rows) > 1 and first.times[name]:
                line += f"{last.times[name] / first.times[name]:>8.1f}×"
            print(line)
        rss = f"{'RSS maximal du serveur (Mo)':<42}" + "".join(f"{r.rss_mb:>10.0f}" for r in rows)
        if len(rows) > 1 and first.rss_mb:
            rss += f"{last.rss_mb / first.rss_mb:>8.1f}×"
        print(rss)
        print(f"{'génération (aap bench generate, s)':<42}" + "".join(f"{r.generate_s:>10.1f}" for r in rows))
        print(f"\nTransitions par seconde, {backend} (prendre_en_instruction)")
        print(f"{'dossiers':>10} | {'service':>8} | {'SQL brut':>8} | {'service / brut':>14}")
        for r in rows:
            ratio = r.service_per_s / r.raw_per_s if r.raw_per_s else 0
            print(
                f"{r.dossiers:>10,} | {r.service_per_s:>8.1f} | {r.raw_per_s:>8.1f} | {ratio:>13.2f}×".replace(
                    ",", " "
                )
            )
        if last.load:
            print_load(
                last.load,
                f"Charge à débit fixe, {backend}, {last.dossiers} dossiers, `aap serve --workers 2`",
            )


def main(argv: list[str] | None = None) -> list[SizeResult]:
    args = argv if argv is not None else sys.argv[1:]
    sizes = tuple(int(a.replace("_", "")) for a in args) or SIZES
    backends = [("sqlite", "")]
    if os.environ.get("AAP_TEST_POSTGRES_URL"):
        backends.append(("postgresql", os.environ["AAP_TEST_POSTGRES_URL"]))
    results: list[SizeResult] = []
    with tempfile.TemporaryDirectory(prefix="aap-bench-scale-") as tmp:
        for backend, url in backends:
            url = url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            results += run_backend(backend, url, sizes, Path(tmp))
    print_tables(results)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"scale-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nFigures : {path}")
    return results


if __name__ == "__main__":
    main()
