"""`aap serve` refuses a key anyone knows unless it only serves this machine; `make run` writes a
random key into `.env` once (`aap secret init`)."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from aap.cli import app as cli
from aap.security.secret_key import check_serving_key, is_loopback
from aap.settings import DEFAULT_SECRET_KEY, Settings, get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """No `.env` nor AAP_* variable of the developer's machine leaks into these tests."""
    monkeypatch.chdir(tmp_path)
    for name in ("AAP_SECRET_KEY", "AAP_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("key", [None, DEFAULT_SECRET_KEY, "test-secret", "changeme", "court-mais-pas-connu"])
def test_serve_refuses_a_missing_known_or_short_key_on_a_public_address(
    monkeypatch: pytest.MonkeyPatch, key: str | None
) -> None:
    monkeypatch.setenv("AAP_BASE_URL", "https://aap.example.fr")
    if key is not None:
        monkeypatch.setenv("AAP_SECRET_KEY", key)
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert "Refus de démarrer" in result.output and "AAP_SECRET_KEY" in result.output


def test_a_loopback_base_url_may_use_the_default_key() -> None:
    for url in ("http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000", "http://127.0.0.2"):
        assert is_loopback(url)
        check_serving_key(Settings(base_url=url))  # does not raise
    assert not is_loopback("http://10.0.0.1:8000") and not is_loopback("https://localhost.example.fr")


def test_a_random_key_serves_a_public_address() -> None:
    check_serving_key(Settings(base_url="https://aap.example.fr", secret_key="x" * 8 + "Zq3-9_kP" * 5))


def test_secret_init_writes_a_random_key_once_and_never_replaces_it(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("AAP_PORT=8001")  # no final newline: the key goes on its own line
    first = runner.invoke(cli, ["secret", "init"])
    assert first.exit_code == 0, first.output
    lines = env.read_text().splitlines()
    assert lines[0] == "AAP_PORT=8001" and lines[1].startswith("AAP_SECRET_KEY=")
    key = lines[1].split("=", 1)[1]
    assert len(key) >= 32
    second = runner.invoke(cli, ["secret", "init"])
    assert second.exit_code == 0 and "inchangée" in second.output
    assert env.read_text().splitlines() == lines
    # the written key is the one settings read, and it may serve the public
    get_settings.cache_clear()
    settings = Settings(base_url="https://aap.example.fr")
    assert settings.secret_key == key
    check_serving_key(settings)


def test_make_run_writes_the_key_before_serving() -> None:
    makefile = (Path(__file__).parents[2] / "Makefile").read_text()
    run_recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert run_recipe.index("aap secret init") < run_recipe.index("aap serve")
