"""One dynamic partition per task (the partition key is the task's key in the index), and their retirement.

Each task adds a partition to ``tasks``; Dagster advises at most about 100,000 per asset. The
retirement sensor removes the partitions of tasks that are finished for good: every task of every
network the task belongs to is complete or cancelled (a terminal state, nothing runs it again). Only the
partition key goes: the runs and the ``simulation`` materialisations stay in Dagster's event log,
still found by partition key (``instance.fetch_materializations`` with ``asset_partitions``, and the
asset's event list in Dagit), and the index keeps the task and its result. A retired task that runs
again (a repeat added to a finished network makes it unfinished; ``fepflow extend``) gets its partition
back from the task sensor, which adds the partition of every run it requests.
"""

from collections.abc import Iterable, Sequence

from dagster import (
    DefaultSensorStatus,
    DeleteDynamicPartitionsRequest,
    DynamicPartitionsDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from fepflow.models.states import TERMINAL
from fepflow.store.batched import find_in
from fepflow.store.tasks import TaskQueue
from orchestrator.resources import IndexResource

tasks_partitions = DynamicPartitionsDefinition(name="tasks")

RETIRE_INTERVAL_S = 600
"""Seconds between ticks of the retirement sensor: partitions only need to stop growing, not vanish at once."""
RETIRE_BATCH = 5000
"""Partitions retired per tick at most (one delete request each; the next tick takes the rest)."""

_TERMINAL = sorted(state.value for state in TERMINAL)


def _unfinished_networks(tasks: TaskQueue, networks: Iterable[str]) -> set[str]:
    """Those of ``networks`` with a task that is not terminal (waiting, scheduled, running, error)."""
    return {
        net
        for net in set(networks)
        if tasks.coll.find_one({"networks": net, "status": {"$nin": _TERMINAL}}, {"_id": 1}) is not None
    }


def retirable(tasks: TaskQueue, partition_keys: Sequence[str], *, limit: int = RETIRE_BATCH) -> list[str]:
    """The partition keys whose task is terminal and whose every network is finished, in key order.

    A key with no task in the index (removed, or never a task) is retirable too: nothing can run it.
    """
    docs = {
        str(d["_id"]): d for d in find_in(tasks.coll, "_id", partition_keys, {"status": 1, "networks": 1})
    }
    terminal = {key: doc for key, doc in docs.items() if doc.get("status") in _TERMINAL}
    unfinished = _unfinished_networks(
        tasks, (n for doc in terminal.values() for n in doc.get("networks") or [])
    )
    keys = [key for key in partition_keys if key not in docs]
    keys += [key for key, doc in terminal.items() if not unfinished.intersection(doc.get("networks") or [])]
    return sorted(keys)[:limit]


@sensor(
    name="partition_retirement_sensor",
    minimum_interval_seconds=RETIRE_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="Removes the task partitions of finished networks; their runs and materialisations stay in "
    "the event log.",
)
def partition_retirement_sensor(
    context: SensorEvaluationContext, index: IndexResource
) -> SensorResult | SkipReason:
    existing = context.instance.get_dynamic_partitions(tasks_partitions.name)
    if not existing:
        return SkipReason("no task partitions")
    with index.session() as idx:
        keys = retirable(idx.tasks, existing)
    if not keys:
        return SkipReason(f"{len(existing)} task partitions, none of a finished network")
    context.log.info(f"retiring {len(keys)} of {len(existing)} task partitions (finished networks)")
    return SensorResult(
        dynamic_partitions_requests=[
            DeleteDynamicPartitionsRequest(partitions_def_name=tasks_partitions.name, partition_keys=keys)
        ]
    )
