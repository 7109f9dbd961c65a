"""Benchmark of the staff pages, exports and totals as the campaign grows, and of the transition path.

For each database (a SQLite file; a throwaway PostgreSQL when `scripts/with-postgres` gives one in
AAP_TEST_POSTGRES_URL), the demo is loaded, then campaigns of 1 000, 10 000 and 30 000 dossiers are
added (`aap bench generate`). After each, a real server (`aap serve --workers 1`, what `make run`
starts) is timed from this process over loopback on: the instructeur list (one page of 50, then with
filters), the dashboard, the comité page, the financer page, the totals, the API list with filters,
the programme CSV and XLSX; and its peak RSS is read from /proc. Then transitions per second
(`prendre_en_instruction`) through the service against the same writes in raw SQL.

Then the national data set (`aap bench generate --national`: 435 contrats de ville, ten years, ~250 000
dossiers; `BENCH_NATIONAL=N` for N contracts in the same proportions, 0 to skip; `BENCH_BACKENDS=postgresql`
for one database only) is added to the same
database, and the staff pages of the biggest contract's newest call are timed beside the single
campaign's: they must not grow with the instance.

Printed as tables, and written as JSON under `var/bench/`; the load average is noted beside each
figure (the machine may be shared). Ratios (30k/1k, service/raw) are what to
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
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, func, insert, select, text, update
from sqlalchemy.orm import Session

from aap.db import make_engine
from aap.demo.loader import load_demo
from aap.demo.national import NATIONAL, generate_national
from aap.demo.volume import generate
from aap.migrate import upgrade
from aap.models import Campaign, Dossier, DossierEvent, Qpv, User
from bench.load import load_test, print_load

SIZES = (1_000, 10_000, 30_000)
# open-loop load at the largest size (`BENCH_LOAD_RATES=50,100,200`; empty: skipped), on
# `BENCH_LOAD_WORKERS` server processes (2)
LOAD_RATES = tuple(int(r) for r in os.environ.get("BENCH_LOAD_RATES", "50,100,200").split(",") if r.strip())
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "10"))
LOAD_WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "2"))
NATIONAL_TERRITORIES = int(os.environ.get("BENCH_NATIONAL", str(NATIONAL.territories)))
NATIONAL_YEARS = int(os.environ.get("BENCH_NATIONAL_YEARS", str(NATIONAL.years)))
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
    load_avg: float = 0.0  # 1-minute load average when the pages were timed


@dataclass
class NationalResult:
    """The pages of one contract's newest call, the whole national set in the database."""

    backend: str
    generate_s: float
    report: dict[str, Any]
    dossiers_in_base: int = 0
    times: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    rss_mb: float = 0.0
    load_avg: float = 0.0


# what the national section times (names of `operations`)
NATIONAL_OPERATIONS = (
    "liste /instruction (page de 50)",
    "liste filtrée (état, QPV, orientation)",
    "tableau de bord",
    "API totaux",
    "lecture d'un dossier (page)",
    "API lecture d'un dossier",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def operations(
    campaign_id: int, dossier_id: int, qpvs: tuple[str, str] = ("QN00401M", "QN00402M")
) -> list[tuple[str, str, str]]:
    """(name, who, path): who is `web` (instructeur's session), `agent` (a financer's) or `api`."""
    c = campaign_id
    return [
        ("liste /instruction (page de 50)", "web", f"/instruction?campagne={c}"),
        (
            "liste filtrée (état, QPV, orientation)",
            "web",
            f"/instruction?campagne={c}&etat=conventionne&qpv={qpvs[0]}&orientation=C",
        ),
        ("liste, page 20", "web", f"/instruction?campagne={c}&page=20"),
        ("tableau de bord", "web", f"/tableau-de-bord?campagne={c}"),
        ("page du comité", "web", f"/instruction/comite/{c}"),
        ("page du financeur", "agent", f"/financeur?campagne={c}"),
        ("API totaux", "api", f"/api/v1/campaigns/{c}/totaux"),
        ("API liste filtrée (50)", "api", f"/api/v1/dossiers?campaign_id={c}&qpv={qpvs[1]}&orientation=A"),
        ("lecture d'un dossier (page)", "web", f"/instruction/dossiers/{dossier_id}"),
        ("API lecture d'un dossier", "api", f"/api/v1/dossiers/{dossier_id}"),
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
        self.process = subprocess.Popen(
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


def time_pages(
    server: Server,
    ops: list[tuple[str, str, str]],
    result: SizeResult | NationalResult,
    instructeur: str = INSTRUCTEUR,
    agent: str = AGENT,
) -> None:
    clients = {
        "web": web_client(server.base, instructeur),
        "agent": web_client(server.base, agent),
        "api": api_client(server.base, instructeur),
    }
    for name, who, path in ops:
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
    result.load_avg = os.getloadavg()[0]


def first_dossier(engine: Engine, campaign_id: int) -> int:
    with Session(engine) as s:
        found = s.scalar(select(func.min(Dossier.id)).where(Dossier.campaign_id == campaign_id))
    assert found is not None
    return int(found)


def run_national(backend: str, url: str, engine: Engine, data_dir: Path) -> NationalResult:
    """The national set added to the database, then the pages of its biggest newest call."""
    print(f"… {backend} : jeu national ({NATIONAL_TERRITORIES} contrats)", file=sys.stderr, flush=True)
    scale = replace(NATIONAL.scaled(NATIONAL_TERRITORIES), years=NATIONAL_YEARS)
    started = time.perf_counter()
    report = generate_national(engine, scale)
    result = NationalResult(backend, time.perf_counter() - started, asdict(report))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    with Session(engine) as s:
        result.dossiers_in_base = int(s.scalar(select(func.count()).select_from(Dossier)) or 0)
        territory_id = s.scalar(
            select(Campaign.territory_id).where(Campaign.id == report.biggest_campaign_id)
        )
        qpvs = list(s.scalars(select(Qpv.code).where(Qpv.territory_id == territory_id).order_by(Qpv.code)))
    code = report.biggest_instructeur.split("@")[1]
    wanted = [
        op
        for op in operations(
            report.biggest_campaign_id,
            first_dossier(engine, report.biggest_campaign_id),
            (qpvs[0], qpvs[-1]),
        )
        if op[0] in NATIONAL_OPERATIONS
    ]
    server = Server(url, data_dir)
    try:
        time_pages(server, wanted, result, report.biggest_instructeur, f"etat@{code}")
        result.rss_mb = server.peak_rss_mb()
    finally:
        server.stop()
    print(
        f"  {backend} national : généré en {result.generate_s:.1f} s, {result.dossiers_in_base} dossiers en base",
        file=sys.stderr,
    )
    return result


def raw_instruction(conn: Connection, dossier_id: int, instructeur: User, now: datetime) -> None:
    """`prendre_en_instruction`'s writes in SQL (state, version, time stamps, history row), in the
    caller's transaction: what the service is measured against."""
    version = conn.scalar(select(Dossier.version).where(Dossier.id == dossier_id, Dossier.state == "depose"))
    conn.execute(
        update(Dossier)
        .where(Dossier.id == dossier_id, Dossier.version == version)
        .values(
            state="en_instruction", version=(version or 0) + 1, instruction_started_at=now, updated_at=now
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


def transitions_per_second(
    engine: Engine, campaign_id: int, count: int = 200, rounds: int = 10
) -> tuple[float, float]:
    """`prendre_en_instruction` on deposited dossiers: through the service, and the same writes (state,
    version, time stamps, history row) in raw SQL on as many others; (service, raw) per second.

    The two sides take turns, `rounds` rounds of `count / rounds` transitions each (fewer when the
    campaign has fewer deposited dossiers), the side that starts changing every round: a shared
    machine's speed drifts by more than the gap measured, and a side run after the other would carry
    the drift in the ratio. Two rounds more come first, uncounted, so each side has started once
    first and once second and its statements are warm (psycopg prepares one at its fifth run)."""
    from aap.dossiers import service

    warm = 2
    with Session(engine, expire_on_commit=False) as s:
        ids = list(
            s.scalars(
                select(Dossier.id)
                .where(Dossier.campaign_id == campaign_id, Dossier.state == "depose")
                .order_by(Dossier.id)
                .limit(2 * (count // rounds) * (rounds + warm))
            )
        )
        instructeur = s.scalar(select(User).where(User.email == INSTRUCTEUR))
        assert instructeur is not None
    per_round = min(count // rounds, len(ids) // (2 * (rounds + warm)))
    if per_round < 1:
        return 0.0, 0.0
    now = datetime.now(UTC)

    def through_service(batch: list[int]) -> float:
        with Session(engine, expire_on_commit=False) as s:
            user = s.get(User, instructeur.id)
            assert user is not None
            started = time.perf_counter()
            for dossier_id in batch:
                service.fire_transition(s, user, dossier_id, "prendre_en_instruction", {}, now)
            return time.perf_counter() - started

    def raw(batch: list[int]) -> float:
        with engine.connect() as conn:
            started = time.perf_counter()
            for dossier_id in batch:
                with conn.begin():
                    raw_instruction(conn, dossier_id, instructeur, now)
            return time.perf_counter() - started

    spent = {"service": 0.0, "raw": 0.0}
    done = {"service": 0, "raw": 0}
    for n in range(rounds + warm):
        order = [("service", through_service), ("raw", raw)]
        for side, run in order if n % 2 == 0 else order[::-1]:
            first = (2 * n + (side == "raw")) * per_round
            batch = ids[first : first + per_round]
            elapsed = run(batch)
            if n >= warm:
                spent[side] += elapsed
                done[side] += len(batch)
    return done["service"] / spent["service"], done["raw"] / spent["raw"]


def prepare(url: str, data_dir: Path) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    load_demo(engine, today=date.today(), password="demo", data_dir=data_dir)
    return engine


def run_backend(
    backend: str, url: str, sizes: tuple[int, ...], tmp: Path
) -> tuple[list[SizeResult], NationalResult | None]:
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
            time_pages(server, operations(campaign.id, first_dossier(engine, campaign.id)), result)
            result.rss_mb = server.peak_rss_mb()
        finally:
            server.stop()
        result.service_per_s, result.raw_per_s = transitions_per_second(engine, campaign.id)
        out.append(result)
        _print_one(result)
    if LOAD_RATES and out:
        print(f"… {backend} : charge à débit fixe, {LOAD_WORKERS} processus", file=sys.stderr, flush=True)
        server = Server(url, data_dir, workers=LOAD_WORKERS)
        try:
            out[-1].load = load_test(server.base, campaign.id, LOAD_RATES, LOAD_SECONDS, server.process.pid)
        finally:
            server.stop()
    national = run_national(backend, url, engine, data_dir) if NATIONAL_TERRITORIES else None
    engine.dispose()
    return out, national


def _print_one(r: SizeResult) -> None:
    print(
        f"  {r.backend} {r.dossiers}: généré en {r.generate_s:.1f} s, RSS {r.rss_mb:.0f} Mo, "
        f"charge {r.load_avg:.1f}",
        file=sys.stderr,
    )


def print_national(results: list[SizeResult], national: list[NationalResult]) -> None:
    for n in national:
        lone = max((r for r in results if r.backend == n.backend), key=lambda r: r.dossiers, default=None)
        rep = n.report
        in_base = f"{n.dossiers_in_base:,}".replace(",", " ")
        print(
            f"\nÉchelle nationale, {n.backend} : {rep['territories']} contrats, {rep['campaigns']} appels, "
            f"{in_base} dossiers en base (généré en {n.generate_s:.0f} s) ; appel mesuré : "
            f"{rep['biggest_dossiers']} dossiers (médianes, secondes ; serveur `aap serve --workers 1`)"
        )
        lone_head = f"{lone.dossiers:,} seul".replace(",", " ") if lone else "appel seul"
        head = f"{'opération':<42}{lone_head:>14}{'national':>12}{'ratio':>9}"
        print(head)
        print("-" * len(head))
        for name, t in n.times.items():
            alone = lone.times.get(name) if lone else None
            ratio = f"{t / alone:>8.2f}×" if alone else f"{'—':>9}"
            print(f"{name:<42}{'—' if alone is None else f'{alone:.3f}':>14}{t:>12.3f}{ratio}")
        print(f"{'RSS maximal du serveur (Mo)':<42}{(lone.rss_mb if lone else 0):>14.0f}{n.rss_mb:>12.0f}")
        print(f"{'charge moyenne (1 min)':<42}{(lone.load_avg if lone else 0):>14.1f}{n.load_avg:>12.1f}")


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
        print(f"{'charge moyenne (1 min)':<42}" + "".join(f"{r.load_avg:>10.1f}" for r in rows))
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
                f"Charge à débit fixe, {backend}, {last.dossiers} dossiers, `aap serve --workers {LOAD_WORKERS}`",
            )


def main(argv: list[str] | None = None) -> list[SizeResult]:
    args = argv if argv is not None else sys.argv[1:]
    sizes = tuple(int(a.replace("_", "")) for a in args) or SIZES
    backends = [("sqlite", "")]
    if os.environ.get("AAP_TEST_POSTGRES_URL"):
        backends.append(("postgresql", os.environ["AAP_TEST_POSTGRES_URL"]))
    only = os.environ.get("BENCH_BACKENDS")  # e.g. `postgresql`: the others skipped
    if only:
        backends = [b for b in backends if b[0] in only.split(",")]
    results: list[SizeResult] = []
    national: list[NationalResult] = []
    with tempfile.TemporaryDirectory(prefix="aap-bench-scale-") as tmp:
        for backend, url in backends:
            url = url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            sized, nat = run_backend(backend, url, sizes, Path(tmp))
            results += sized
            national += [nat] if nat else []
    print_tables(results)
    print_national(results, national)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S}"
    path = OUT_DIR / f"scale-{stamp}.json"
    path.write_text(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nFigures : {path}")
    if national:
        npath = OUT_DIR / f"national-{stamp}.json"
        npath.write_text(
            json.dumps([asdict(n) for n in national], indent=2, ensure_ascii=False, default=str),
            encoding="utf-8",
        )
        print(f"Échelle nationale : {npath}")
    return results


def load_main(argv: list[str]) -> list[dict[str, Any]]:
    """`python -m bench load [N]`: only the open-loop load, on one campaign of N dossiers (30 000), on
    PostgreSQL when `scripts/with-postgres` gives one, else SQLite."""
    size = int(argv[0].replace("_", "")) if argv else SIZES[-1]
    url = os.environ.get("AAP_TEST_POSTGRES_URL", "")
    backend = "postgresql" if url else "sqlite"
    with tempfile.TemporaryDirectory(prefix="aap-bench-load-") as tmp:
        url = url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = prepare(url, Path(tmp) / "data")
        campaign = generate(engine, size, 4)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        engine.dispose()
        server = Server(url, Path(tmp) / "data", workers=LOAD_WORKERS)
        try:
            rows = load_test(
                server.base, campaign.id, LOAD_RATES or (50, 100, 200), LOAD_SECONDS, server.process.pid
            )
        finally:
            server.stop()
    print_load(rows, f"Charge à débit fixe, {backend}, {size} dossiers, `aap serve --workers {LOAD_WORKERS}`")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"load-{backend}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(rows, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nFigures : {path}")
    return rows


if __name__ == "__main__":
    main()
