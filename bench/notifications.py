"""Benchmark of the cron pass: the same number of dossiers due among 10 000, 100 000 and 1 000 000.

Each size gets its own SQLite file, filled in bulk with SQL: a territory, twenty past campaigns holding
the mass of the dossiers (closed, conventioned with old bilans, never deposited: every state and
indexed date the pass looks at, outside today's windows), last year's campaign with bilans due in two
weeks, this year's campaign closing in seven days with its drafts, compléments due in three days and
dossiers deposited six days ago waiting for an instructeur. The pass should take about the same time
whatever the number of dossiers: it asks the database by indexed dates, never dossier by dossier.

Delivery goes to a real SMTP server (aiosmtpd) on 127.0.0.1; it is timed apart (it depends only on the
number of messages).
"""

from __future__ import annotations

import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from aap.db import make_engine
from aap.migrate import upgrade
from aap.models import Campaign, Dossier, Financeur, Membership, Notification, Organisation, Territory, User
from aap.settings import Settings
from notifications.cron import run_pass
from notifications.delivery import deliver

SIZES = (10_000, 100_000, 1_000_000)
DUE = {"brouillon": 300, "conventionne": 200, "complements_demandes": 100, "depose": 100}
ORGANISATIONS = 1000
OLD_CAMPAIGNS = 20


@dataclass
class Row:
    dossiers: int
    due: int
    fill_s: float
    record_s: float
    recorded: int
    deliver_s: float
    sent: int
    repeat_s: float


def _campaign(territory_id: int, year: int, cloture: date, extra: dict[str, date]) -> Campaign:
    dates = {
        "lancement": cloture - timedelta(days=60),
        "depot_ouverture": cloture - timedelta(days=50),
        "depot_cloture": cloture,
        "comite_technique": cloture + timedelta(days=40),
        "validation": cloture + timedelta(days=70),
        "bilan_limite": date(year + 1, 6, 30),
        **extra,
    }
    return Campaign(
        territory_id=territory_id,
        code=f"bench-{year}",
        kind="fonctionnement",
        year=year,
        title=f"Appel à projets {year}",
        calendar="annuel",
        dates={k: v.isoformat() for k, v in dates.items()},
        depot_ouverture=dates["depot_ouverture"],
        depot_cloture=cloture,
        form_code="guichet_unique",
        form_version=1,
    )


def fill(engine: Engine, n: int, today: date) -> None:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as s:
        territory = Territory(code="bench", name="Territoire de mesure")
        s.add(territory)
        s.flush()
        s.add_all(Financeur(territory_id=territory.id, code=c, name=c, kind="etat") for c in ("ETAT", "EPCI"))
        current = _campaign(territory.id, today.year + 1, today + timedelta(days=7), {})
        previous = _campaign(
            territory.id,
            today.year,
            today - timedelta(days=358),
            {"bilan_limite": today + timedelta(days=14)},
        )
        old = [
            _campaign(territory.id, today.year - k, today - timedelta(days=365 * k + 7), {})
            for k in range(1, OLD_CAMPAIGNS + 1)
        ]
        s.add_all([current, previous, *old])
        orgs = [
            Organisation(territory_id=territory.id, name=f"Association {i}") for i in range(ORGANISATIONS)
        ]
        s.add_all(orgs)
        s.flush()
        users = [
            User(email=f"porteur{i}@bench.test", password_hash="x", full_name=f"Porteur {i}", role="porteur")
            for i in range(ORGANISATIONS)
        ]
        users += [
            User(
                email=f"instructeur{i}@bench.test",
                password_hash="x",
                role="instructeur",
                territory_id=territory.id,
            )
            for i in range(3)
        ]
        s.add_all(users)
        s.flush()
        s.add_all(Membership(user_id=u.id, organisation_id=o.id) for u, o in zip(users, orgs, strict=False))
        s.commit()
        first_org, old_ids = orgs[0].id, [c.id for c in old]
        current_id, previous_id = current.id, previous.id

    bulk = n - sum(DUE.values())
    now_s = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    long_ago = (today - timedelta(days=3 * 365)).isoformat()
    with engine.begin() as conn:
        # the mass: 70 % clôturés, 20 % conventionnés with a bilan long overdue, 10 % non déposés
        conn.execute(
            text(f"""
            WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :bulk)
            INSERT INTO dossiers (number, campaign_id, organisation_id, state, version, form_code, form_version,
                                  answers, title, created_at, updated_at, deposited_at, bilan_due)
            SELECT 'M-' || i, {old_ids[0]} + (i % {len(old_ids)}), {first_org} + (i % {ORGANISATIONS}),
                   CASE WHEN i % 10 < 7 THEN 'cloture' WHEN i % 10 < 9 THEN 'conventionne' ELSE 'non_depose' END,
                   1, 'guichet_unique', 1, '{{}}', 'Action ' || i, :now, :now,
                   CASE WHEN i % 10 < 9 THEN datetime(:long_ago, '-' || (i % 900) || ' days') END,
                   CASE WHEN i % 10 BETWEEN 7 AND 8 THEN date(:long_ago, '-' || (i % 900) || ' days') END
            FROM seq
        """),
            {"bulk": bulk, "now": now_s, "long_ago": long_ago},
        )
        due_rows = [
            ("brouillon", current_id, None, None, None),
            ("conventionne", previous_id, None, (today + timedelta(days=14)).isoformat(), None),
            ("complements_demandes", current_id, None, None, (today + timedelta(days=3)).isoformat()),
            (
                "depose",
                current_id,
                (datetime.now(UTC) - timedelta(days=6)).strftime("%Y-%m-%d %H:%M:%S"),
                None,
                None,
            ),
        ]
        for state, campaign_id, deposited, bilan_due, complements_due in due_rows:
            conn.execute(
                text(f"""
                WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :count)
                INSERT INTO dossiers (number, campaign_id, organisation_id, state, version, form_code, form_version,
                                      answers, title, created_at, updated_at, deposited_at, bilan_due,
                                      complements_due, complements_message)
                SELECT :state || '-' || i, :campaign, {first_org} + (i % {ORGANISATIONS}), :state, 1,
                       'guichet_unique', 1, '{{}}', 'Action due ' || i, :now, :now, :deposited, :bilan, :complements,
                       CASE WHEN :complements IS NOT NULL THEN 'Joindre le budget signé.' END
                FROM seq
            """),
                {
                    "count": DUE[state],
                    "state": state,
                    "campaign": campaign_id,
                    "now": now_s,
                    "deposited": deposited,
                    "bilan": bilan_due,
                    "complements": complements_due,
                },
            )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, _server: object, _session: object, _envelope: object) -> str:
        self.count += 1
        return "250 OK"


def measure(n: int, workdir: Path, smtp_url: str) -> Row:
    today = date.today()
    now = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
    engine = make_engine(f"sqlite:///{workdir / f'bench-{n}.sqlite3'}")
    upgrade(engine)
    t0 = time.perf_counter()
    fill(engine, n, today)
    fill_s = time.perf_counter() - t0
    settings = Settings(data_dir=workdir, smtp_url=smtp_url, base_url="https://aap.example.test")
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with Session(engine) as s:
        total = s.scalar(select(func.count()).select_from(Dossier)) or 0

    t0 = time.perf_counter()
    run_pass(engine, settings, now, deliver_messages=False)
    record_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = deliver(factory, settings, now)
    deliver_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = run_pass(engine, settings, now + timedelta(minutes=10))
    repeat_s = time.perf_counter() - t0
    assert again.recorded_total == 0 and again.delivery.sent == 0, "a repeated pass must do nothing"
    with Session(engine) as s:
        recorded = s.scalar(select(func.count()).select_from(Notification)) or 0
    engine.dispose()
    return Row(total, sum(DUE.values()), fill_s, record_s, recorded, deliver_s, report.sent, repeat_s)


def main(argv: list[str] | None = None) -> None:
    from aiosmtpd.controller import Controller

    args = argv if argv is not None else sys.argv[1:]
    sizes = tuple(int(a.replace("_", "")) for a in args) or SIZES
    from notifications.preview import preview
    from notifications.rules import default_rules

    for rule in default_rules().rules:  # warm up: templates compiled once, before the clock runs
        preview(rule.code)
    sink = _Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="aap-bench-") as tmp:
            for n in sizes:
                print(f"… {n:>9,} dossiers".replace(",", " "), file=sys.stderr, flush=True)
                rows.append(measure(n, Path(tmp), f"smtp://127.0.0.1:{port}"))
                (Path(tmp) / f"bench-{n}.sqlite3").unlink(missing_ok=True)
    finally:
        controller.stop()
    print(
        "\nPasse cron `aap notifications run` (SQLite, fichier) : même nombre de dossiers dus, base croissante"
    )
    header = (
        f"{'dossiers':>10} | {'dus':>5} | {'remplissage':>11} | {'passe (calcul + enregistrement)':>31} | "
        f"{'messages':>8} | {'envoi SMTP':>10} | {'envoyés':>7} | {'passe répétée':>13}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.dossiers:>10,} | {r.due:>5} | {r.fill_s:>10.1f}s | {r.record_s:>30.3f}s | {r.recorded:>8} | "
            f"{r.deliver_s:>9.2f}s | {r.sent:>7} | {r.repeat_s:>12.3f}s".replace(",", " ")
        )
