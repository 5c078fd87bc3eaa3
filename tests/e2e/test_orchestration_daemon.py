"""The orchestration with the Dagster daemon running: the embedded stack as real processes.

Tasks inserted in MongoDB are picked up by the task sensor, simulated (harmonic oscillators with an
exact answer, real OpenMM), published and indexed. A run worker killed mid-simulation is noticed, its
task goes back to waiting, the next run resumes from the checkpoint, and the task ends with one
result, not two.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import harmonic_network
from stack_support import CPU_STACK_ENV, run_worker_pids, running_stack

from fepflow.devstack.stack import EmbeddedStack
from fepflow.models.states import TaskStatus
from fepflow.store.index import Index

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("stack"), repo_root, CPU_STACK_ENV) as running:
        yield running


@pytest.fixture()
def index(stack: EmbeddedStack) -> Iterator[Index]:
    idx = Index.connect(stack.config.mongo_url, "fepflow")
    try:
        yield idx
    finally:
        idx.close()


def _wait(what: str, condition: object, timeout_s: float, stack: EmbeddedStack) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        dead = stack.failed()
        assert not dead, f"stack process died: {[p.name for p in dead]}\n{dead[0].log_tail()}"
        time.sleep(0.5)
    logs = "\n".join(f"--- {p.name}\n{p.log_tail()}" for p in stack.processes if p.name.startswith("dagster"))
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}\n{logs}")


def test_inserted_tasks_end_complete_with_indexed_results(stack: EmbeddedStack, index: Index) -> None:
    network = harmonic_network(3, name="daemon")
    report = index.submit_network(network, scope="e2e-daemon")
    _wait("3 complete tasks", lambda: index.tasks.counts(network.key)["complete"] == 3, 300, stack)
    for key in report.task_keys:
        task = index.tasks.get(key)
        assert task.attempts == 1
        assert index.results.coll.count_documents({"task": key}) == 1
        summary = index.results.get(task.result.result_key)["summary"]  # type: ignore[union-attr]
        tol = max(4 * summary["dg_mbar_error_kcal_mol"], 0.05)
        assert summary["dg_kcal_mol"] == pytest.approx(summary["exact_dg_kcal_mol"], abs=tol)
    # the estimates sensor refreshes the downstream assets as results land
    _wait(
        "the network summary",
        lambda: (
            (index.coll("network_summaries").find_one({"_id": network.key}) or {}).get("n_estimates") == 3
        ),
        120,
        stack,
    )


def test_killed_run_worker_resumes_from_its_checkpoint(stack: EmbeddedStack, index: Index) -> None:
    network = harmonic_network(
        1,
        name="daemon kill",
        production_iterations=1200,
        checkpoint_interval_iterations=20,
        steps_per_iteration=100,
    )
    key = index.submit_network(network, scope="e2e-daemon").task_keys[0]
    workdir = stack.config.home / "work" / key

    def checkpointed() -> bool:
        task = index.tasks.get(key)
        return task.status is TaskStatus.RUNNING and any(workdir.glob("*snapshots*/*"))

    _wait("the task to run and write a checkpoint", checkpointed, 180, stack)
    first = index.tasks.get(key)
    assert first.run_id is not None
    pids = run_worker_pids(first.run_id)
    assert pids, "no run worker process found for the run"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)

    _wait(
        "the task to complete after the kill",
        lambda: index.tasks.get(key).status is TaskStatus.COMPLETE,
        300,
        stack,
    )
    done = index.tasks.get(key)
    assert done.attempts == 2
    assert done.run_id != first.run_id
    assert index.results.coll.count_documents({"task": key}) == 1
    summary = index.results.get(done.result.result_key)["summary"]  # type: ignore[union-attr]
    leg = summary["legs"]["oscillators"]
    assert leg["resumed"] is True
    assert leg["n_iterations"] == 1200


GRAPHQL_RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) { ... on Runs { results { runId status tags { key value } } } }
}
"""

GRAPHQL_REEXECUTE = """
mutation Reexecute($params: ReexecutionParams) {
  launchRunReexecution(reexecutionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""


def _graphql(stack: EmbeddedStack, query: str, variables: dict[str, object]) -> dict[str, object]:
    import httpx

    response = httpx.post(
        f"http://{stack.config.host}:{stack.config.dagit_port}/graphql",
        json={"query": query, "variables": variables},
        timeout=60,
    )
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def test_dagit_shows_the_runs_and_a_reexecution_through_it_updates_the_same_task(
    stack: EmbeddedStack, index: Index
) -> None:
    network = harmonic_network(1, name="daemon reexecute", production_iterations=150)
    key = index.submit_network(network, scope="e2e-daemon").task_keys[0]
    _wait("the task to complete", lambda: index.tasks.get(key).status is TaskStatus.COMPLETE, 300, stack)
    first = index.tasks.get(key)

    by_task = {"filter": {"tags": [{"key": "fepflow/task", "value": key}]}}

    def run_finished() -> bool:  # the task completes a moment before its run does
        found = _graphql(stack, GRAPHQL_RUNS, by_task)["runsOrError"]["results"]  # type: ignore[index]
        return bool(found) and all(r["status"] in {"SUCCESS", "FAILURE"} for r in found)

    _wait("the run to finish", run_finished, 60, stack)
    results = _graphql(stack, GRAPHQL_RUNS, by_task)["runsOrError"]["results"]  # type: ignore[index]
    assert [r["status"] for r in results] == ["SUCCESS"]
    parent = results[0]["runId"]

    launched = _graphql(
        stack, GRAPHQL_REEXECUTE, {"params": {"parentRunId": parent, "strategy": "ALL_STEPS"}}
    )
    outcome = launched["launchRunReexecution"]  # type: ignore[index]
    assert outcome["__typename"] == "LaunchRunSuccess", outcome
    child = outcome["run"]["runId"]

    def child_finished() -> bool:
        data = _graphql(stack, GRAPHQL_RUNS, {"filter": {"runIds": [child]}})
        found = data["runsOrError"]["results"]  # type: ignore[index]
        return bool(found) and found[0]["status"] in {"SUCCESS", "FAILURE", "CANCELED"}

    _wait("the re-execution to finish", child_finished, 180, stack)
    final = _graphql(stack, GRAPHQL_RUNS, {"filter": {"runIds": [child]}})
    assert final["runsOrError"]["results"][0]["status"] == "SUCCESS"  # type: ignore[index]
    # the same task, still complete with its one result: nothing was simulated or published twice
    again = index.tasks.get(key)
    assert again.status is TaskStatus.COMPLETE and again.result == first.result
    assert index.results.coll.count_documents({"task": key}) == 1
