"""A small in-process cache with a time limit, for answers many clients poll (task counts).

Concurrent misses for one key are computed once (the others wait for that answer). Once a value is
older than ``ttl_s`` it is still served, for up to ``stale_s``, while a single refresh runs
(stale-while-revalidate), so pollers never queue behind the database. Each hub process has its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

T = TypeVar("T")
MAX_ENTRIES = 10_000
State = Literal["fresh", "stale", "missing"]


class TTLCache:
    def __init__(self, ttl_s: float, *, stale_factor: float = 10.0) -> None:
        self.ttl_s = ttl_s
        self.stale_s = ttl_s * stale_factor
        self._data: dict[str, tuple[float, Any]] = {}  # key -> (stored at, value)
        # key -> (lock, callers holding or waiting for it); dropped when the last one leaves, so keys
        # that never get a value (unknown networks) leave nothing behind
        self._locks: dict[str, tuple[threading.Lock, int]] = {}
        self._refreshing: set[str] = set()
        self._guard = threading.Lock()

    def peek(self, key: str) -> tuple[State, Any]:
        """How old the entry of ``key`` is, and its value; never blocks."""
        hit = self._data.get(key)
        if self.ttl_s <= 0 or hit is None:
            return "missing", None
        age = time.monotonic() - hit[0]
        if age < self.ttl_s:
            return "fresh", hit[1]
        return ("stale", hit[1]) if age < self.stale_s else ("missing", None)

    def claim_refresh(self, key: str) -> bool:
        """True for the one caller that should refresh ``key`` now (False while another does)."""
        with self._guard:
            if key in self._refreshing:
                return False
            self._refreshing.add(key)
            return True

    def refresh(self, key: str, compute: Callable[[], T], keep: Callable[[T], bool] = lambda _: True) -> T:
        """Compute and store ``key`` (after :meth:`claim_refresh`)."""
        try:
            value = compute()
            if keep(value):
                self._store(key, value)
            else:
                self._data.pop(key, None)
            return value
        finally:
            with self._guard:
                self._refreshing.discard(key)

    def get(self, key: str, compute: Callable[[], T], *, keep: Callable[[T], bool] = lambda _: True) -> T:
        """The fresh value of ``key``, or ``compute()`` (kept only when ``keep`` says so); concurrent
        callers of a missing key wait for one computation."""
        if self.ttl_s <= 0:
            return compute()
        state, value = self.peek(key)
        if state == "fresh":
            return value  # type: ignore[no-any-return]
        lock = self._enter(key)
        try:
            with lock:
                state, value = self.peek(key)
                if state == "fresh":
                    return value  # type: ignore[no-any-return]
                value = compute()
                if keep(value):
                    self._store(key, value)
                return value
        finally:
            self._leave(key)

    def _enter(self, key: str) -> threading.Lock:
        with self._guard:
            lock, users = self._locks.get(key) or (threading.Lock(), 0)
            self._locks[key] = (lock, users + 1)
            return lock

    def _leave(self, key: str) -> None:
        with self._guard:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def _store(self, key: str, value: Any) -> None:
        with self._guard:
            if len(self._data) >= MAX_ENTRIES and key not in self._data:
                self._evict()
            self._data[key] = (time.monotonic(), value)

    def _evict(self) -> None:
        cutoff = time.monotonic() - self.stale_s
        for key in [k for k, (at, _) in self._data.items() if at <= cutoff] or list(self._data):
            self._data.pop(key, None)
