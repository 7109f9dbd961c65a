"""`make bench`'s open-loop generator against a real `aap serve`: every request it was asked to send
goes out and is answered, and the run says what it cost the server and what the machine's hypervisor
took meanwhile."""

import asyncio
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from aap.models import Dossier
from aap.settings import Settings
from bench.load import run_rate
from tests.security.live_server import Server


def test_a_fixed_rate_run_reads_dossiers_and_accounts_for_its_cpu(
    db_engine: Engine, settings: Settings, demo: date, tmp_path: Path
) -> None:
    with db_engine.connect() as conn:
        ids = list(conn.scalars(select(Dossier.id).where(Dossier.state != "brouillon")))
    server = Server(db_engine.url.render_as_string(hide_password=False), settings.data_dir, tmp_path)
    server.start()
    try:
        token = httpx.post(
            f"{server.base}/api/v1/auth/token",
            data={"username": "instructeur@demo.aap.test", "password": "demo"},
        ).json()["access_token"]

        def read(i: int) -> tuple[int, dict[str, str]]:
            return i, {"method": "GET", "url": f"/api/v1/dossiers/{ids[i % len(ids)]}"}

        headers = {"Authorization": f"Bearer {token}"}
        assert server.process is not None
        result = asyncio.run(
            run_rate(server.base, "lecture", 40, 1.0, headers, read, None, server.process.pid)
        )
    finally:
        server.stop()

    summary = result.summary()
    assert summary["sent"] == 40 and len(result.latencies) == 40
    assert summary["errors"] == 0 and summary["shed_503"] == 0
    assert summary["p50_ms"] is not None and summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"]
    assert set(summary["cpu_ms_per_request"]) == {"serveur", "postgresql", "générateur"}
    assert summary["cpu_ms_per_request"]["serveur"] > 0
    if Path("/proc/stat").exists():
        assert summary["steal_pct"] is not None and 0 <= summary["steal_pct"] <= 100
    else:  # pragma: no cover - outside Linux
        pytest.skip("/proc/stat is Linux's")
