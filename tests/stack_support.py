"""Helpers for the tests that run the embedded stack as real processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from fepflow.devstack.processes import free_port
from fepflow.devstack.stack import EmbeddedStack, StackConfig

CPU_STACK_ENV = {
    "FEPFLOW_ORCHESTRATOR_SENSOR_INTERVAL_S": "1",
    "FEPFLOW_ENGINE_GPU_DEVICES": "none",
    "FEPFLOW_ENGINE_CPU_SLOTS": "2",
    "FEPFLOW_ENGINE_CPU_THREADS": "1",
    "FEPFLOW_ENGINE_HEARTBEAT_S": "1",
    "FEPFLOW_ENGINE_STALE_AFTER_S": "30",
}
"""The environment of a test stack on 2 CPU cores: two one-thread simulation slots, a fast sensor."""


@contextlib.contextmanager
def running_stack(home: Path, repo_root: Path, env: dict[str, str]) -> Iterator[EmbeddedStack]:
    """An embedded stack on free ports in ``home``, with ``env`` set for it (and restored after)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    config = StackConfig(
        home=home, workdir=repo_root, mongo_port=free_port(), dagit_port=free_port(), api_port=free_port()
    )
    stack = EmbeddedStack(config)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_worker_pids(run_id: str) -> list[int]:
    """The run worker of ``run_id``: the code server starts it with multiprocessing (its command line
    does not name the run; its parent is a spawn helper, or the embedded stack's fork server), and it
    starts the log-capture processes whose command lines do."""
    out = subprocess.run(["pgrep", "-f", run_id], capture_output=True, text=True, check=False).stdout
    workers = set()
    for pid in (int(p) for p in out.split()):
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            parent = Path(f"/proc/{ppid}/cmdline").read_bytes()
            if b"multiprocessing.spawn" in parent or b"multiprocessing.forkserver" in parent:
                workers.add(ppid)
        except (OSError, ValueError, IndexError):
            continue
    return sorted(workers)


def _chromium(url: str, tmp_path: Path, *mode: str) -> str:
    """Run headless Chromium on ``url`` with ``mode``'s options; its standard output."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, (
        "Chromium is needed for the results page test (Debian package `chromium`; .ci/run installs it)"
    )
    argv = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--virtual-time-budget=15000",
        *mode,
        url,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def chromium_dom(url: str, tmp_path: Path) -> str:
    """The DOM of ``url`` after headless Chromium has run its scripts (images drawn, data-rendered set)."""
    return _chromium(url, tmp_path, "--dump-dom")


def chromium_screenshot(url: str, tmp_path: Path, path: Path, size: tuple[int, int] = (1280, 4200)) -> bytes:
    """A PNG of ``url`` as headless Chromium draws it in a window of ``size``, written to ``path``."""
    _chromium(
        url, tmp_path, "--hide-scrollbars", f"--window-size={size[0]},{size[1]}", f"--screenshot={path}"
    )
    return path.read_bytes()
