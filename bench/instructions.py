"""`python -m bench instructions [N] [--postgres]`: what one read, one autosave and one transition cost in
processor instructions, counted by valgrind's callgrind: deterministic where wall-clock times are not (a
shared machine's timings vary by 1.7× from one minute to the next; an instruction count by less than 1 %).

Python and SQLite run in one process on a campaign of N dossiers (2 500); each kind runs 10 then 60 times
in a fresh process under callgrind, and the difference divided by 50 is the cost of one operation, free of
the imports and the set-up. `raw` is the transition's writes in SQL through SQLAlchemy Core (the
bench's « SQL brut »): the service / raw ratio here is the one `make bench` measures in time, without the
noise. With `--postgres` (under `scripts/with-postgres`, which names the server in
`AAP_TEST_POSTGRES_URL`), the same on a throwaway PostgreSQL database: what callgrind counts is then the
client's side (Python, SQLAlchemy, psycopg), PostgreSQL's own work runs in its processes. Needs
`valgrind` (Debian: `apt-get install valgrind`); the figures go under `var/bench/`.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.scale import INSTRUCTEUR, OUT_DIR, prepare, raw_instruction

KINDS = ("read", "autosave", "transition", "raw")
FEW, MANY = 10, 60
PORTEUR = "porteur@demo.aap.test"


def build(url: str, data_dir: Path, dossiers: int) -> None:
    """The database every run starts from: the demo and a campaign of `dossiers`."""
    from aap.demo.volume import generate

    engine = prepare(url, data_dir)
    generate(engine, dossiers, 4)
    engine.dispose()


def _url(target: str) -> str:
    """A database URL, or the path of a SQLite file."""
    return target if "://" in target else f"sqlite:///{target}"


def operate(target: str, kind: str, count: int) -> None:
    """`count` operations of `kind` on the database `target` (the process callgrind counts)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from aap.db import make_engine
    from aap.dossiers import service
    from aap.models import Dossier, User
    from aap.wiring import wire

    wire()  # the transition effects, as the app runs them
    engine = make_engine(_url(target))
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as session:
        staff = session.scalar(select(User).where(User.email == INSTRUCTEUR))
        porteur = session.scalar(select(User).where(User.email == PORTEUR))
        deposited = list(
            session.scalars(
                select(Dossier.id).where(Dossier.state == "depose").order_by(Dossier.id).limit(count)
            )
        )
        assert staff is not None and porteur is not None
        drafts = [
            d for d in service.list_dossiers(session, porteur, state="brouillon")[0] if d.cofinancements
        ]
    assert drafts, "la démo donne au porteur un brouillon avec ses financements"
    if kind in ("transition", "raw") and len(deposited) < count:
        raise SystemExit(f"{len(deposited)} dossiers déposés, il en faut {count} : générez-en plus.")
    draft, version = drafts[0].id, drafts[0].version
    for i in range(count):
        # one session per operation, as one per request in the app
        with Session(engine, expire_on_commit=False) as session:
            if kind == "read":
                service.get_dossier(session, staff, deposited[i % len(deposited)])
                session.rollback()
            elif kind == "autosave":
                saved = service.update_answers(
                    session, porteur, draft, {"action": {"lieux": f"Salle {i}"}}, version, now
                )
                version = saved.version
            elif kind == "transition":
                service.fire_transition(session, staff, deposited[i], "prendre_en_instruction", {}, now)
        if kind == "raw":  # the same writes as `bench.scale.transitions_per_second`'s raw side
            with engine.connect() as conn, conn.begin():
                raw_instruction(conn, deposited[i], staff, now)
    engine.dispose()


def _counted(base: str, kind: str, count: int, tmp: Path) -> int:
    """Instructions of a whole process doing `count` operations: on a copy of a SQLite base, on the
    PostgreSQL base itself (a read writes nothing, an autosave saves the draft it finds, a transition
    moves dossiers still deposited: `main` makes enough of them)."""
    target, out = base, tmp / f"{kind}-{count}.callgrind"
    if "://" not in base:
        target = str(tmp / f"{kind}-{count}.sqlite3")
        shutil.copyfile(base, target)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-m", "bench.instructions",
         "--operate", target, kind, str(count)],
        check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    found = re.search(r"^summary:\s+(\d+)", out.read_text(), re.MULTILINE)
    assert found, f"callgrind n'a rien compté ({out})"
    return int(found.group(1))


def _enough_deposited(dossiers: int) -> int:
    """On PostgreSQL the runs share one base, and the two transition kinds each move FEW + MANY of its
    deposited dossiers: a campaign large enough that the generator's share of them (`STATE_MIX`) covers
    both, a fifth to spare."""
    from aap.demo.volume import STATE_MIX

    weights = dict(STATE_MIX)
    share = weights["depose"] / sum(weights.values())
    return max(dossiers, math.ceil(1.2 * 2 * (FEW + MANY) / share))


def main(argv: list[str]) -> dict[str, Any]:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind est introuvable (Debian : apt-get install valgrind).")
    postgres = "--postgres" in argv
    sizes = [a for a in argv if a != "--postgres"]
    dossiers = int(sizes[0].replace("_", "")) if sizes else 2_500
    if postgres and not os.environ.get("AAP_TEST_POSTGRES_URL"):
        raise SystemExit("--postgres : lancez sous scripts/with-postgres (AAP_TEST_POSTGRES_URL).")
    dossiers = _enough_deposited(dossiers) if postgres else dossiers
    backend = "postgresql" if postgres else "sqlite"
    costs: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="aap-bench-instructions-") as name:
        tmp = Path(name)
        base = os.environ["AAP_TEST_POSTGRES_URL"] if postgres else str(tmp / "base.sqlite3")
        print(f"… base {backend} : démo et {dossiers} dossiers", file=sys.stderr, flush=True)
        build(_url(base), tmp / "data", dossiers)
        for kind in KINDS:
            print(f"… {kind} : {FEW} puis {MANY} sous callgrind", file=sys.stderr, flush=True)
            costs[kind] = (_counted(base, kind, MANY, tmp) - _counted(base, kind, FEW, tmp)) / (MANY - FEW)
    result = {
        "backend": backend,
        "dossiers": dossiers,
        "instructions_per_operation": costs,
        "transition_ratio": costs["raw"] / costs["transition"],
    }
    side = "le client : Python, SQLAlchemy, psycopg" if postgres else "Python et SQLite"
    print(f"\nInstructions par opération (callgrind, {backend}, {side}, {dossiers} dossiers)")
    for kind in KINDS:
        print(f"  {kind:<12} {costs[kind] / 1e6:>7.2f} M")
    print(
        f"  service / brut : {result['transition_ratio']:.2f}× (plus c'est haut, mieux c'est ; objectif ≥ 0,5)"
    )
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"instructions-{backend}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"Figures : {path}")
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--operate"]:
        operate(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main(sys.argv[1:])
