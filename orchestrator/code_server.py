"""The code location's gRPC server, whose run workers start warm.

Dagster's code server starts each run's worker with ``multiprocessing`` in ``spawn`` mode: a new
interpreter that imports Dagster, the code location and then, as the task runs, the science stack
(OpenMM, openmmtools, pymbar, matplotlib) — seconds of imports for every task, the bulk of a short
task's fixed cost. Here the server uses ``forkserver`` mode instead, with those modules preloaded:
the fork server imports them once, and each run worker is a fork of it, started with everything
already imported. Each run still runs in its own process (a crash or a cancelled run takes only its
own worker), and a run worker holds no state of another run: the fork server itself never runs any.

The embedded stack (``make dev``) starts this server and points the webserver and the daemon at it
(a ``grpc_server`` entry in the stack's own workspace file). Code changes need a restart of the
stack (Dagit's "Reload" reconnects; it does not re-import).

    python -m orchestrator.code_server -h 127.0.0.1 -p 4266 -m orchestrator.definitions
"""

import multiprocessing
import sys
from multiprocessing import forkserver
from types import ModuleType
from typing import Any

PRELOAD = [
    "orchestrator.definitions",
    "fepflow.runner",
    "fepflow.protocols.common.analysis",
    "fepflow.protocols.harmonic",
    "openmm",
    "openmmtools",
    "pymbar",
    # what a run worker's DagsterInstance loads (SQLite storages and their migrations): 0.4 CPU-s
    "dagster._core.instance.factory",
    "dagster._core.storage.sqlite_storage",
    "dagster._core.storage.runs.sqlite",
    "dagster._core.storage.event_log.sqlite",
    "dagster._core.storage.schedules.sqlite",
    "dagster._daemon.controller",
    "alembic.command",
    "alembic.config",
    "upath",
]
"""Modules the fork server imports once, so that no run worker imports them again (a name that does
not import is skipped)."""


class _ForkserverMultiprocessing(ModuleType):
    """``multiprocessing`` as Dagster's gRPC server sees it: ``get_context`` gives ``forkserver``."""

    def __init__(self) -> None:
        super().__init__("multiprocessing")

    def __getattr__(self, name: str) -> Any:
        return getattr(multiprocessing, name)

    @staticmethod
    def get_context(method: str | None = None) -> Any:
        return multiprocessing.get_context("forkserver")


def preload() -> list[str]:
    """The modules of :data:`PRELOAD` that are installed (a missing one is skipped, not fatal)."""
    from importlib.util import find_spec

    return [name for name in PRELOAD if find_spec(name.split(".")[0]) is not None]


def main() -> None:
    from dagster._cli import main as dagster_main
    from dagster._grpc import server as grpc_server

    multiprocessing.set_forkserver_preload(preload())
    forkserver.ensure_running()  # import the preloaded modules now, not when the first run starts
    grpc_server.multiprocessing = _ForkserverMultiprocessing()  # type: ignore[attr-defined]
    sys.argv = ["dagster", "api", "grpc", *sys.argv[1:]]
    dagster_main()


if __name__ == "__main__":
    main()
