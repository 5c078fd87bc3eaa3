"""Login limits: attempts per client address and per identifier (token buckets, in process).

Each hub process counts its own attempts, so N uvicorn workers allow up to N times the rate. Behind
a reverse proxy start uvicorn with ``--proxy-headers --forwarded-allow-ips=<proxy>``, or every
client counts as the proxy's address.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

MAX_KEYS = 100_000  # buckets kept per kind; the least recently used go first (a full bucket is no loss)


class _Buckets:
    """Token buckets of ``per_min`` attempts a minute, refilled continuously, one per key."""

    def __init__(self, per_min: int) -> None:
        self.capacity = float(per_min)
        self.rate = per_min / 60.0  # tokens a second
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - at) * self.rate)

    def take(self, key: str, now: float) -> None:
        self._buckets[key] = (self.level(key, now) - 1.0, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)

    def wait_s(self, key: str, now: float) -> float:
        """Seconds until ``key`` has one attempt again."""
        return max(0.0, (1.0 - self.level(key, now)) / self.rate)


class LoginLimiter:
    """Allows a login attempt when both the client's and the identifier's buckets have one."""

    def __init__(self, per_client_per_min: int, per_identity_per_min: int) -> None:
        self._client = _Buckets(per_client_per_min)
        self._identity = _Buckets(per_identity_per_min)
        self._lock = threading.Lock()

    def attempt(self, client: str, identifier: str) -> tuple[str, int] | None:
        """None and one attempt counted against both; or (what is limited, seconds to wait)."""
        with self._lock:
            now = time.monotonic()
            if self._client.level(client, now) < 1.0:
                return f"client {client}", max(1, math.ceil(self._client.wait_s(client, now)))
            if self._identity.level(identifier, now) < 1.0:
                return f"identity {identifier!r}", max(1, math.ceil(self._identity.wait_s(identifier, now)))
            self._client.take(client, now)
            self._identity.take(identifier, now)
            return None
