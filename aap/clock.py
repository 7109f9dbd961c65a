"""The one place the app reads the clock (the pure core never does: time is passed in), and the one place
a moment becomes a day of a territory's calendar.

Deadlines are days of the territory's calendar: « dépôt jusqu'au 31 janvier » means until midnight where
the contract is, in Cayenne as in Manosque. The app's clock runs in `AAP_TIMEZONE` (Europe/Paris by
default; the database stores UTC); a service that judges a deadline of a campaign first puts the moment
on the clock of its territory (`Territory.fuseau`, read with the campaign as `Campaign.fuseau`) with
`territory_now`, and the rules then take `.date()` of it. A pass over every contract (the cron's) takes
the days it is in their zones with `contract_days`, and a list filtered in SQL compares its dates with
them through `before_contract_day`.
"""

from collections import defaultdict
from datetime import date, datetime
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from aap.models import Campaign, Territory
from aap.settings import get_settings


class Zoned(Protocol):
    """Anything dated in a territory's zone: a campaign (`Campaign.fuseau`), a territory."""

    fuseau: str


def now() -> datetime:
    return datetime.now(zone(get_settings().timezone))


def today() -> date:
    return now().date()


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def in_zone(name: str, moment: datetime) -> datetime:
    """`moment` on the clock of the IANA zone `name` (same instant). A naive moment (a test's) is taken as
    already on that clock."""
    return moment.astimezone(zone(name)) if moment.tzinfo is not None else moment


def territory_now(of: Zoned, moment: datetime) -> datetime:
    """`moment` on the clock of the territory of `of`."""
    return in_zone(of.fuseau, moment)


def territory_today(of: Zoned, moment: datetime) -> date:
    """The day it is at `moment` in the territory of `of`: the day its deadlines are judged on."""
    return in_zone(of.fuseau, moment).date()


def contract_days(session: Session, now: datetime) -> dict[date, frozenset[str]]:
    """The days it is at `now` in the zones of the contracts the instance serves, each with the zones where
    it is that day, earliest first (the day of `now` itself when no contract is loaded): what a pass over
    every contract judges its deadlines on. At 07:00 in Paris it is the same day in Manosque, Cayenne and
    Saint-Denis de La Réunion, and still the day before in Papeete."""
    by_day: dict[date, set[str]] = defaultdict(set)
    for name in session.scalars(select(Territory.fuseau).distinct()):
        by_day[in_zone(name, now).date()].add(name)
    return {day: frozenset(names) for day, names in sorted(by_day.items())} or {now.date(): frozenset()}


def before_contract_day(
    day: InstrumentedAttribute[date | None],
    campaign_id: InstrumentedAttribute[int],
    days: dict[date, frozenset[str]],
) -> ColumnElement[bool]:
    """SQL: the day `day` is past in the territory of the campaign `campaign_id`, given the `days` of
    `contract_days` (late from the day after, where the contract is). With one day everywhere (the usual
    case) a plain comparison; otherwise one per group of zones."""
    if len(days) == 1:
        return day < next(iter(days))
    return or_(
        *(
            and_(
                day < today,
                campaign_id.in_(
                    select(Campaign.id)
                    .join(Territory, Territory.id == Campaign.territory_id)
                    .where(Territory.fuseau.in_(sorted(zones)))
                ),
            )
            for today, zones in days.items()
        )
    )
