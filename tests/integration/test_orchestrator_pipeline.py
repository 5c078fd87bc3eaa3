"""The Dagster code location against the real stores: the task sensor, materialising task partitions
with real OpenMM simulations (harmonic oscillators with an exact answer), checks, failures,
cancellation, re-execution and the downstream estimates."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance, SensorResult, SkipReason, build_sensor_context, materialize
from factories import harmonic_network

from fepflow.models.states import TaskStatus
from fepflow.models.tasks import utcnow
from fepflow.settings import ObjectStoreSettings
from fepflow.store.index import Index
from fepflow.store.objects import open_object_store
from orchestrator.assets import network_summaries, simulation, transformation_estimates
from orchestrator.resources import EngineResource, IndexResource, ObjectStoreResource
from orchestrator.sensors import handle_failed_run, task_sensor

pytestmark = pytest.mark.integration


@pytest.fixture()
def env(
    mongo_url: str, mongo_db_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    for name, value in {
        "FEPFLOW_ENGINE_WORK_DIR": str(tmp_path / "work"),
        "FEPFLOW_ENGINE_SLOT_DIR": str(tmp_path / "slots"),
        "FEPFLOW_ENGINE_CACHE_DIR": str(tmp_path / "cache"),
        "FEPFLOW_ENGINE_GPU_DEVICES": "none",
        "FEPFLOW_ENGINE_CPU_THREADS": "1",
        "FEPFLOW_ENGINE_HEARTBEAT_S": "0.2",
        "FEPFLOW_ORCHESTRATOR_HUB_URL": "http://hub.example:8000",
    }.items():
        monkeypatch.setenv(name, value)
    objects_url = f"file://{tmp_path / 'objects'}"
    index = Index.connect(mongo_url, mongo_db_name)
    index.ensure_indexes()
    instance = DagsterInstance.ephemeral()
    try:
        yield {
            "index": index,
            "objects": open_object_store(ObjectStoreSettings(url=objects_url)),
            "instance": instance,
            "resources": {
                "index": IndexResource(url=mongo_url, database=mongo_db_name),
                "objects": ObjectStoreResource(url=objects_url),
                "engine": EngineResource(),
            },
        }
    finally:
        index.close()
        instance.dispose()


def _tick(env: dict[str, Any], cursor: str | None = None) -> SensorResult | SkipReason:
    context = build_sensor_context(instance=env["instance"], resources=env["resources"], cursor=cursor)
    return task_sensor(context)


def _materialize(env: dict[str, Any], key: str, raise_on_error: bool = True) -> Any:
    env["instance"].add_dynamic_partitions("tasks", [key])
    return materialize(
        [simulation],
        partition_key=key,
        instance=env["instance"],
        resources=env["resources"],
        raise_on_error=raise_on_error,
    )


def test_sensor_schedules_each_waiting_task_once_by_priority(env: dict[str, Any]) -> None:
    index: Index = env["index"]
    report = index.submit_network(harmonic_network(3), scope="test-orch-sensor")
    urgent = report.task_keys[2]
    index.tasks.set_priority(urgent, 7)

    first = _tick(env)
    assert isinstance(first, SensorResult)
    requests = first.run_requests or []
    assert requests[0].partition_key == urgent  # highest priority first
    assert sorted(r.partition_key for r in requests) == sorted(report.task_keys)
    assert {r.run_key for r in requests} == {f"{k}:0" for k in report.task_keys}
    assert requests[0].tags["dagster/priority"] == "7"
    assert requests[0].tags["fepflow/kind"] == "simulation"  # the run-level limit's tag
    assert first.dynamic_partitions_requests[0].partition_keys == [r.partition_key for r in requests]  # type: ignore[union-attr, index]
    assert index.tasks.counts()["scheduled"] == 3

    # a repeated tick launches nothing new: the tasks were claimed by the first
    again = _tick(env)
    assert isinstance(again, SkipReason)

    # a tick that died after claiming: the scheduled tasks are requested again with the same run
    # keys, which Dagster launches only once
    index.tasks.coll.update_many({}, {"$set": {"scheduled_at": utcnow() - timedelta(minutes=5)}})
    resumed = _tick(env)
    assert isinstance(resumed, SensorResult)
    assert {r.run_key for r in resumed.run_requests or []} == {f"{k}:0" for k in report.task_keys}
    assert index.tasks.counts()["scheduled"] == 3


def test_materialising_a_task_partition_publishes_a_verified_result(env: dict[str, Any]) -> None:
    index: Index = env["index"]
    network = harmonic_network(1)
    report = index.submit_network(network, scope="test-orch-run")
    key = report.task_keys[0]

    result = _materialize(env, key)
    assert result.success
    task = index.tasks.get(key)
    assert task.status is TaskStatus.COMPLETE and task.attempts == 1 and task.result is not None

    # the number: real sampling of oscillators whose answer is exact
    summary = index.results.get(task.result.result_key)["summary"]
    assert summary["dg_kcal_mol"] == pytest.approx(
        summary["exact_dg_kcal_mol"], abs=max(4 * summary["dg_mbar_error_kcal_mol"], 0.05)
    )

    # Dagit's view: ΔG ± error, ns/day, platform, a link to the result, and the checks
    mat = result.asset_materializations_for_node("simulation")[0]
    meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    assert meta["ΔG (kcal/mol)"].startswith(
        f"{summary['dg_kcal_mol']:+.2f} ± {summary['dg_mbar_error_kcal_mol']:.2f} (this run's MBAR error alone"
    )
    assert meta["platform"] == "Reference"
    assert meta["ns/day (oscillators)"] > 0
    assert meta["result link"] == f"http://hub.example:8000/ga4gh/drs/v1/objects/{task.result.drs_id}"
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {"neighbour_overlap": True, "forward_reverse_agreement": True}

    # the bundle: a DRS compound object whose manifest and members are in the object store
    bundle = index.results.drs_object(task.result.drs_id or "")
    assert bundle is not None and bundle["kind"] == "bundle"
    manifest = json.loads(env["objects"].get_bytes(bundle["object_key"]))
    assert {f["name"] for f in manifest["files"]} == {"summary.json", "energies.npz"}
    for member in bundle["contents"]:
        blob = index.results.drs_object(member["id"])
        assert blob is not None
        data = env["objects"].get_bytes(blob["object_key"])  # verified against its sha256
        assert len(data) == blob["size"]
    assert (
        json.loads(
            env["objects"].get_bytes(
                next(
                    index.results.drs_object(m["id"])["object_key"]
                    for m in bundle["contents"]
                    if m["name"] == "summary.json"  # type: ignore[index]
                )
            )
        )["dg_kcal_mol"]
        == summary["dg_kcal_mol"]
    )

    # re-executing a finished partition publishes nothing new
    again = _materialize(env, key)
    assert again.success
    assert index.results.coll.count_documents({"task": key}) == 1
    assert index.tasks.get(key).attempts == 1

    # downstream: the estimate of the transformation and the network summary
    down = materialize(
        [simulation.to_source_asset(), transformation_estimates, network_summaries],
        instance=env["instance"],
        resources=env["resources"],
    )
    assert down.success
    est = index.coll("estimates").find_one({"_id": task.transformation_key})
    assert est is not None and est["n_repeats"] == 1
    assert est["dg_kcal_mol"] == pytest.approx(summary["dg_kcal_mol"])
    net = index.coll("network_summaries").find_one({"_id": network.key})
    assert net is not None and net["fraction_complete"] == 1.0 and net["n_estimates"] == 1


def test_a_failing_simulation_records_its_traceback_and_reruns_from_dagit(env: dict[str, Any]) -> None:
    index: Index = env["index"]
    # a force constant so stiff that a 4 fs step explodes: a real NaN from OpenMM
    network = harmonic_network(1, force_constants_kT_per_nm2=[1e9, 2e9, 4e9], timestep_fs=4.0)
    key = index.submit_network(network, scope="test-orch-fail").task_keys[0]

    result = _materialize(env, key, raise_on_error=False)
    assert not result.success
    task = index.tasks.get(key)
    assert task.status is TaskStatus.ERROR
    assert task.last_error is not None
    assert task.last_error.startswith(
        "SimulationError: simulation failed (phase sampling, thermodynamic state"
    )
    assert "exploded" in task.last_error
    assert task.traceback and "Traceback" in task.traceback
    assert index.results.coll.count_documents({}) == 0  # nothing half-written was indexed

    # a re-execution (Dagit) updates the same task: error -> waiting -> scheduled -> running -> error
    rerun = _materialize(env, key, raise_on_error=False)
    assert not rerun.success
    assert index.tasks.get(key).attempts == 2


def test_a_task_cancelled_while_running_stops_its_run(env: dict[str, Any]) -> None:
    index: Index = env["index"]
    network = harmonic_network(1, production_iterations=20000, checkpoint_interval_iterations=100)
    key = index.submit_network(network, scope="test-orch-cancel").task_keys[0]
    seen: dict[str, Any] = {}

    def cancel_once_running() -> None:  # Dagster wants the run itself on the main thread
        deadline = time.monotonic() + 120
        while index.tasks.get(key).status is not TaskStatus.RUNNING:
            if time.monotonic() > deadline:
                return
            time.sleep(0.1)
        seen["running"] = True
        time.sleep(1.0)
        index.tasks.cancel(key)
        seen["cancelled_at"] = time.monotonic()

    canceller = threading.Thread(target=cancel_once_running, daemon=True)
    canceller.start()
    result = _materialize(env, key, raise_on_error=False)
    stopped_at = time.monotonic()
    canceller.join(5)
    assert seen.get("running"), "the task never started"
    assert not result.success
    assert (
        stopped_at - seen["cancelled_at"] < 30
    )  # noticed within a few heartbeats, not after 20,000 iterations
    assert index.tasks.get(key).status is TaskStatus.CANCELLED
    assert index.results.coll.count_documents({}) == 0


def test_failure_sensor_requeues_a_task_whose_worker_died(env: dict[str, Any]) -> None:
    import logging

    index: Index = env["index"]
    key = index.submit_network(harmonic_network(1), scope="test-orch-died").task_keys[0]
    index.tasks.claim(limit=1)
    index.tasks.transition(
        key,
        TaskStatus.RUNNING,
        expected=TaskStatus.SCHEDULED,
        set_fields={"run_id": "r1"},
        inc={"attempts": 1},
    )
    log = logging.getLogger("test")
    assert handle_failed_run(index, key, "another-run", 3, log) == "untouched"
    assert handle_failed_run(index, key, "r1", 3, log) == "requeued"
    assert index.tasks.get(key).status is TaskStatus.WAITING
    # out of attempts: it stays in error for a person to look at
    index.tasks.claim(limit=1)
    index.tasks.transition(
        key,
        TaskStatus.RUNNING,
        expected=TaskStatus.SCHEDULED,
        set_fields={"run_id": "r2"},
        inc={"attempts": 2},
    )
    assert handle_failed_run(index, key, "r2", 3, log) == "error"
    assert index.tasks.get(key).status is TaskStatus.ERROR


def test_an_extended_task_resumes_and_replaces_its_result(env: dict[str, Any]) -> None:
    index: Index = env["index"]
    key = index.submit_network(
        harmonic_network(1, production_iterations=60), scope="test-orch-extend"
    ).task_keys[0]
    assert _materialize(env, key).success
    first = index.tasks.get(key)
    assert first.result is not None

    index.tasks.mark_extend(key, 40)  # the hub's "extend": complete -> waiting, 40 more iterations
    tick = _tick(env)
    assert isinstance(tick, SensorResult)
    assert [r.run_key for r in tick.run_requests or []] == [f"{key}:1"]  # a new run, not the first one's key
    assert _materialize(env, key).success

    done = index.tasks.get(key)
    assert done.status is TaskStatus.COMPLETE and done.attempts == 2
    assert done.result is not None and done.result.result_key != first.result.result_key
    leg = index.results.get(done.result.result_key)["summary"]["legs"]["oscillators"]
    assert leg["n_iterations"] == 100 and leg["resumed"] is True
    with pytest.raises(KeyError):  # the replaced result is no longer served
        index.results.get(first.result.result_key)
