"""A small in-process cache with a time limit, for answers many clients poll (task counts).

Concurrent misses for one key are computed once (the others wait for that answer), so a burst of
pollers costs the database one query per key per ``ttl_s``. Each hub process has its own cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
MAX_ENTRIES = 10_000


class TTLCache:
    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._data: dict[str, tuple[float, Any]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def peek(self, key: str) -> tuple[bool, Any]:
        """``(True, value)`` for a live entry, ``(False, None)`` otherwise; never blocks."""
        hit = self._data.get(key)
        if self.ttl_s > 0 and hit is not None and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def get(self, key: str, compute: Callable[[], T], *, keep: Callable[[T], bool] = lambda _: True) -> T:
        """The cached value of ``key``, or ``compute()`` (kept only when ``keep`` says so)."""
        if self.ttl_s <= 0:
            return compute()
        hit = self._data.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]  # type: ignore[no-any-return]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._data.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]  # type: ignore[no-any-return]
            value = compute()
            if not keep(value):
                return value
            with self._guard:
                if len(self._data) >= MAX_ENTRIES:
                    self._evict()
                self._data[key] = (time.monotonic() + self.ttl_s, value)
            return value

    def _evict(self) -> None:
        now = time.monotonic()
        for key in [k for k, (expires, _) in self._data.items() if expires <= now] or list(self._data):
            self._data.pop(key, None)
            self._locks.pop(key, None)
