"""`aap bench generate` as an operator runs it: on the configured database, refusing what it cannot do."""

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from aap.cli import app
from aap.models import Campaign, Dossier
from tests.settings_env import settings_from_env


@pytest.fixture
def configured(db_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The CLI's settings point at the test database."""
    with settings_from_env(
        monkeypatch,
        AAP_DATABASE_URL=db_engine.url.render_as_string(hide_password=False),
        AAP_DATA_DIR=str(tmp_path),
    ):
        yield


def test_generate_refuses_a_database_without_the_demo(configured: None) -> None:
    result = CliRunner().invoke(app, ["bench", "generate", "--dossiers", "10"])
    assert result.exit_code == 1
    assert "aap demo" in result.output


def test_generate_adds_a_campaign_of_n_dossiers(configured: None, demo: date, db_engine: Engine) -> None:
    result = CliRunner().invoke(app, ["bench", "generate", "--dossiers", "25", "--financeurs", "3"])
    assert result.exit_code == 0, result.output
    assert "25 dossiers, 3 financeurs" in result.output
    with Session(db_engine) as s:
        campaign = s.scalar(select(Campaign).order_by(Campaign.id.desc()))
        assert campaign is not None and campaign.code in result.output
        assert (
            s.scalar(select(func.count()).select_from(Dossier).where(Dossier.campaign_id == campaign.id))
            == 25
        )
    refused = CliRunner().invoke(app, ["bench", "generate", "--dossiers", "0"])
    assert refused.exit_code != 0


def test_the_transition_measure_moves_as_many_dossiers_each_way_in_turns(
    demo: date, db_engine: Engine
) -> None:
    """`make bench`'s service / raw ratio: both sides fire `prendre_en_instruction` on as many
    dossiers, each leaving the dossier en instruction with one more version and its history row."""
    from aap.demo.volume import generate
    from aap.models import DossierEvent
    from bench.scale import transitions_per_second

    campaign = generate(db_engine, 200, 2)
    with Session(db_engine) as s:
        deposited = set(
            s.scalars(select(Dossier.id).where(Dossier.campaign_id == campaign.id, Dossier.state == "depose"))
        )
    assert len(deposited) >= 8

    service, raw = transitions_per_second(db_engine, campaign.id, count=8, rounds=2)

    assert service > 0 and raw > 0
    with Session(db_engine) as s:
        moved = {
            d.id: d
            for d in s.scalars(select(Dossier).where(Dossier.id.in_(deposited), Dossier.state != "depose"))
        }
        events = s.scalars(
            select(DossierEvent).where(
                DossierEvent.dossier_id.in_(deposited), DossierEvent.transition == "prendre_en_instruction"
            )
        ).all()
    per_round = min(4, len(deposited) // 8)
    assert len(moved) == (2 + 2) * 2 * per_round  # (2 counted + 2 warming rounds) x both sides
    assert {d.state for d in moved.values()} == {"en_instruction"}
    assert all(d.instruction_started_at is not None for d in moved.values())
    assert sorted(e.dossier_id for e in events) == sorted(moved)
