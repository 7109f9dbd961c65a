"""`aap notifications run --now …` as cron runs it: a subprocess, a SQLite file, a real SMTP server."""

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from aap.db import make_engine
from aap.demo.loader import load_demo
from aap.migrate import upgrade
from aap.models import Campaign
from tests.notifications.conftest import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
AAP = [sys.executable, "-m", "aap.cli"]


def test_cli_run_with_now_delivers_then_does_nothing_more(tmp_path: Path, smtp: SmtpServer) -> None:
    url = f"sqlite:///{tmp_path / 'aap.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    today = date.today()
    load_demo(engine, today=today, password="demo", data_dir=tmp_path)
    with engine.connect() as conn:
        cloture = conn.scalar(select(Campaign.depot_cloture).order_by(Campaign.year.desc()))
    engine.dispose()
    env = {
        **os.environ,
        "AAP_DATABASE_URL": url,
        "AAP_SMTP_URL": smtp.url,
        "AAP_DATA_DIR": str(tmp_path),
        "AAP_BASE_URL": "https://aap.example.test",
    }
    now = (cloture - timedelta(days=7)).isoformat()

    first = subprocess.run(
        [*AAP, "notifications", "run", "--now", now],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    reminders = smtp.inbox.by_rule("brouillon_avant_cloture")
    # the draft reminders, and the messages the demo's dépôts of last week left waiting
    assert reminders and f"{len(smtp.inbox.messages)} message(s) envoyé(s)" in first.stdout
    assert "rappel(s) enregistré(s)" in first.stdout
    assert all("https://aap.example.test/dossiers/" in smtp.inbox.text(m) for m in reminders)

    second = subprocess.run(
        [*AAP, "notifications", "run", "--now", now],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 0, second.stderr
    assert "0 rappel(s) enregistré(s)" in second.stdout and "0 message(s) envoyé(s)" in second.stdout
    assert len(smtp.inbox.by_rule("brouillon_avant_cloture")) == len(reminders)


def test_cli_refuses_a_malformed_now(tmp_path: Path) -> None:
    env = {**os.environ, "AAP_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    result = subprocess.run(
        [*AAP, "notifications", "run", "--now", "demain"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "--now invalide" in result.stderr


def test_cli_preview_renders_a_rule_with_demo_data() -> None:
    result = subprocess.run(
        [*AAP, "notifications", "preview", "brouillon_avant_cloture"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.startswith("Objet : ")
        and "NON DÉPOSÉ" in result.stdout
        and "/dossiers/" in result.stdout
    )
    unknown = subprocess.run(
        [*AAP, "notifications", "preview", "nimporte"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert unknown.returncode == 1 and "inconnue" in unknown.stderr
