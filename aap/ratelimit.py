"""A small in-process rate limit for the few routes anyone may call (e.g. the registration page's
registry lookup), so that an anonymous client cannot turn the app into a relay for the registry."""

import threading
import time
from collections import defaultdict, deque

from aap.errors import AppError


class RateLimited(AppError):
    status_code = 429
    code = "trop_de_requetes"


class RateLimit:
    def __init__(self, limit: int, window_seconds: float):
        self.limit, self.window = limit, window_seconds
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> None:
        """Counts one call of `client`; refuses (429) past `limit` calls in the sliding window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits[client]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                wait = int(hits[0] + self.window - now) + 1
                raise RateLimited(
                    f"Trop de recherches depuis votre connexion : réessayez dans {wait} secondes.",
                    headers={"Retry-After": str(wait)},
                )
            hits.append(now)
