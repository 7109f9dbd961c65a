"""Campaign calendars: the phase a campaign is in follows from its dates alone, and bad dates are named."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from workflows.calendar import CalendarError, CalendarNotFound, calendar_codes, load_calendar, parse_calendar

DATES = {
    "focus_beneficiaires": date(2024, 10, 10),
    "lancement": date(2024, 11, 15),
    "depot_ouverture": date(2024, 12, 1),
    "depot_cloture": date(2025, 1, 31),
    "comite_technique": date(2025, 2, 20),
    "validation": date(2025, 3, 20),
    "conventionnement": date(2025, 5, 31),
    "realisation_fin": date(2025, 12, 31),
    "bilan_limite": date(2026, 6, 30),
}
REQUIRED_ONLY = {k: v for k, v in DATES.items() if k in load_calendar("annuel").required_dates}
ONE_DAY = timedelta(days=1)


def test_several_calendar_types_coexist() -> None:
    assert {"annuel", "investissement"} <= set(calendar_codes())
    annuel, invest = load_calendar("annuel"), load_calendar("investissement")
    assert [p.code for p in annuel.phases] == [
        "preparation",
        "lancement",
        "depot",
        "instruction",
        "comite_technique",
        "validation",
        "conventionnement",
        "realisation",
        "bilans",
        "terminee",
    ]
    assert len(invest.phases) < len(annuel.phases)
    assert annuel.required_dates == (
        "lancement",
        "depot_ouverture",
        "depot_cloture",
        "comite_technique",
        "validation",
        "bilan_limite",
    )
    assert set(annuel.optional_dates) == {
        "focus_beneficiaires",
        "instruction_fin",
        "conventionnement",
        "realisation_fin",
    }
    assert load_calendar("annuel") is annuel  # cached


@pytest.mark.parametrize("code", ["inconnu", "../annuel", ""])
def test_unknown_calendar(code: str) -> None:
    with pytest.raises(CalendarNotFound):
        load_calendar(code)
    with pytest.raises(KeyError):
        load_calendar(code)


@pytest.mark.parametrize(
    ("today", "phase"),
    [
        (date(2024, 10, 10), "preparation"),
        (DATES["lancement"] - ONE_DAY, "preparation"),
        (DATES["lancement"], "lancement"),
        (DATES["depot_ouverture"] - ONE_DAY, "lancement"),
        (DATES["depot_ouverture"], "depot"),
        (DATES["depot_cloture"], "depot"),
        (DATES["depot_cloture"] + ONE_DAY, "instruction"),
        (DATES["comite_technique"] - ONE_DAY, "instruction"),
        (DATES["comite_technique"], "comite_technique"),
        (DATES["validation"] - ONE_DAY, "comite_technique"),
        (DATES["validation"], "validation"),
        (DATES["validation"] + ONE_DAY, "conventionnement"),
        (DATES["conventionnement"], "conventionnement"),
        (DATES["conventionnement"] + ONE_DAY, "realisation"),
        (DATES["realisation_fin"], "realisation"),
        (DATES["realisation_fin"] + ONE_DAY, "bilans"),
        (DATES["bilan_limite"], "bilans"),
        (DATES["bilan_limite"] + ONE_DAY, "terminee"),
    ],
)
def test_phase_on_each_boundary(today: date, phase: str) -> None:
    assert load_calendar("annuel").phase_on(DATES, today).code == phase


def test_optional_dates_fall_back_to_the_calendar_defaults() -> None:
    cal = load_calendar("annuel")
    assert cal.phase_on(REQUIRED_ONLY, date(2025, 4, 19)).code == "conventionnement"
    assert cal.phase_on(REQUIRED_ONLY, date(2025, 4, 20)).code == "realisation"  # validation + 31
    assert cal.phase_on(REQUIRED_ONLY, date(2025, 12, 31)).code == "realisation"
    assert cal.phase_on(REQUIRED_ONLY, date(2026, 1, 1)).code == "bilans"  # six months before bilan_limite


def test_phase_never_goes_backwards_even_with_disordered_dates() -> None:
    cal = load_calendar("annuel")
    muddled = {**DATES, "comite_technique": date(2025, 1, 10)}  # before depot_cloture
    seen = [cal.phase_on(muddled, DATES["lancement"] + timedelta(days=i)).code for i in range(700)]
    order = [p.code for p in cal.phases]
    assert [order.index(c) for c in seen] == sorted(order.index(c) for c in seen)


def test_timeline_for_a_page() -> None:
    rows = load_calendar("annuel").timeline(DATES, date(2025, 2, 1))
    assert [r["status"] for r in rows[:5]] == ["passee", "passee", "passee", "en_cours", "a_venir"]
    assert rows[0]["start"] is None and rows[-1]["end"] is None
    assert rows[3] == {
        "code": "instruction",
        "label": "Instruction",
        "starts_at": "depot_cloture",
        "start": date(2025, 2, 1),
        "end": date(2025, 2, 19),
        "status": "en_cours",
    }
    for prev, nxt in zip(rows, rows[1:], strict=False):
        assert prev["end"] + ONE_DAY == nxt["start"]


def test_valid_dates_give_no_reason() -> None:
    assert load_calendar("annuel").validate_dates(DATES) == []
    assert load_calendar("annuel").validate_dates(REQUIRED_ONLY) == []


def test_validate_dates_names_every_problem() -> None:
    dates = {
        **DATES,
        "depot_cloture": date(2024, 11, 30),
        "jury": date(2025, 1, 1),
        "instruction_fin": "demain",
    }
    del dates["validation"]
    reasons = load_calendar("annuel").validate_dates(dates)
    assert {(r.code, r.field) for r in reasons} == {
        ("unknown_date", "jury"),
        ("date_invalid", "instruction_fin"),
        ("date_required", "validation"),
        ("date_order", "depot_cloture"),
    }
    order = next(r for r in reasons if r.code == "date_order")
    assert "Clôture du dépôt" in order.message and "Ouverture du dépôt" in order.message
    assert "30/11/2024" in order.message


def test_investissement_calendar() -> None:
    cal = load_calendar("investissement")
    assert cal.phase_on(REQUIRED_ONLY, DATES["lancement"]).code == "preparation"
    assert cal.phase_on(REQUIRED_ONLY, DATES["comite_technique"]).code == "programmation"
    assert cal.phase_on(REQUIRED_ONLY, DATES["validation"] + ONE_DAY).code == "realisation"
    assert cal.validate_dates({"lancement": date(2025, 1, 1)})  # missing required dates


def test_a_broken_calendar_file_is_refused_with_its_location() -> None:
    with pytest.raises(CalendarError, match=r"phases\[1\]"):
        parse_calendar(
            {
                "code": "x",
                "label": "X",
                "dates": {"a": {"required": True}},
                "phases": [
                    {"code": "p0", "label": "P0"},
                    {"code": "p1", "label": "P1", "starts_at": ["b + 1"]},
                ],
            }
        )
    cal = parse_calendar(
        {
            "code": "x",
            "label": "X",
            "dates": {"a": {"required": True}},
            "phases": [{"code": "p0", "label": "P0"}, {"code": "p1", "label": "P1", "starts_at": ["a - 2"]}],
        }
    )
    assert cal.phase_on({"a": date(2025, 1, 10)}, date(2025, 1, 8)).code == "p1"
