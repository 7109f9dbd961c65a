"""Alembic from code: the only way the schema is created."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[1]


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def _with_connection(engine: Engine, fn, *args) -> None:  # type: ignore[no-untyped-def]
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        fn(config, *args)


def upgrade(engine: Engine, revision: str = "head") -> None:
    _with_connection(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    _with_connection(engine, command.downgrade, revision)


def check(engine: Engine) -> None:
    """Raises when the models and the migrations differ (alembic check)."""
    _with_connection(engine, command.check)
