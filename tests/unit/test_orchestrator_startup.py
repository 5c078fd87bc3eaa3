"""How the embedded stack starts Dagster for a low fixed cost per task: the daemon's sensor loop as
short as the task sensor's interval, run workers forked from a warm code server, and a code location
that does not import the plotting stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fepflow.devstack.stack import CODE_LOCATION, EmbeddedStack, StackConfig
from orchestrator import code_server, daemon

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("interval", "loop"), [("1", 1.0), ("3", 3.0), ("30", 5.0)])
def test_the_sensor_loop_follows_the_task_sensor_interval_up_to_dagsters_own(
    monkeypatch: pytest.MonkeyPatch, interval: str, loop: float
) -> None:
    monkeypatch.setenv("FEPFLOW_ORCHESTRATOR_SENSOR_INTERVAL_S", interval)
    assert daemon.sensor_loop_s() == loop


def test_the_code_server_starts_run_workers_from_a_fork_server() -> None:
    shim = code_server._ForkserverMultiprocessing()
    assert shim.get_context("spawn").get_start_method() == "forkserver"
    assert shim.Queue is __import__("multiprocessing").Queue  # everything else is multiprocessing's
    assert "orchestrator.definitions" in code_server.preload() and "openmm" in code_server.preload()


def test_the_stack_points_dagster_at_its_own_code_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEPFLOW_ORCHESTRATOR_SENSOR_INTERVAL_S", raising=False)
    stack = EmbeddedStack(StackConfig(home=tmp_path, workdir=REPO, mongo_port=1, dagit_port=2, api_port=3))
    procs = {p.name: p for p in stack.plan()}
    server = procs["code-server"]
    port = stack.config.code_port
    assert port > 0 and server.port == port
    assert server.argv[1:3] == ["-m", "orchestrator.code_server"] and CODE_LOCATION in server.argv
    workspace = yaml.safe_load((tmp_path / "workspace.yaml").read_text())
    assert workspace["load_from"] == [
        {"grpc_server": {"host": "127.0.0.1", "port": port, "location_name": CODE_LOCATION}}
    ]
    for name in ("dagster-webserver", "dagster-daemon"):
        argv = procs[name].argv
        assert argv[argv.index("-w") + 1] == str(tmp_path / "workspace.yaml")
    assert procs["dagster-daemon"].argv[1:3] == ["-m", "orchestrator.daemon"]
    assert stack.config.env()["FEPFLOW_ORCHESTRATOR_SENSOR_INTERVAL_S"] == "1"
    monkeypatch.setenv("FEPFLOW_ORCHESTRATOR_SENSOR_INTERVAL_S", "7")  # the user's value wins
    assert stack.config.env()["FEPFLOW_ORCHESTRATOR_SENSOR_INTERVAL_S"] == "7"


def test_the_code_location_does_not_import_matplotlib() -> None:
    code = "import sys, orchestrator.definitions; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"
