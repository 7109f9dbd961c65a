"""What `python -m bench instructions` runs under callgrind does the operations it counts, on SQLite and
on PostgreSQL (valgrind itself is not needed here: the counted process is run as it is)."""

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from aap.demo.volume import generate
from aap.models import Dossier, DossierEvent, User
from bench.instructions import KINDS, PORTEUR, operate


def _state(engine: Engine) -> tuple[dict[str, int], int, int]:
    with Session(engine) as s:
        states = {
            state: n for state, n in s.execute(select(Dossier.state, func.count()).group_by(Dossier.state))
        }
        events = s.scalar(select(func.count()).select_from(DossierEvent)) or 0
        versions = s.scalar(select(func.sum(Dossier.version))) or 0
    return states, events, versions


def test_each_counted_kind_does_what_it_names(db_engine: Engine, demo: date) -> None:
    """On SQLite the counted process gets a file's path, on PostgreSQL (`--postgres`) the URL."""
    generate(db_engine, 120, 4, today=demo)
    assert set(KINDS) == {"read", "autosave", "transition", "raw"}
    if db_engine.dialect.name == "sqlite":
        target = str(Path(str(db_engine.url.database)))
    else:
        target = db_engine.url.render_as_string(hide_password=False)
    db_engine.dispose()

    before = _state(db_engine)
    operate(target, "read", 3)
    assert _state(db_engine) == before  # a read writes nothing

    operate(target, "autosave", 3)
    states, events, versions = _state(db_engine)
    assert (states, events) == before[:2] and versions == before[2] + 3  # one draft saved three times
    with Session(db_engine) as s:
        saved = s.scalar(select(Dossier).where(Dossier.answers["action"]["lieux"].as_string() == "Salle 2"))
        assert saved is not None and saved.state == "brouillon"
        porteur = s.scalar(select(User).where(User.email == PORTEUR))
        assert porteur is not None and saved.organisation in porteur.organisations  # the porteur's draft

    for kind in ("transition", "raw"):  # the service and the raw writes: the same three moves each
        start = _state(db_engine)
        operate(target, kind, 3)
        states, events, _versions = _state(db_engine)
        assert states["depose"] == start[0]["depose"] - 3
        assert states["en_instruction"] == start[0]["en_instruction"] + 3
        assert events == start[1] + 3
