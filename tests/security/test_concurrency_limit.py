"""`aap serve --limit-concurrency N`: past N requests in progress in a worker, the next one is answered
at once with 503, `Retry-After` and a French message with its code, like every other refusal (uvicorn's
own limit answered « Service Unavailable » in English, without `Retry-After`)."""

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import Engine

from aap.settings import Settings
from tests.security.live_server import Server


def test_past_the_limit_a_request_gets_503_with_retry_after_at_once(
    db_engine: Engine, settings: Settings, demo: date, tmp_path: Path
) -> None:
    server = Server(
        db_engine.url.render_as_string(hide_password=False),
        settings.data_dir,
        tmp_path,
        "--limit-concurrency",
        "1",
    )
    server.start()
    release, sent = threading.Event(), threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield b"username=porteur%40demo.aap.test&pass"
        sent.set()
        release.wait(30)  # the request stays in progress until the test has seen the 503
        yield b"word=demo"

    def held() -> None:
        httpx.post(
            f"{server.base}/api/v1/auth/token",
            content=slow_body(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=60,
        )

    holder = threading.Thread(target=held)
    try:
        holder.start()
        assert sent.wait(30)
        time.sleep(0.3)  # the server has its headers: the request is in progress (no probe raced it)
        busy = None
        deadline = time.monotonic() + 20
        while busy is None and time.monotonic() < deadline:
            r = httpx.get(f"{server.base}/api/v1/me", timeout=10)
            busy = r if r.status_code == 503 else None
            time.sleep(0.05)
        assert busy is not None, server.output()
        assert busy.headers["Retry-After"] == "2"
        detail = busy.json()["detail"]
        assert detail["code"] == "serveur_occupe"
        assert "très sollicité" in detail["message"] and "Réessayez" in detail["message"]
        release.set()
        holder.join(timeout=30)
        assert httpx.get(f"{server.base}/api/v1/me", timeout=10).status_code == 401  # served again
    finally:
        release.set()
        server.stop()
