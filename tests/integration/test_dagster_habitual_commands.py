"""Dagster's own commands, run in the repository root the way Dagster users habitually do, work on a
fresh checkout: no services, no DAGSTER_* or FEPFLOW_* variables, HOME an empty folder.

Without DAGSTER_HOME, Dagster reads the top-level ``dagster.yaml`` from the current folder and keeps its
SQLite storage in a temporary ``.tmp_dagster_home_*`` folder there; ``workspace.yaml`` names the code
location (orchestrator.definitions, the one ``make dev`` serves).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from fepflow.devstack.processes import free_port
from fepflow.devstack.servers import _bin

pytestmark = pytest.mark.integration

LOCATION = "orchestrator.definitions"


def _clean_env(home: Path) -> dict[str, str]:
    """A fresh shell's environment: PATH with the venv first, an empty HOME, nothing of Dagster's or ours."""
    env = {k: v for k, v in os.environ.items() if k in {"LANG", "LC_ALL", "TMPDIR"}}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}/usr/bin{os.pathsep}/bin"
    env["HOME"] = str(home)
    return env


def _temporary_homes(root: Path) -> set[str]:
    return {p.name for p in root.glob(".tmp_dagster_home_*")}


def test_definitions_validate_in_the_repository_root(repo_root: Path, tmp_path: Path) -> None:
    before = _temporary_homes(repo_root)
    run = subprocess.run(
        [_bin("dagster"), "definitions", "validate"],
        cwd=repo_root,
        env=_clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    assert f"Validation successful for code location {LOCATION}" in out
    assert "DAGSTER_PG" not in out
    assert _temporary_homes(repo_root) <= before  # its temporary instance folder is gone


def _get(url: str, body: bytes | None = None) -> dict[str, object]:
    headers = {"Content-Type": "application/json"} if body else {}
    with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=5) as r:
        data: dict[str, object] = json.loads(r.read())
        return data


LOCATIONS_QUERY = json.dumps(
    {
        "query": "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
        "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
    }
).encode()


def _stop_group(pgid: int) -> None:
    """Kill whatever of the session is left after a grace period (nothing, when shutdown worked)."""
    for _ in range(20):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.25)
    os.killpg(pgid, signal.SIGKILL)


@pytest.mark.slow
def test_dagster_dev_serves_the_code_location(repo_root: Path, tmp_path: Path) -> None:
    before = _temporary_homes(repo_root)
    port = free_port()
    log = tmp_path / "dagster-dev.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [_bin("dagster"), "dev", "-h", "127.0.0.1", "-p", str(port)],
            cwd=repo_root,
            env=_clean_env(tmp_path),
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        info: dict[str, object] = {}
        entries: list[dict[str, object]] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"dagster dev exited {proc.returncode}:\n{log.read_text()[-4000:]}"
            try:
                info = info or _get(f"{base}/server_info")
                workspace = _get(f"{base}/graphql", LOCATIONS_QUERY)["data"]["workspaceOrError"]  # type: ignore[index]
                entries = workspace["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        assert info.get("dagster_webserver_version"), log.read_text()[-4000:]
        assert [e["name"] for e in entries] == [LOCATION], entries
        assert entries[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation", entries  # type: ignore[index]
    finally:
        # what Ctrl-C does: dagster dev stops its webserver, daemon and code server and removes its
        # temporary instance folder
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        finally:
            _stop_group(proc.pid)
    text = log.read_text()
    assert "DAGSTER_PG" not in text
    assert "Dagster services shut down" in text, text[-4000:]
    assert _temporary_homes(repo_root) <= before
