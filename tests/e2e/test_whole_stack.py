"""The whole stack as a user meets it: the embedded stack as real processes, the Python client, the
sensor, OpenMM hydration simulations, the hub's estimates and a checksum-verified DRS download, with
a run worker killed mid-simulation on the way."""

from __future__ import annotations

import hashlib
import math
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stack_support import CPU_STACK_ENV, chromium_dom, run_worker_pids, running_stack

from fepflow.devstack.stack import EmbeddedStack
from fepflow.hub.client import Client
from fepflow.store.index import Index

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# the fast preset cut down to seconds: implicit solvent, three states, a few dozen iterations
TINY_HYDRATION: dict[str, Any] = {
    "lambdas": {"electrostatics": [1.0, 0.0, 0.0], "sterics": [1.0, 1.0, 0.0]},
    "simulation": {
        "steps_per_iteration": 25,
        "equilibration_ps": 1.0,
        "production_iterations": 300,
        "checkpoint_interval_iterations": 10,
    },
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Iterator[tuple[EmbeddedStack, Path]]:
    token_file = tmp_path_factory.mktemp("client") / "token.json"
    env = {**CPU_STACK_ENV, "FEPFLOW_TOKEN_FILE": str(token_file)}
    with running_stack(tmp_path_factory.mktemp("whole"), repo_root, env) as running:
        yield running, token_file


def test_submit_watch_kill_resume_results_and_download(
    stack: tuple[EmbeddedStack, Path], tmp_path: Path
) -> None:
    running, token_file = stack
    config = running.config
    # the stack created the local identity and saved its token where the client looks: no login
    with Client(config.hub_url, token_file=token_file) as client:
        assert client.whoami()["identity"] == "local"
        submitted = client.submit_ligands(
            [("methane", "C"), ("methanol", "CO")],
            scope="e2e-whole-stack",
            protocol="absolute-hydration",
            preset="fast",
            settings=TINY_HYDRATION,
        )
        assert submitted.created
        network = submitted.network
        again = client.submit_ligands(
            [("methane", "C"), ("methanol", "CO")],
            scope="e2e-whole-stack",
            protocol="absolute-hydration",
            preset="fast",
            settings=TINY_HYDRATION,
        )
        assert (again.created, again.network, again.tasks) == (False, network, submitted.tasks)

        # kill the run worker of the first task to write a checkpoint
        index = Index.connect(config.mongo_url, "fepflow")
        try:
            deadline = time.monotonic() + 240
            victim = None
            while victim is None and time.monotonic() < deadline:
                for key in submitted.tasks:
                    doc = index.tasks.coll.find_one({"_id": key}) or {}
                    snapshots = list((config.home / "work" / key).glob("*snapshots*/*"))
                    if doc.get("status") == "running" and doc.get("run_id") and snapshots:
                        victim = doc
                        break
                time.sleep(0.3)
            assert victim is not None, "no task reached a checkpoint while running"
            pids = run_worker_pids(victim["run_id"])
            assert pids
            for pid in pids:
                os.kill(pid, signal.SIGKILL)

            deadline = time.monotonic() + 400
            while time.monotonic() < deadline:
                status = client.status(network)
                if status.counts.get("complete", 0) == status.total:
                    break
                assert not status.counts.get("error"), index.tasks.coll.find_one({"status": "error"})
                time.sleep(1.0)
            assert client.status(network).counts["complete"] == 2
            killed = index.tasks.get(victim["_id"])
            assert killed.attempts == 2 and killed.run_id != victim["run_id"]
            for key in submitted.tasks:  # exactly one result per task
                assert index.results.coll.count_documents({"task": key}) == 1
            summary = index.results.get(killed.result.result_key)["summary"]  # type: ignore[union-attr]
            assert any(leg["resumed"] for leg in summary["legs"].values())
        finally:
            index.close()

        results = client.results(network)
        values = {m.molecule: m for m in results.molecules}
        assert set(values) == {"methane", "methanol"}
        for value in values.values():
            assert math.isfinite(value.dg_kcal_mol)
        # methanol is far more soluble than methane, even at this length (expt +2.0 vs -5.1 kcal/mol)
        assert values["methanol"].dg_kcal_mol < values["methane"].dg_kcal_mol - 2.0

        # a DRS download matches its checksum
        archive = client.archive(network)
        bundle = client.drs_object(archive["drs_ids"][0])
        member = next(c for c in bundle.contents or [] if c.name == "summary.json")
        blob = client.drs_object(member.id or "")
        path = client.download(blob, tmp_path / "summary.json")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == blob.sha256()

        # the results page, opened in headless Chromium: the table and every plot render
        dom = chromium_dom(client.page_link(network), tmp_path)
        assert '<table id="estimates">' in dom
        for name in ("methane", "methanol"):
            assert f"<td>{name}</td><td>{values[name].dg_kcal_mol:+.2f}</td>" in dom
        images = re.findall(r"<img [^>]*>", dom)
        assert (
            len(images) >= 1 + 2 * 2 * 2
        )  # the correlation plot, then overlap + convergence per leg per task
        unrendered = [img for img in images if not re.search(r'data-rendered="[1-9][0-9]*"', img)]
        assert not unrendered, unrendered
        assert dom.count("drs://") == 2  # one bundle per task
