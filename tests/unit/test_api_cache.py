"""The hub's status cache: values live ttl_s, concurrent misses compute once, ttl 0 turns it off."""

from __future__ import annotations

import threading
import time

from api.cache import TTLCache


def test_values_expire_after_ttl() -> None:
    cache = TTLCache(0.2)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("k", compute) == 1
    assert cache.get("k", compute) == 1
    time.sleep(0.25)
    assert cache.get("k", compute) == 2


def test_concurrent_misses_compute_once() -> None:
    cache = TTLCache(5)
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "v"

    out: list[str] = []
    threads = [threading.Thread(target=lambda: out.append(cache.get("k", slow))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == ["v"] * 20 and len(calls) == 1


def test_zero_ttl_and_unkept_values_are_not_cached() -> None:
    calls: list[int] = []
    off = TTLCache(0)
    off.get("k", lambda: calls.append(1))
    off.get("k", lambda: calls.append(1))
    assert len(calls) == 2
    cache = TTLCache(5)
    assert cache.get("k", lambda: None, keep=lambda v: v is not None) is None
    assert cache.get("k", lambda: 3, keep=lambda v: v is not None) == 3
    assert cache.get("k", lambda: 4) == 3


def test_a_stale_value_is_served_while_one_caller_refreshes() -> None:
    cache = TTLCache(0.1, stale_factor=20)
    cache.get("k", lambda: 1)
    time.sleep(0.15)
    assert cache.peek("k") == ("stale", 1)
    assert cache.claim_refresh("k") is True
    assert cache.claim_refresh("k") is False  # one refresher at a time
    assert cache.refresh("k", lambda: 2) == 2
    assert cache.peek("k") == ("fresh", 2)
    assert cache.claim_refresh("k") is True  # released after the refresh
    time.sleep(2.1)
    assert cache.peek("k") == ("missing", None)  # older than stale_s: not served any more


def test_unknown_keys_leave_no_lock_behind() -> None:
    """Issue 14 item 12: every missed key used to leave its lock in the cache for good."""
    cache = TTLCache(5)
    for i in range(5000):
        assert cache.get(f"unknown-{i}", lambda: None, keep=lambda v: v is not None) is None
    cache.get("known", lambda: 1)
    assert len(cache._locks) == 0 and list(cache._data) == ["known"]


def test_concurrent_misses_of_an_unknown_key_release_the_lock() -> None:
    cache = TTLCache(5)
    calls: list[int] = []
    gate = threading.Event()

    def slow() -> None:
        calls.append(1)
        gate.wait(2)
        return None

    threads = [
        threading.Thread(target=cache.get, args=("k", slow), kwargs={"keep": lambda v: v is not None})
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join()
    assert 1 <= len(calls) <= 8 and len(cache._locks) == 0
