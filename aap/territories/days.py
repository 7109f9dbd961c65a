"""The days it is, at one moment, in the zones of the contracts the instance serves (`Territory.fuseau`):
what a pass over every contract judges its deadlines on. At 07:00 in Paris it is the same day in Manosque,
Cayenne and Saint-Denis de La Réunion, and still the day before in Papeete."""

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.clock import in_zone
from aap.models import Territory


def contract_days(session: Session, now: datetime) -> dict[date, frozenset[str]]:
    """Each day it is somewhere at `now`, with the zones where it is that day, earliest first (the day
    of `now` itself when no contract is loaded)."""
    by_day: dict[date, set[str]] = defaultdict(set)
    for name in session.scalars(select(Territory.fuseau).distinct()):
        by_day[in_zone(name, now).date()].add(name)
    return {day: frozenset(names) for day, names in sorted(by_day.items())} or {now.date(): frozenset()}
