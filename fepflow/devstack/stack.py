"""The embedded stack: MongoDB wire server, local object store, Dagster (webserver + daemon) and the hub.

Everything lives under one folder (``.fepflow/`` by default): data, logs, PID files and the Dagster
instance (SQLite). Stopping keeps the data; starting again first stops anything a killed earlier run
left behind (found through its PID files).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fepflow.devstack.processes import ManagedProcess, ServerStartError, free_port, port_open, stop_stale
from fepflow.devstack.servers import _bin, mongo_process
from fepflow.engine.slots import Slot, detect_gpus, plan_slots

DAGSTER_INSTANCE = """\
# Written by `make dev` at every start: the embedded default's Dagster instance (SQLite).
storage:
  sqlite:
    base_dir: {storage}
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  poll_interval_seconds: 15
concurrency:
  runs:
    max_concurrent_runs: {max_runs}
    # simulation runs beyond the free slots stay in the queue: a dequeued run whose step waits
    # for a pool slot holds a run worker that polls (measured: a third of a core while it waits)
    tag_concurrency_limits:
      - key: fepflow/kind
        value: simulation
        limit: {gpu_slots}
  pools:
    # the `gpu` pool: one simulation per device slot of this host ({slots})
    default_limit: {gpu_slots}
    granularity: op
retention:
  # the task sensor ticks every second: keep its skipped ticks (nothing waiting) for a day only
  sensor:
    purge_after_days:
      skipped: 1
      failure: 7
      success: -1
sensors:
  use_threads: true
  num_workers: 2
  num_submit_workers: 2
telemetry:
  enabled: false
nux:
  enabled: false
"""

CODE_LOCATION = "orchestrator.definitions"
"""The code location's module, and its name in Dagit (as workspace.yaml loads it)."""
WORKSPACE = """\
# Written by `make dev` at every start: the stack's code location is its own gRPC server.
load_from:
  - grpc_server:
      host: {host}
      port: {port}
      location_name: {name}
"""
SENSOR_INTERVAL_S = 1
"""The embedded stack's task sensor interval, s (FEPFLOW_ORCHESTRATOR_SENSOR_INTERVAL_S overrides it)."""


@dataclass
class StackConfig:
    """Where the stack keeps its state and which loopback ports it uses."""

    home: Path = field(default_factory=lambda: Path(".fepflow"))
    workdir: Path = field(default_factory=Path.cwd)
    host: str = "127.0.0.1"
    mongo_port: int = 27217
    dagit_port: int = 3000
    api_port: int = 8000
    code_port: int = 0
    """The code location's gRPC server (0: a free port, chosen when the stack starts)."""
    max_concurrent_runs: int = 2
    with_dagster: bool = True

    def __post_init__(self) -> None:
        self.home = Path(self.home).resolve()
        self.workdir = Path(self.workdir).resolve()

    @property
    def mongo_url(self) -> str:
        return f"mongodb://{self.host}:{self.mongo_port}/"

    @property
    def objects_url(self) -> str:
        return f"file://{self.home / 'objects'}"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    def env(self) -> dict[str, str]:
        """The environment every process of the stack (and a user's shell) needs."""
        return {
            "FEPFLOW_MONGO_URL": self.mongo_url,
            "FEPFLOW_MONGO_DATABASE": "fepflow",
            "FEPFLOW_OBJECTS_URL": self.objects_url,
            "FEPFLOW_API_PUBLIC_URL": f"http://{self.host}:{self.api_port}",
            "FEPFLOW_AUTH_ENVIRONMENT": "development",
            "FEPFLOW_AUTH_SECRET_KEY": self.auth_secret(),
            "FEPFLOW_ENGINE_WORK_DIR": str(self.home / "work"),
            "FEPFLOW_ENGINE_CACHE_DIR": str(self.home / "cache"),
            "FEPFLOW_ENGINE_SLOT_DIR": str(self.home / "slots"),
            "FEPFLOW_ORCHESTRATOR_HUB_URL": f"http://{self.host}:{self.api_port}",
            # a task's run is requested within about a second of its submission (orchestrator.daemon
            # turns the sensor loop this often); a value set by the user wins
            "FEPFLOW_ORCHESTRATOR_SENSOR_INTERVAL_S": os.environ.get(
                "FEPFLOW_ORCHESTRATOR_SENSOR_INTERVAL_S", str(SENSOR_INTERVAL_S)
            ),
            "DAGSTER_HOME": str(self.dagster_home),
        }

    def auth_secret(self) -> str:
        """The stack's token signing key: random, made on first use, kept (mode 600) in its home."""
        path = self.home / "auth-secret"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    @property
    def hub_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    def urls(self) -> dict[str, str]:
        urls = {
            "hub": f"http://{self.host}:{self.api_port}",
            "hub API docs": f"http://{self.host}:{self.api_port}/docs",
            "MongoDB": self.mongo_url,
            "object store": self.objects_url,
        }
        if self.with_dagster:
            urls["Dagit"] = f"http://{self.host}:{self.dagit_port}"
        return urls


class EmbeddedStack:
    """Starts the stack's processes in order and stops them in reverse."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.processes: list[ManagedProcess] = []

    @property
    def pid_dir(self) -> Path:
        return self.config.home / "pids"

    @property
    def log_dir(self) -> Path:
        return self.config.home / "logs"

    def stop_leftovers(self) -> list[str]:
        """Stop processes a previous run left behind; their names."""
        found = []
        if self.pid_dir.exists():
            for pid_file in sorted(self.pid_dir.glob("*.pid")):
                if stop_stale(pid_file):
                    found.append(pid_file.stem)
        return found

    def _check_ports_free(self) -> None:
        c = self.config
        wanted = {"MongoDB": c.mongo_port, "hub": c.api_port}
        if c.with_dagster:
            wanted["Dagit"] = c.dagit_port
        busy = [f"{name} port {port}" for name, port in wanted.items() if port_open(c.host, port)]
        if busy:
            raise ServerStartError(
                f"already in use on {c.host}: {', '.join(busy)}. Stop whatever holds them, or choose "
                "other ports (FEPFLOW_DEV_MONGO_PORT, FEPFLOW_DEV_DAGIT_PORT, FEPFLOW_DEV_API_PORT)."
            )

    def _write_dagster_instance(self) -> None:
        home = self.config.dagster_home
        (home / "storage").mkdir(parents=True, exist_ok=True)
        slots = engine_slots()
        (home / "dagster.yaml").write_text(
            DAGSTER_INSTANCE.format(
                storage=home / "storage",
                # every slot busy plus one run for the estimates: runs beyond wait in the cheap queue
                max_runs=max(self.config.max_concurrent_runs, len(slots) + 1),
                gpu_slots=len(slots),
                slots=", ".join(s.name for s in slots),
            )
        )

    def _proc(self, name: str, argv: list[str], port: int | None, timeout_s: float = 90.0) -> ManagedProcess:
        env = {**self.config.env(), "PYTHONUNBUFFERED": "1"}
        return ManagedProcess(
            name=name,
            argv=argv,
            log_path=self.log_dir / f"{name}.log",
            host=self.config.host,
            port=port,
            env=env,
            cwd=self.config.workdir,
            pid_path=self.pid_dir / f"{name}.pid",
            ready_timeout_s=timeout_s,
        )

    def _code_server(self) -> ManagedProcess:
        """The code location's gRPC server, whose run workers fork from a warm process with the
        code location and the science stack imported (``orchestrator.code_server``)."""
        c = self.config
        if not c.code_port:
            c.code_port = free_port(c.host)
        argv = [sys.executable, "-m", "orchestrator.code_server", "-h", c.host, "-p", str(c.code_port)]
        argv += ["-m", CODE_LOCATION, "-d", str(c.workdir), "--location-name", CODE_LOCATION]
        return self._proc("code-server", argv, c.code_port, timeout_s=180.0)

    def _write_workspace(self) -> Path:
        """The stack's workspace file: the webserver and the daemon use the running code server."""
        c = self.config
        path = c.home / "workspace.yaml"
        path.write_text(WORKSPACE.format(host=c.host, port=c.code_port, name=CODE_LOCATION))
        return path

    def plan(self) -> list[ManagedProcess]:
        c = self.config
        _, mongo = mongo_process(
            c.home / "mongo",
            host=c.host,
            port=c.mongo_port,
            log_path=self.log_dir / "mongodb.log",
            pid_path=self.pid_dir / "mongodb.pid",
        )
        procs = [mongo]
        if c.with_dagster:
            procs.append(self._code_server())
            workspace = str(self._write_workspace())
            procs.append(
                self._proc(
                    "dagster-webserver",
                    [_bin("dagster-webserver"), "-h", c.host, "-p", str(c.dagit_port), "-w", workspace],
                    c.dagit_port,
                )
            )
            # Dagster's daemon with its sensor loop as short as the task sensor's interval
            daemon = [sys.executable, "-m", "orchestrator.daemon", "run", "-w", workspace]
            procs.append(self._proc("dagster-daemon", daemon, None))
        procs.append(
            self._proc(
                "hub",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "api.main:app",
                    "--host",
                    c.host,
                    "--port",
                    str(c.api_port),
                    "--log-level",
                    "warning",
                ],
                c.api_port,
            )
        )
        return procs

    def start(self, report: object = None) -> None:
        """Start every process; on any failure stop those already started and re-raise."""
        say = report if callable(report) else (lambda _msg: None)
        self.config.home.mkdir(parents=True, exist_ok=True)
        (self.config.home / "objects").mkdir(exist_ok=True)
        left = self.stop_leftovers()
        if left:
            say(f"stopped processes left by an earlier run: {', '.join(left)}")
        self._check_ports_free()
        if self.config.with_dagster:
            self._write_dagster_instance()
        try:
            for proc in self.plan():
                started = time.monotonic()
                proc.start()
                if proc.port is None:  # no port to wait for: make sure it stays up a moment
                    time.sleep(1.0)
                    if not proc.running():
                        raise ServerStartError(f"{proc.name} exited at start:\n{proc.log_tail()}")
                self.processes.append(proc)
                say(f"{proc.name} ready in {time.monotonic() - started:.1f} s (log: {proc.log_path})")
            self._ensure_indexes()
            token_file = self.local_identity()
            say(f"local identity 'local' (every scope); its token is in {token_file}")
        except BaseException:
            self.stop()
            raise
        (self.config.home / "stack.json").write_text(
            json.dumps(
                {
                    "urls": self.config.urls(),
                    "env": self.config.env(),
                    "pids": {p.name: p.pid for p in self.processes},
                    "config": _jsonable(asdict(self.config)),
                },
                indent=2,
            )
        )

    def _ensure_indexes(self) -> None:
        from fepflow.store.index import Index

        index = Index.connect(self.config.mongo_url, "fepflow")
        try:
            index.ensure_indexes()
        finally:
            index.close()

    def local_identity(self) -> Path:
        """Create the local identity and save its token where the CLI and client look."""
        from fepflow.devstack.local_identity import ensure_local_identity
        from fepflow.settings import AuthSettings
        from fepflow.store.index import Index

        auth = AuthSettings(environment="development", secret_key=self.config.auth_secret())
        index = Index.connect(self.config.mongo_url, "fepflow")
        try:
            token_file = os.environ.get("FEPFLOW_TOKEN_FILE")
            return ensure_local_identity(
                index, auth, self.config.hub_url, token_file=Path(token_file) if token_file else None
            )
        finally:
            index.close()

    def failed(self) -> list[ManagedProcess]:
        return [p for p in self.processes if not p.running()]

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()
        (self.config.home / "stack.json").unlink(missing_ok=True)


def running_stack(config: StackConfig) -> dict[str, object] | None:
    """The description (``stack.json``) of a stack already running from ``config.home``, if every one
    of its processes is alive; None otherwise."""
    from fepflow.devstack.processes import pid_alive

    path = config.home / "stack.json"
    if not path.exists():
        return None
    try:
        info: dict[str, object] = json.loads(path.read_text())
        pids = dict(info.get("pids") or {})  # type: ignore[call-overload]
    except (ValueError, TypeError):
        return None
    if pids and all(pid_alive(int(pid)) for pid in pids.values()):
        return info
    return None


def engine_slots() -> list[Slot]:
    """This host's simulation slots, from the FEPFLOW_ENGINE_* settings (read now)."""
    from fepflow.settings import EngineSettings

    e = EngineSettings()
    return plan_slots(
        detect_gpus(e.gpu_devices),
        slots_per_gpu=e.slots_per_gpu,
        cpu_slots=e.cpu_slots,
        cpu_threads=e.cpu_threads,
    )


def _jsonable(data: dict[str, object]) -> dict[str, object]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in data.items()}


def config_from_env(**overrides: object) -> StackConfig:
    """A stack configuration from FEPFLOW_HOME and FEPFLOW_DEV_* variables (read now)."""
    env = os.environ
    values: dict[str, object] = {
        "home": Path(env.get("FEPFLOW_HOME", ".fepflow")),
        "mongo_port": int(env.get("FEPFLOW_DEV_MONGO_PORT", "27217")),
        "dagit_port": int(env.get("FEPFLOW_DEV_DAGIT_PORT", "3000")),
        "api_port": int(env.get("FEPFLOW_DEV_API_PORT", "8000")),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return StackConfig(**values)  # type: ignore[arg-type]
