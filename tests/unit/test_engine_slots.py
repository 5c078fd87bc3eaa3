"""Device slots: which GPU (or CPU share) each concurrent simulation gets."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import pytest

from fepflow.engine.slots import NoFreeSlot, Slot, SlotAllocator, detect_gpus, plan_slots


def test_detect_gpus_from_spec_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert detect_gpus("0,2") == [0, 2]
    assert detect_gpus("none") == []
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert detect_gpus("auto") == [0, 1]  # CUDA renumbers the visible devices from 0
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert detect_gpus("auto") == []
    for bad in ("a,b", "0,0", "-1"):
        with pytest.raises(ValueError, match="gpu device"):
            detect_gpus(bad)


def test_plan_gpu_and_cpu_slots() -> None:
    gpu = plan_slots([0, 1], slots_per_gpu=2, cpu_threads=3)
    assert [(s.name, s.device_index, s.threads) for s in gpu] == [
        ("gpu0-0", 0, 3),
        ("gpu0-1", 0, 3),
        ("gpu1-0", 1, 3),
        ("gpu1-1", 1, 3),
    ]
    assert gpu[2].environment() == {"CUDA_VISIBLE_DEVICES": "1", "GPU_DEVICE_ORDINAL": "1"}
    cpu = plan_slots([], cpu_slots=2, cpu_threads=1)
    assert [(s.name, s.device_index, s.is_gpu) for s in cpu] == [
        ("cpu-0", None, False),
        ("cpu-1", None, False),
    ]
    assert cpu[0].environment() == {}


def test_concurrent_holders_get_distinct_devices_first(tmp_path: Path) -> None:
    allocator = SlotAllocator(plan_slots([0, 1], slots_per_gpu=2), tmp_path)
    with allocator.acquire() as a, allocator.acquire() as b:
        # the second simulation goes to the other GPU before any GPU is shared
        assert {a.device_index, b.device_index} == {0, 1}
        with allocator.acquire() as c, allocator.acquire() as d:
            assert len({a.name, b.name, c.name, d.name}) == 4
            with pytest.raises(NoFreeSlot), allocator.acquire(timeout_s=0.2):
                pass
    with allocator.acquire(timeout_s=0.2) as again:  # released on exit
        assert again.name == "gpu0-0"


def _hold(lock_dir: str, ready: mp.Event, out: mp.Queue) -> None:  # type: ignore[type-arg]
    allocator = SlotAllocator([Slot("gpu0-0", 0, 1)], Path(lock_dir), poll_s=0.05)
    with allocator.acquire() as slot:
        out.put(slot.name)
        ready.set()
        time.sleep(60)


def test_a_dead_process_releases_its_slot(tmp_path: Path) -> None:
    ctx = mp.get_context("fork")
    ready, out = ctx.Event(), ctx.Queue()
    holder = ctx.Process(target=_hold, args=(str(tmp_path), ready, out))
    holder.start()
    try:
        assert ready.wait(10)
        allocator = SlotAllocator([Slot("gpu0-0", 0, 1)], tmp_path, poll_s=0.05)
        with pytest.raises(NoFreeSlot), allocator.acquire(timeout_s=0.3):
            pass
        holder.kill()  # SIGKILL: no cleanup code runs, the kernel drops the lock
        holder.join(10)
        with allocator.acquire(timeout_s=5) as slot:
            assert slot.name == "gpu0-0"
    finally:
        if holder.is_alive():
            holder.kill()
