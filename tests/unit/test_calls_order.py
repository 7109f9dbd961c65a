"""A call opening next year is never listed before the calls open now."""

from datetime import date
from types import SimpleNamespace

from aap.web.porteur_views import calls_to_show


def card(cid: int, opens: date, closes: date, today: date) -> dict[str, object]:
    campaign = SimpleNamespace(id=cid, depot_ouverture=opens, depot_cloture=closes)
    return {"campaign": campaign, "open": opens <= today <= closes, "upcoming": today < opens}


def test_open_calls_come_first_closing_soonest_then_the_ones_opening_later() -> None:
    today = date(2026, 12, 2)
    # as the campaigns list gives them: newest year first
    cards = [
        card(3, date(2027, 1, 5), date(2027, 2, 28), today),  # next year's call, not open yet
        card(2, date(2026, 11, 1), date(2027, 1, 15), today),  # open, closes later
        card(1, date(2026, 11, 15), date(2026, 12, 20), today),  # open, closes first
        card(0, date(2025, 11, 1), date(2026, 1, 15), today),  # closed: not shown
    ]
    assert [c["campaign"].id for c in calls_to_show(cards)] == [1, 2, 3]
