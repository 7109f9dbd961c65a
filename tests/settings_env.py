"""The settings of a process as `aap` reads them from its environment (`AAP_*`), for a test that runs a
command or a worker's engine the way an operator's machine would."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from aap.db import get_engine, get_sessionmaker
from aap.settings import get_settings

_CACHED = (get_settings, get_engine, get_sessionmaker)


@contextmanager
def settings_from_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[None]:
    """`get_settings()`, and the engine and sessions made from them, read these variables; emptied before
    and after, and the engine's connections closed."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for cached in _CACHED:
        cached.cache_clear()
    try:
        yield
    finally:
        get_engine().dispose()
        for cached in _CACHED:
            cached.cache_clear()
