"""Checks a file deserves: a campaign outside the contract's period; one error per numbering mistake."""

import copy
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from aap.campaigns.service import save_campaign
from aap.rules_files import RulesFileError, parse_campaign, parse_territory
from aap.territories.service import save_territory
from tests.territories.helpers import METROPOLE, metro_campaign_data


def test_a_campaign_year_outside_the_contracts_period_is_refused(db_engine: Engine) -> None:
    with Session(db_engine) as session:
        save_territory(session, parse_territory(METROPOLE, "metro"))  # 2024-2030
        data = metro_campaign_data(date(2031, 1, 10))
        data["year"] = 2031
        with pytest.raises(RulesFileError) as refused:
            save_campaign(session, parse_campaign(data, "metro-2031"), source="metro-2031")
        (error,) = refused.value.errors
        assert (error.path, error.code) == ("year", "annee_hors_contrat")
        assert "2031" in error.message and "2024-2030" in error.message


def _tree(orientations: list[dict]) -> list:  # type: ignore[type-arg]
    data = copy.deepcopy(METROPOLE)
    data["orientations"] = orientations
    with pytest.raises(RulesFileError) as refused:
        parse_territory(data, "metro")
    return refused.value.errors


def test_a_duplicated_branch_is_one_error_not_one_per_line() -> None:
    branch = {
        "code": "1",
        "label": "Cohésion",
        "children": [{"code": "1.1", "label": "a"}, {"code": "1.2", "label": "b"}],
    }
    (error,) = _tree([branch, copy.deepcopy(branch)])
    assert (error.path, error.code) == ("orientations[1].code", "duplicate_code")


def test_children_numbered_under_another_parent_are_one_error_on_the_parent() -> None:
    children = [{"code": f"2.{i}", "label": f"objectif {i}"} for i in (1, 2, 3)]
    (error,) = _tree([{"code": "1", "label": "Cohésion", "children": children}])
    assert (error.path, error.code) == ("orientations[0].code", "orientation_code_prefix")
    assert "2.1, 2.2, 2.3" in error.message and "« 2. »" in error.message
    mixed = [{"code": "1.1", "label": "a"}, {"code": "3.2", "label": "b"}]
    (one,) = _tree([{"code": "1", "label": "Cohésion", "children": mixed}])
    assert one.path == "orientations[0].children[1].code"
