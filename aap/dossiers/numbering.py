"""Dossier numbers per territory and year (`2027-00001`): one atomic upsert of the territory's counter,
so two dépôts at once never get the same number and no territory learns another's count."""

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from aap.models import DossierCounter


def next_dossier_number(session: Session, territory_id: int, year: int) -> str:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(DossierCounter)
        .values(territory_id=territory_id, year=year, last=1)
        .on_conflict_do_update(
            index_elements=[DossierCounter.territory_id, DossierCounter.year],
            set_={"last": DossierCounter.last + 1},
        )
        .returning(DossierCounter.last)
    )
    last = session.scalar(statement)
    assert last is not None
    return f"{year}-{last:05d}"


def skip_dossier_numbers(session: Session, territory_id: int, year: int, last: int) -> None:
    """The counter moves to `last` at least (dossiers written in bulk, numbered by the caller)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(DossierCounter)
        .values(territory_id=territory_id, year=year, last=last)
        .on_conflict_do_update(
            index_elements=[DossierCounter.territory_id, DossierCounter.year],
            set_={
                "last": func.max(DossierCounter.last, last)
                if session.get_bind().dialect.name == "sqlite"
                else func.greatest(DossierCounter.last, last)
            },
        )
    )
