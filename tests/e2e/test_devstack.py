"""`make dev`'s embedded stack as real processes: it starts, serves, stops cleanly and keeps its data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pymongo
import pytest

from fepflow.devstack.processes import free_port, pid_alive

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _start(home: Path, ports: dict[str, int], repo_root: Path) -> subprocess.Popen[str]:
    argv = [
        sys.executable,
        "-m",
        "fepflow.devstack",
        "up",
        "--home",
        str(home),
        "--mongo-port",
        str(ports["mongo"]),
        "--dagit-port",
        str(ports["dagit"]),
        "--api-port",
        str(ports["api"]),
    ]
    proc = subprocess.Popen(argv, cwd=repo_root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            return proc
    proc.kill()
    raise AssertionError("the stack did not come up:\n" + "".join(lines))


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return out


def _pids(home: Path) -> list[int]:
    return [int(p.read_text().split()[0]) for p in (home / "pids").glob("*.pid")]


def test_stack_starts_serves_stops_and_keeps_its_data(tmp_path: Path, repo_root: Path) -> None:
    home = tmp_path / "state"
    ports = {"mongo": free_port(), "dagit": free_port(), "api": free_port()}
    started = time.monotonic()
    proc = _start(home, ports, repo_root)
    startup_s = time.monotonic() - started
    try:
        pids = _pids(home)
        names = sorted(p.stem for p in (home / "pids").glob("*.pid"))
        assert names == ["code-server", "dagster-daemon", "dagster-webserver", "hub", "mongodb"]
        assert all(pid_alive(p) for p in pids)
        health = httpx.get(f"http://127.0.0.1:{ports['api']}/health", timeout=10)
        assert health.status_code == 200 and health.json()["checks"] == {
            "mongodb": "ok",
            "object_store": "ok",
        }
        dagit = httpx.get(f"http://127.0.0.1:{ports['dagit']}/server_info", timeout=30)
        assert dagit.status_code == 200
        query = {"query": "{ repositoriesOrError { ... on RepositoryConnection { nodes { name } } } }"}
        graphql = httpx.post(f"http://127.0.0.1:{ports['dagit']}/graphql", json=query, timeout=60)
        assert graphql.json()["data"]["repositoriesOrError"]["nodes"], graphql.text
        client: pymongo.MongoClient = pymongo.MongoClient(f"mongodb://127.0.0.1:{ports['mongo']}/")
        client["fepflow"]["networks"].insert_one({"_id": "kept-across-restarts"})
        client.close()
    finally:
        out = _stop(proc)
    assert "stopped; data kept" in out
    assert not any(pid_alive(p) for p in pids), "a process of the first run is still alive"
    assert list((home / "pids").glob("*.pid")) == []
    print(f"embedded stack up in {startup_s:.1f} s")

    proc = _start(home, ports, repo_root)
    try:
        client = pymongo.MongoClient(f"mongodb://127.0.0.1:{ports['mongo']}/")
        assert client["fepflow"]["networks"].find_one({"_id": "kept-across-restarts"}) is not None
        client.close()
    finally:
        _stop(proc)


def test_a_killed_launcher_leaves_nothing_running_after_the_next_start(
    tmp_path: Path, repo_root: Path
) -> None:
    home = tmp_path / "state"
    ports = {"mongo": free_port(), "dagit": free_port(), "api": free_port()}
    proc = _start(home, ports, repo_root)
    orphans = _pids(home)
    os.kill(proc.pid, signal.SIGKILL)  # the launcher dies without stopping its children
    proc.wait(timeout=10)
    assert any(pid_alive(p) for p in orphans)
    stopped = subprocess.run(
        [sys.executable, "-m", "fepflow.devstack", "stop", "--home", str(home)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "stopped:" in stopped.stdout
    deadline = time.monotonic() + 20
    while any(pid_alive(p) for p in orphans) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(pid_alive(p) for p in orphans)
