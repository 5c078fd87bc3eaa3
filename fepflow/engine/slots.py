"""Device slots: each concurrent simulation on a host gets its own GPU (or its share of the CPU cores).

Dagster's ``gpu`` pool limits how many simulations run at once (devices x slots per device); this
module decides *which* device each one uses. Slots are lock files under one folder, taken with
``flock``: a process that dies releases its slot with it, and processes of any kind on the host (run
workers, celery children) share one view. On a host without GPUs the slots are CPU slots, each with
its thread count.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class NoFreeSlot(TimeoutError):
    """Every slot stayed taken for the whole wait."""


@dataclass(frozen=True)
class Slot:
    """One slot: a GPU device index (None for a CPU slot) and the CPU threads it may use."""

    name: str
    device_index: int | None
    threads: int

    @property
    def is_gpu(self) -> bool:
        return self.device_index is not None

    def environment(self) -> dict[str, str]:
        """Variables that confine CUDA and OpenCL to this slot's device (set before the first Context)."""
        if self.device_index is None:
            return {}
        return {"CUDA_VISIBLE_DEVICES": str(self.device_index), "GPU_DEVICE_ORDINAL": str(self.device_index)}


def detect_gpus(spec: str = "auto") -> list[int]:
    """GPU indices from ``spec``: '0,1' as given, 'none' for none, 'auto' from the environment.

    'auto' uses CUDA_VISIBLE_DEVICES when set (the devices a worker was confined to, renumbered from
    0 as CUDA sees them), else the devices ``nvidia-smi -L`` lists, else none.
    """
    spec = spec.strip().lower()
    if spec in {"none", ""}:
        return []
    if spec != "auto":
        try:
            devices = [int(part) for part in spec.split(",") if part.strip()]
        except ValueError:
            raise ValueError(
                f"gpu devices must be 'auto', 'none' or indices like '0,1', got {spec!r}"
            ) from None
        if any(d < 0 for d in devices) or len(set(devices)) != len(devices):
            raise ValueError(f"gpu device indices must be distinct and non-negative, got {spec!r}")
        return devices
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        entries = [v for v in visible.split(",") if v.strip() and v.strip() != "-1"]
        return list(range(len(entries)))
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return []
    return [
        i for i, line in enumerate(line for line in listing.stdout.splitlines() if line.startswith("GPU "))
    ]


def plan_slots(
    gpus: list[int], *, slots_per_gpu: int = 1, cpu_slots: int = 1, cpu_threads: int | None = None
) -> list[Slot]:
    """The host's slots: ``slots_per_gpu`` per GPU, or ``cpu_slots`` CPU slots without GPUs."""
    cores = os.cpu_count() or 1
    if gpus:
        # a GPU simulation needs one core to drive it; share the rest out
        threads = cpu_threads or max(1, cores // (len(gpus) * slots_per_gpu))
        return [Slot(f"gpu{d}-{s}", d, threads) for d in gpus for s in range(slots_per_gpu)]
    threads = cpu_threads or max(1, cores // cpu_slots)
    return [Slot(f"cpu-{s}", None, threads) for s in range(cpu_slots)]


class SlotAllocator:
    """Hands out the slots of :func:`plan_slots` to concurrent processes through lock files."""

    def __init__(self, slots: list[Slot], lock_dir: Path, poll_s: float = 0.5) -> None:
        if not slots:
            raise ValueError("no slots to allocate")
        self.slots = slots
        self.lock_dir = Path(lock_dir)
        self.poll_s = poll_s

    def _try(self, slot: Slot) -> int | None:
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_dir / f"{slot.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd

    @contextlib.contextmanager
    def acquire(self, timeout_s: float | None = None) -> Iterator[Slot]:
        """Wait for a free slot (GPU slots in device order, so devices fill evenly) and hold it."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        order = sorted(self.slots, key=lambda s: (s.name.rsplit("-", 1)[-1], s.name))
        while True:
            for slot in order:
                fd = self._try(slot)
                if fd is not None:
                    try:
                        yield slot
                    finally:
                        fcntl.flock(fd, fcntl.LOCK_UN)
                        os.close(fd)
                    return
            if deadline is not None and time.monotonic() >= deadline:
                raise NoFreeSlot(
                    f"all {len(self.slots)} slots under {self.lock_dir} stayed busy for {timeout_s} s"
                )
            time.sleep(self.poll_s)
