"""The secret key signs every session cookie and bearer token: a key anyone knows lets anyone forge an
admin's. `aap serve` refuses a missing, known or short key unless the app only listens to this machine
(a loopback `AAP_BASE_URL`), and `make run` writes a random key into `.env` once."""

import ipaddress
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from aap.settings import DEFAULT_SECRET_KEY, Settings

# Keys that appear in this repository, its tests and the usual tutorials: never good enough to serve.
KNOWN_KEYS = frozenset(
    {
        DEFAULT_SECRET_KEY,
        "test-secret",
        "secret",
        "changeme",
        "change-me",
        "change_me",
        "demo",
        "dev",
        "development",
        "aap",
        "password",
    }
)
MIN_LENGTH = 32
ENV_LINE = re.compile(r"^\s*(export\s+)?AAP_SECRET_KEY\s*=\s*\S", re.MULTILINE)


class UnsafeSecretKey(Exception):
    """Why the configured key may not serve a public address (French, for the operator)."""


def is_loopback(base_url: str) -> bool:
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def key_problem(key: str | None) -> str | None:
    """What is wrong with this key, in French, or None when it may sign sessions for the public."""
    key = (key or "").strip()
    if not key:
        return "AAP_SECRET_KEY n'est pas définie"
    if key.lower() in KNOWN_KEYS or key.lower().startswith(("test-secret", "change-me")):
        return "AAP_SECRET_KEY a une valeur connue de tous (celle par défaut ou d'un exemple)"
    if len(key) < MIN_LENGTH:
        return f"AAP_SECRET_KEY est trop courte ({len(key)} caractères, {MIN_LENGTH} au moins)"
    return None


def check_serving_key(settings: Settings) -> None:
    """Refuses (UnsafeSecretKey) to serve a non-loopback base URL with a missing or known key."""
    problem = key_problem(settings.secret_key)
    if problem is None or is_loopback(settings.base_url):
        return
    raise UnsafeSecretKey(
        f"Refus de démarrer : {problem}, alors que l'application est servie à {settings.base_url}. "
        "Avec cette clé, n'importe qui peut fabriquer un jeton ou un cookie de session d'administrateur. "
        "Définissez une clé aléatoire, par exemple : "
        "AAP_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))'), "
        "dans l'environnement ou dans le fichier .env."
    )


def new_key() -> str:
    return secrets.token_urlsafe(48)


def ensure_env_key(env_file: Path) -> bool:
    """Appends a random AAP_SECRET_KEY to `env_file` when it holds none; True when one was written.
    An existing key is never replaced: that would log everyone out."""
    text = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    if ENV_LINE.search(text):
        return False
    prefix = "" if not text or text.endswith("\n") else "\n"
    with env_file.open("a", encoding="utf-8") as out:
        out.write(f"{prefix}AAP_SECRET_KEY={new_key()}\n")
    env_file.chmod(0o600)
    return True
