"""The services the tests expect to find running (issue 14, item 14): `.ci/run` starts every one of
them through `.ci/services`, and the README names them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fepflow.devstack.processes import free_port

pytestmark = pytest.mark.integration

# how a test reaches a service it does not start itself -> the service's name in .ci/services / README
SIGNS = {
    "redis": (re.compile(r"redis://|^import redis", re.M), "Redis"),
    "postgresql": (re.compile(r"\bpostgres_dsn\b|psycopg2\.connect"), "PostgreSQL"),
    "rabbitmq": (re.compile(r"amqp://|pyamqp://"), "RabbitMQ"),
}


def _used(repo_root: Path) -> set[str]:
    text = "\n".join(
        p.read_text() for p in (repo_root / "tests").rglob("*.py") if p.name != Path(__file__).name
    )
    return {name for name, (sign, _) in SIGNS.items() if sign.search(text)}


def test_ci_run_starts_and_the_readme_names_every_service_the_tests_use(repo_root: Path) -> None:
    used = _used(repo_root)
    assert {"redis", "postgresql"} <= used
    services = (repo_root / ".ci" / "services").read_text()
    assert re.search(r"^\s*\.ci/services\b", (repo_root / ".ci" / "run").read_text(), re.M)
    readme = (repo_root / "README.md").read_text()
    for name in used:
        assert f"ensure_{name}" in services and f"{name}) ensure_{name}" in services
        assert SIGNS[name][1] in readme, f"README.md does not name {SIGNS[name][1]}"
    assert ".ci/services" in readme


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_ci_services_starts_redis_when_it_does_not_answer(repo_root: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "FEPFLOW_TEST_REDIS_URL": f"redis://127.0.0.1:{port}", "TMPDIR": str(tmp_path)}
    ping = ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "ping"]
    assert subprocess.run(ping, capture_output=True, text=True).stdout.strip() != "PONG"
    try:
        for _ in range(2):  # the second run finds it answering and starts nothing
            done = subprocess.run(
                ["bash", str(repo_root / ".ci" / "services"), "redis"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
            assert f"PONG from 127.0.0.1:{port}" in done.stdout
        assert subprocess.run(ping, capture_output=True, text=True).stdout.strip() == "PONG"
        pid_file = tmp_path / f"fepflow-ci-redis-{port}" / "redis.pid"
        assert pid_file.exists()
    finally:
        subprocess.run([*ping[:-1], "shutdown", "nosave"], capture_output=True, timeout=30)
