"""Settings from the environment (and an optional `.env`), as contract.md lists them."""

from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

# Good enough on a developer's machine only: `aap serve` refuses it for any non-loopback base URL.
DEFAULT_SECRET_KEY = "change-me-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AAP_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = None
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEFAULT_SECRET_KEY
    smtp_url: str | None = None
    smtp_from: str = "aap <no-reply@aap.test>"
    demo_password: str = "demo"
    timezone: str = "Europe/Paris"
    max_upload_bytes: int = 10 * 1024 * 1024
    token_ttl_minutes: int = 12 * 60
    registry_base_url: str = "https://recherche-entreprises.api.gouv.fr"
    registry_timeout_seconds: float = 3.0
    # failed-login counters: "database" (the app's own, shared by every worker), "memory://", "redis://…"
    login_limits_storage: str = "database"
    # requests served at once by one worker process (its thread pool), and its database connections. Python
    # runs one thread at a time per process: threads only overlap waits on the database, and more of them
    # fight over the interpreter's lock. Past what two cores serve, 8 per worker answered 2 to 3 times
    # faster than 16 (`python -m bench load`); more cores take more workers, not more threads.
    threads: int = 8
    # requests in progress per worker past which it answers 503 at once (`aap serve` sets it; None: no limit)
    limit_concurrency: int | None = None
    # a bilan line whose réalisé moves from its prévu by more than this share needs an explanation
    bilan_gap_threshold: Decimal = Decimal("0.15")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'aap.sqlite3').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
