"""Helpers for the tests that run the embedded stack as real processes."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from fepflow.devstack.processes import free_port
from fepflow.devstack.stack import EmbeddedStack, StackConfig


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
    does not name the run), and it starts the log-capture processes whose command lines do."""
    out = subprocess.run(["pgrep", "-f", run_id], capture_output=True, text=True, check=False).stdout
    workers = set()
    for pid in (int(p) for p in out.split()):
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            if b"multiprocessing.spawn" in Path(f"/proc/{ppid}/cmdline").read_bytes():
                workers.add(ppid)
        except (OSError, ValueError, IndexError):
            continue
    return sorted(workers)
