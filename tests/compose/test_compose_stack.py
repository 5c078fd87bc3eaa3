"""A round trip through the compose stack as its users meet it (`make test-compose` brings it up).

The first user is created the documented way (`fepflow admin add-user` inside the api container), logs
in to the hub, submits a one-ligand network with the smoke preset, and waits until the daemon's run has
simulated it and its result is in the index; then a DRS object of the result is downloaded through its
presigned URL (the S3 port the stack publishes) and checked against its sha-256.
Skipped unless FEPFLOW_COMPOSE_HUB names the hub of a running stack (deploy/ci/test-compose.sh sets it).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from fepflow.hub.client import Client

HUB = os.environ.get("FEPFLOW_COMPOSE_HUB", "")
COMPOSE = shlex.split(os.environ.get("FEPFLOW_COMPOSE_CMD", "docker compose"))
pytestmark = pytest.mark.skipif(not HUB, reason="needs a running compose stack: make test-compose")

ROUND_TRIP_S = float(os.environ.get("FEPFLOW_COMPOSE_TASK_S", "480"))


def add_first_user(name: str, secret: str, scope: str) -> str:
    """`fepflow admin add-user` in the api container, the secret passed in an environment variable."""
    argv = [*COMPOSE, "exec", "-T", "-e", f"FIRST_USER_SECRET={secret}", "api",
            "fepflow", "admin", "add-user", name, "--scope", scope, "--secret-env", "FIRST_USER_SECRET"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_first_user_submits_through_the_hub_and_downloads_the_result(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(24)
    assert "identity chemist" in add_first_user("chemist", secret, "compose-*-*")
    with Client(HUB, username="chemist", password=secret) as client:
        client.login("chemist", secret)
        assert client.whoami()["identity"] == "chemist"
        submitted = client.submit_ligands(
            [("methane", "C")], scope="compose-ci-smoke", protocol="absolute-hydration", preset="smoke"
        )
        assert submitted.created and len(submitted.tasks) == 1
        network = submitted.network

        deadline = time.monotonic() + ROUND_TRIP_S
        status = client.status(network)
        while status.counts.get("complete", 0) < status.total and time.monotonic() < deadline:
            assert not status.counts.get("error"), client.task(submitted.tasks[0])
            time.sleep(3.0)
            status = client.status(network)
        assert status.counts.get("complete") == 1, (status, client.task(submitted.tasks[0]))

        # indexed: the result is served by the hub from MongoDB
        results = client.results(network)
        assert [m.molecule for m in results.molecules] == ["methane"]
        assert math.isfinite(results.molecules[0].dg_kcal_mol)

        # downloadable: the bundle's summary.json through its presigned S3 URL, checksum verified
        archive = client.archive(network)
        assert len(archive["drs_ids"]) == 1
        bundle = client.drs_object(archive["drs_ids"][0])
        member = next(c for c in bundle.contents or [] if c.name == "summary.json")
        blob = client.drs_object(member.id or "")
        path = client.download(blob, tmp_path / "summary.json")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == blob.sha256()
        assert json.loads(path.read_text())["legs"]
