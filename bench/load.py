"""Open-loop HTTP load at fixed rates: requests leave on schedule whether or not earlier ones answered,
so a slow server shows as growing latency and errors, not as a politely slower client.

Three kinds of request on loopback against `aap serve --workers N`: a dossier read (instructeur), an
autosave (`PATCH` with `If-Match`, the porteur's drafts in turn; a 412 from two saves of one draft
crossing is counted apart, it is the protocol working) and the instructeur list with filters. For each
rate: p50, p95, p99 latency and the errors (timeouts, 5xx, refused connections), and the CPU each request
cost the server's processes, PostgreSQL's and the generator itself (Linux's /proc): at R requests a
second, R × their sum is how many cores the machine must give, which says whether a latency goal can hold
on it at all.

The requests go out through `bench.wire`, a client that costs a tenth of httpx's CPU per request.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import wire

TIMEOUT_S = 5.0
DRAFTS = 400  # the porteur's drafts the autosaves go round (`porteur_drafts`)


@dataclass
class LoadResult:
    kind: str
    rate: int
    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    conflicts: int = 0
    shed: int = 0  # 503: refused at once by the server's bounded concurrency
    causes: dict[str, int] = field(default_factory=dict)  # error -> count (status code or exception)
    load_avg: float = 0.0  # the machine's 1-minute load average at the end of the run
    cpu_ms: dict[str, float] = field(default_factory=dict)  # who -> CPU ms per request sent
    steal_pct: float | None = None  # share of the machine's CPU time its hypervisor took during the run

    def error(self, cause: str) -> None:
        self.errors += 1
        self.causes[cause] = self.causes.get(cause, 0) + 1

    def percentile(self, p: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rate": self.rate,
            "sent": self.sent,
            "p50_ms": _ms(self.percentile(0.50)),
            "p95_ms": _ms(self.percentile(0.95)),
            "p99_ms": _ms(self.percentile(0.99)),
            "errors": self.errors,
            "shed_503": self.shed,
            "conflicts_412": self.conflicts,
            "causes": self.causes,
            "load_avg": self.load_avg,
            "cpu_ms_per_request": self.cpu_ms,
            "steal_pct": self.steal_pct,
        }


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()] if Path("/proc").is_dir() else []


def _tree(root: int) -> list[int]:
    """`root` and its descendants (the server's supervisor and its workers)."""
    parents = {pid: int(st[1]) for pid in _pids() if (st := _stat(pid)) is not None}
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def _postgres() -> list[int]:
    out = []
    for pid in _pids():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "postgres":
                out.append(pid)
        except OSError:
            continue
    return out


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of these processes and of their children that ended (a PostgreSQL
    backend's time passes to the postmaster when it exits); 0 for those gone or outside Linux."""
    return sum(sum(map(int, st[11:15])) for pid in pids if (st := _stat(pid)) is not None) / _TICK


def _machine_ticks() -> tuple[int, int] | None:
    """(all ticks, stolen ticks) of the machine's CPUs since boot (`/proc/stat`), None outside Linux."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(f) for f in fields[:8]]  # user nice system idle iowait irq softirq steal
    return sum(ticks), ticks[7] if len(ticks) > 7 else 0


class CpuMeter:
    """CPU spent by the server's process tree, PostgreSQL's processes and this one during a run, and
    the share of the machine's time a hypervisor took from it (`steal`: on a shared virtual machine, the
    cores the figures assume are not all there)."""

    def __init__(self, server_pid: int | None):
        self.server = _tree(server_pid) if server_pid else []
        self.postgres = _postgres()
        self.start = (_cpu_s(self.server), _cpu_s(self.postgres), time.process_time())
        self.machine = _machine_ticks()

    def steal_pct(self) -> float | None:
        end = _machine_ticks()
        if self.machine is None or end is None or end[0] <= self.machine[0]:
            return None
        return round(100 * (end[1] - self.machine[1]) / (end[0] - self.machine[0]), 1)

    def per_request(self, sent: int) -> dict[str, float]:
        if not sent or not self.server:
            return {}
        end = (_cpu_s(self.server), _cpu_s(self.postgres), time.process_time())
        # backends that connected during the run: their whole time is the run's
        end = (end[0], end[1] + _cpu_s([pid for pid in _postgres() if pid not in self.postgres]), end[2])
        names = ("serveur", "postgresql", "générateur")
        return {n: round(1000 * (b - a) / sent, 2) for n, a, b in zip(names, self.start, end, strict=True)}


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


class Drafts:
    """The porteur's drafts and their last known versions."""

    def __init__(self, items: list[dict[str, Any]]):
        self.versions = {d["id"]: d["version"] for d in items}
        self.order = list(self.versions)
        self.n = 0

    def next(self) -> tuple[int, int]:
        dossier_id = self.order[self.n % len(self.order)]
        self.n += 1
        return dossier_id, self.versions[dossier_id]


async def _one(client: wire.Client, result: LoadResult, raw: bytes, drafts: Drafts | None, key: int) -> None:
    started = time.perf_counter()
    try:
        r = await client.request(raw)
    except (OSError, TimeoutError, ValueError) as exc:
        result.error(type(exc).__name__)
        return
    elapsed = time.perf_counter() - started
    if r.status == 412:
        result.conflicts += 1
        result.latencies.append(elapsed)
    elif r.status == 503:
        result.shed += 1
    elif r.status >= 400:
        result.error(str(r.status))
    else:
        result.latencies.append(elapsed)
        if drafts is not None:  # the new version, from the answer's ETag
            drafts.versions[key] = int(r.headers["etag"].strip('"'))


async def run_rate(
    base: str,
    kind: str,
    rate: int,
    seconds: float,
    headers: dict[str, str],
    make: Any,
    drafts: Drafts | None,
    server_pid: int | None = None,
) -> LoadResult:
    """`make(i)` gives the i-th request: (key, method, url, and httpx-like `headers`, `params`, `json`)."""
    result = LoadResult(kind, rate)
    client = wire.Client(base, headers, TIMEOUT_S)
    meter = CpuMeter(server_pid)
    try:
        tasks = []
        started = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            key, request = make(i)
            raw = client.encode(**request)
            tasks.append(asyncio.create_task(_one(client, result, raw, drafts, key)))
            result.sent += 1
        await asyncio.gather(*tasks)
    finally:
        client.close()
    result.cpu_ms = meter.per_request(result.sent)
    result.steal_pct = meter.steal_pct()
    result.load_avg = round(os.getloadavg()[0], 2)
    return result


def porteur_drafts(base: str, porteur: dict[str, str], count: int) -> list[dict[str, Any]]:
    """`count` drafts of the demo porteur to autosave in turn, created in the open call where it has
    fewer: a form is saved every few seconds while someone types, so at 200 saves a second some hundreds
    of people are typing, each in a draft of their own."""
    with httpx.Client(base_url=base, headers=porteur, timeout=60) as client:
        items: list[dict[str, Any]] = client.get(
            "/api/v1/dossiers", params={"state": "brouillon", "limit": count}
        ).json()["items"]
        campaign_id = items[0]["campaign_id"]
        while len(items) < count:
            r = client.post(f"/api/v1/campaigns/{campaign_id}/dossiers", json={})
            r.raise_for_status()
            items.append(r.json())
    return items


def load_test(
    base: str,
    campaign_id: int,
    rates: tuple[int, ...] = (50, 100, 200),
    seconds: float = 10.0,
    server_pid: int | None = None,
) -> list[dict[str, Any]]:
    def token(email: str) -> dict[str, str]:
        r = httpx.post(base + "/api/v1/auth/token", data={"username": email, "password": "demo"}, timeout=60)
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    staff = token("instructeur@demo.aap.test")
    porteur = token("porteur@demo.aap.test")
    ids = [
        d["id"]
        for d in httpx.get(
            base + "/api/v1/dossiers",
            params={"campaign_id": campaign_id, "limit": 500},
            headers=staff,
            timeout=60,
        ).json()["items"]
    ]
    drafts = Drafts(porteur_drafts(base, porteur, DRAFTS))

    def read(i: int) -> tuple[int, dict[str, Any]]:
        return i, {"method": "GET", "url": f"/api/v1/dossiers/{ids[i % len(ids)]}"}

    def autosave(i: int) -> tuple[int, dict[str, Any]]:
        dossier_id, version = drafts.next()
        return dossier_id, {
            "method": "PATCH",
            "url": f"/api/v1/dossiers/{dossier_id}",
            "headers": {"If-Match": str(version)},
            "json": {"answers": {"action": {"lieux": f"Salle municipale, essai {i}"}}},
        }

    def listing(i: int) -> tuple[int, dict[str, Any]]:
        qpv = ("QN00401M", "QN00402M")[i % 2]
        return i, {
            "method": "GET",
            "url": "/api/v1/dossiers",
            "params": {"campaign_id": campaign_id, "qpv": qpv, "orientation": "C", "offset": (i % 10) * 50},
        }

    def drain() -> None:
        """Wait until the server has worked off the last run (three quick answers in a row)."""
        quick, deadline = 0, time.monotonic() + 120
        while quick < 3 and time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                ok = httpx.get(base + "/api/v1/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                ok = False
            quick = quick + 1 if ok and time.perf_counter() - started < 0.05 else 0
            time.sleep(0.5)

    out = []
    for kind, make, headers, with_drafts in (
        ("lecture d'un dossier", read, staff, None),
        ("autosave (If-Match)", autosave, porteur, drafts),
        ("liste filtrée", listing, staff, None),
    ):
        for rate in rates:
            drain()
            result = asyncio.run(run_rate(base, kind, rate, seconds, headers, make, with_drafts, server_pid))
            out.append(result.summary())
            print(f"  {kind} à {rate}/s : {out[-1]}", flush=True)
    return out


def print_load(rows: list[dict[str, Any]], title: str) -> None:
    """The table, and the CPU per request: server, PostgreSQL, generator (ms), then the cores they ask
    for at that rate and the share of the machine's time its hypervisor took (`volé`)."""
    print(f"\n{title}")
    head = (
        f"{'requête':<24} {'req/s':>6} {'envoyées':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'erreurs':>8}"
        f" {'503':>6} {'412':>6} {'charge':>7}   {'CPU ms/req serveur + pg + générateur':<38} {'cœurs':>6}"
        f" {'volé %':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        cells = [r["p50_ms"], r["p95_ms"], r["p99_ms"]]
        text = "".join(f"{'—' if c is None else c:>9}" for c in cells)
        cpu = r.get("cpu_ms_per_request") or {}
        parts = " + ".join(f"{v:.1f}" for v in cpu.values()) if cpu else "—"
        cores = f"{sum(cpu.values()) * r['rate'] / 1000:.2f}" if cpu else "—"
        print(
            f"{r['kind']:<24} {r['rate']:>6} {r['sent']:>8}{text} {r['errors']:>8} {r['shed_503']:>6} {r['conflicts_412']:>6}"
            f" {r.get('load_avg', 0):>7.1f}   {parts:<38} {cores:>6}"
            f" {'—' if r.get('steal_pct') is None else r['steal_pct']:>7}"
        )
