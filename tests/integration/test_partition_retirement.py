"""Task partitions of finished networks are retired; their materialisations stay reachable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dagster import (
    AssetKey,
    AssetMaterialization,
    AssetRecordsFilter,
    DagsterInstance,
    SensorResult,
    SkipReason,
    build_sensor_context,
)

from fepflow.store.index import Index
from orchestrator.partitions import partition_retirement_sensor, retirable, tasks_partitions
from orchestrator.resources import IndexResource

pytestmark = pytest.mark.integration

# task key -> (status, networks): network "done" is finished (complete and cancelled tasks); network
# "busy" still runs a task; "shared" belongs to both, so it stays until "busy" is finished as well
TASKS = {
    "Task-done-1": ("complete", ["done"]),
    "Task-done-2": ("cancelled", ["done"]),
    "Task-shared": ("complete", ["done", "busy"]),
    "Task-busy-1": ("complete", ["busy"]),
    "Task-busy-2": ("running", ["busy"]),
    "Task-failed": ("error", ["failing"]),
}


@pytest.fixture()
def index(mongo_url: str, mongo_db_name: str) -> Iterator[Index]:
    idx = Index.connect(mongo_url, mongo_db_name)
    idx.tasks.coll.insert_many(
        [{"_id": key, "status": status, "networks": nets} for key, (status, nets) in TASKS.items()]
    )
    try:
        yield idx
    finally:
        idx.close()


def _tick(instance: DagsterInstance, mongo_url: str, db: str) -> SensorResult | SkipReason:
    context = build_sensor_context(
        instance=instance, resources={"index": IndexResource(url=mongo_url, database=db)}
    )
    result = partition_retirement_sensor(context)
    if isinstance(result, SensorResult):  # what the daemon does with the sensor's requests
        for request in result.dynamic_partitions_requests or []:
            for key in request.partition_keys or []:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    return result


def test_finished_networks_lose_their_partitions_not_their_history(
    index: Index, mongo_url: str, mongo_db_name: str
) -> None:
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(tasks_partitions.name, [*TASKS, "Task-not-in-the-index"])
        instance.report_runless_asset_event(
            AssetMaterialization(asset_key="simulation", partition="Task-done-1")
        )

        result = _tick(instance, mongo_url, mongo_db_name)
        assert isinstance(result, SensorResult)
        left = set(instance.get_dynamic_partitions(tasks_partitions.name))
        assert left == {"Task-shared", "Task-busy-1", "Task-busy-2", "Task-failed"}

        # the retired partition's materialisation is still found by its partition key
        records = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey("simulation"), asset_partitions=["Task-done-1"]), limit=10
        ).records
        assert [r.partition_key for r in records] == ["Task-done-1"]

        # nothing more to retire while "busy" runs; once it finishes, its tasks and the shared one go
        assert isinstance(_tick(instance, mongo_url, mongo_db_name), SkipReason)
        index.tasks.coll.update_one({"_id": "Task-busy-2"}, {"$set": {"status": "complete"}})
        assert isinstance(_tick(instance, mongo_url, mongo_db_name), SensorResult)
        assert instance.get_dynamic_partitions(tasks_partitions.name) == ["Task-failed"]


def test_retirable_honours_its_limit(index: Index) -> None:
    keys = list(TASKS)
    assert retirable(index.tasks, keys) == ["Task-done-1", "Task-done-2"]
    assert retirable(index.tasks, keys, limit=1) == ["Task-done-1"]
