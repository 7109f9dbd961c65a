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
