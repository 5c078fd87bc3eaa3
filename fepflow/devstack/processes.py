"""Start, watch and stop the server processes of the embedded stack (and of the test fixtures).

Each server runs as its own process in its own process group, so stopping it by PID also stops
whatever it spawned. A PID file beside the server's data lets a later start clean up after a run
that was killed before it could stop its children.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class ServerStartError(RuntimeError):
    """A server process exited or did not open its port in time."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout_s: float = 0.2) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    """True when a process with this PID exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        with contextlib.suppress(OSError, IndexError):
            return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def stop_group(pid: int, timeout_s: float = 10.0) -> None:
    """Stop the process group led by ``pid``: SIGTERM, then SIGKILL after ``timeout_s``."""
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            if not pid_alive(pid):
                return
            time.sleep(0.05)


@dataclass
class ManagedProcess:
    """One server process: its command, where it logs, and the port that says it is ready."""

    name: str
    argv: Sequence[str]
    log_path: Path
    host: str = "127.0.0.1"
    port: int | None = None
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    pid_path: Path | None = None
    ready_timeout_s: float = 60.0
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> ManagedProcess:
        """Start the process and wait until its port accepts connections."""
        if self.pid_path is not None:
            stop_stale(self.pid_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(self.env or {})
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                list(self.argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.cwd,
                start_new_session=True,
            )
        if self.pid_path is not None:
            self.pid_path.parent.mkdir(parents=True, exist_ok=True)
            self.pid_path.write_text(f"{self._proc.pid}\n{Path(self.argv[0]).name}\n")
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with code {self._proc.returncode} while starting; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            if self.port is None or port_open(self.host, self.port):
                return
            time.sleep(0.1)
        self.stop()
        raise ServerStartError(
            f"{self.name} did not open {self.host}:{self.port} within {self.ready_timeout_s:.0f} s; "
            f"last lines of {self.log_path}:\n{self.log_tail()}"
        )

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the process and everything in its process group; forget the PID file."""
        if self._proc is not None:
            stop_group(self._proc.pid, timeout_s)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=1)
        if self.pid_path is not None:
            self.pid_path.unlink(missing_ok=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def stop_stale(pid_path: Path) -> bool:
    """Stop a process group left behind by a run that died; True when one was found."""
    try:
        pid_text, program, *_ = pid_path.read_text().split("\n")
        pid = int(pid_text)
    except (OSError, ValueError):
        return False
    found = pid_alive(pid) and _runs(pid, program)
    if found:
        stop_group(pid)
    pid_path.unlink(missing_ok=True)
    return found


def _runs(pid: int, program: str) -> bool:
    """True when process ``pid`` still runs ``program`` (a recycled PID is someone else's)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return program in cmdline
