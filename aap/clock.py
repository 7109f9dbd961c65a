"""The one place the app reads the clock (the pure core never does: time is passed in).

Deadlines are days of the territory's calendar: « dépôt jusqu'au 31 janvier » means until midnight in
France, so the app's clock runs in `AAP_TIMEZONE` (Europe/Paris by default); the database stores UTC.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from aap.settings import get_settings


def now() -> datetime:
    return datetime.now(ZoneInfo(get_settings().timezone))


def today() -> date:
    return now().date()
