"""A real `aap serve` in a subprocess of the test, on a free port (the only process a test kills)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

AAP = Path(sys.executable).with_name("aap")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`aap serve` in a subprocess of this test (the only process it ever kills)."""

    def __init__(self, db_url: str, data_dir: Path, workdir: Path, *args: str):
        self.args = args
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = {
            **os.environ,
            "AAP_DATABASE_URL": db_url,
            "AAP_DATA_DIR": str(data_dir),
            "AAP_BASE_URL": self.base,
            "AAP_SECRET_KEY": "crash-test-" + "k" * 40,
            "AAP_THREADS": "8",
        }
        self.env.pop("AAP_SMTP_URL", None)
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> str:
        self.starts += 1
        log = (self.workdir / f"serve-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [str(AAP), "serve", "--workers", "1", "--port", str(self.port), *self.args],
            cwd=self.workdir,  # no .env of the worktree
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(self.output())
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    return self.output()
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("le serveur n'a pas démarré : " + self.output())

    def output(self) -> str:
        return (self.workdir / f"serve-{self.starts}.log").read_text(errors="replace")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
