"""Open-loop HTTP load at fixed rates: requests leave on schedule whether or not earlier ones answered,
so a slow server shows as growing latency and errors, not as a politely slower client.

Three kinds of request on loopback against `aap serve --workers N`: a dossier read (instructeur), an
autosave (`PATCH` with `If-Match`, the porteur's drafts in turn; a 412 from two saves of one draft
crossing is counted apart, it is the protocol working) and the instructeur list with filters. For each
rate: p50, p95, p99 latency and the errors (timeouts, 5xx, refused connections).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

TIMEOUT_S = 5.0


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
        }


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


async def _one(
    client: httpx.AsyncClient, result: LoadResult, request: dict[str, Any], drafts: Drafts | None
) -> None:
    started = time.perf_counter()
    try:
        r = await client.request(**request)
    except httpx.HTTPError as exc:
        result.error(type(exc).__name__)
        return
    elapsed = time.perf_counter() - started
    if r.status_code == 412:
        result.conflicts += 1
        result.latencies.append(elapsed)
    elif r.status_code == 503:
        result.shed += 1
    elif r.status_code >= 400:
        result.error(str(r.status_code))
    else:
        result.latencies.append(elapsed)
        if drafts is not None:
            body = r.json()
            drafts.versions[body["id"]] = body["version"]


async def run_rate(
    base: str, kind: str, rate: int, seconds: float, headers: dict[str, str], make: Any, drafts: Drafts | None
) -> LoadResult:
    result = LoadResult(kind, rate)
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=TIMEOUT_S, limits=limits) as client:
        tasks = []
        started = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_one(client, result, make(i), drafts)))
            result.sent += 1
        await asyncio.gather(*tasks)
    result.load_avg = round(os.getloadavg()[0], 2)
    return result


def load_test(
    base: str, campaign_id: int, rates: tuple[int, ...] = (50, 100, 200), seconds: float = 10.0
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
    drafts_list = httpx.get(
        base + "/api/v1/dossiers", params={"state": "brouillon"}, headers=porteur, timeout=60
    ).json()["items"]
    drafts = Drafts(drafts_list)

    def read(i: int) -> dict[str, Any]:
        return {"method": "GET", "url": f"/api/v1/dossiers/{ids[i % len(ids)]}"}

    def autosave(i: int) -> dict[str, Any]:
        dossier_id, version = drafts.next()
        return {
            "method": "PATCH",
            "url": f"/api/v1/dossiers/{dossier_id}",
            "headers": {"If-Match": str(version)},
            "json": {"answers": {"action": {"lieux": f"Salle municipale, essai {i}"}}},
        }

    def listing(i: int) -> dict[str, Any]:
        qpv = ("QN00401M", "QN00402M")[i % 2]
        return {
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
            result = asyncio.run(run_rate(base, kind, rate, seconds, headers, make, with_drafts))
            out.append(result.summary())
            print(f"  {kind} à {rate}/s : {out[-1]}", flush=True)
    return out


def print_load(rows: list[dict[str, Any]], title: str) -> None:
    print(f"\n{title}")
    head = f"{'requête':<24} {'req/s':>6} {'envoyées':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'erreurs':>8} {'503':>6} {'412':>6} {'charge':>7}"
    print(head)
    print("-" * len(head))
    for r in rows:
        cells = [r["p50_ms"], r["p95_ms"], r["p99_ms"]]
        text = "".join(f"{'—' if c is None else c:>9}" for c in cells)
        print(
            f"{r['kind']:<24} {r['rate']:>6} {r['sent']:>8}{text} {r['errors']:>8} {r['shed_503']:>6} {r['conflicts_412']:>6}"
            f" {r.get('load_avg', 0):>7.1f}"
        )
