"""Sensors: the task sensor turns waiting tasks into runs; the others keep the index and Dagster in step.

Nothing here can launch a task twice. A task is claimed (waiting -> scheduled) by one conditional
update before its run is requested, and its ``run_key`` is the task key plus its attempt count, which
Dagster refuses to launch twice for this sensor. A tick that dies after claiming but before its runs
were submitted leaves tasks ``scheduled``: the next ticks request them again with the same run key,
which launches each of them exactly once.

(No ``from __future__ import annotations``: Dagster reads the ``context`` annotations at runtime.)
"""

import json
from datetime import timedelta
from typing import Any

from dagster import (
    AddDynamicPartitionsRequest,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from fepflow.models.tasks import Task, utcnow
from fepflow.runner import requeue_stale
from fepflow.settings import EngineSettings, OrchestratorSettings
from fepflow.store.index import Index
from fepflow.store.tasks import TaskQueue
from orchestrator.jobs import SIMULATION_JOBS, simulate, simulate_celery, simulate_k8s, update_estimates
from orchestrator.partitions import tasks_partitions
from orchestrator.resources import IndexResource

RESUBMIT_AFTER_S = 30.0
"""A task still ``scheduled`` this long after its claim has its run requested again (same run key)."""


def _interval() -> int:
    # read when the code location loads (Dagster fixes a sensor's interval then); default 5 s
    return OrchestratorSettings().sensor_interval_s


def run_key(task: Task) -> str:
    return f"{task.key}:{task.attempts}"


def run_request(task: Task, job_name: str) -> RunRequest:
    return RunRequest(
        run_key=run_key(task),
        partition_key=task.key,
        job_name=job_name,
        tags={
            "dagster/priority": str(task.priority),
            "fepflow/kind": "simulation",
            "fepflow/task": task.key,
            "fepflow/transformation": task.transformation_key,
            "fepflow/attempt": str(task.attempts),
        },
    )


def _terminate_cancelled(context: SensorEvaluationContext, tasks: TaskQueue) -> int:
    """Stop the runs of tasks cancelled in the index while they were scheduled or running."""
    stopped = 0
    for key, run_id in tasks.cancelled_runs(limit=100):
        run = context.instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished and run.status != DagsterRunStatus.CANCELING:
            context.instance.run_coordinator.cancel_run(run.run_id)
            stopped += 1
        tasks.forget_run(key)
    return stopped


@sensor(
    name="task_sensor",
    jobs=[simulate, simulate_celery, simulate_k8s],
    minimum_interval_seconds=_interval(),
    default_status=DefaultSensorStatus.RUNNING,
    description="Schedules waiting tasks from MongoDB: one dynamic partition and one run per task.",
)
def task_sensor(context: SensorEvaluationContext, index: IndexResource) -> SensorResult | SkipReason:
    settings = OrchestratorSettings()
    engine = EngineSettings()
    job_name = SIMULATION_JOBS[settings.executor]
    idx = index.open()
    try:
        requeued = requeue_stale(idx, engine.stale_after_s)
        stopped = _terminate_cancelled(context, idx.tasks)
        cutoff = utcnow() - timedelta(seconds=RESUBMIT_AFTER_S)
        pending = idx.tasks.scheduled_before(cutoff, limit=settings.batch_size)
        claimed = idx.tasks.claim(limit=settings.batch_size)
    finally:
        idx.close()
    tasks = pending + claimed
    cursor = json.loads(context.cursor) if context.cursor else {"scheduled": 0}
    cursor["scheduled"] = int(cursor.get("scheduled", 0)) + len(claimed)
    cursor["last_tick"] = utcnow().isoformat()
    context.update_cursor(json.dumps(cursor))
    if not tasks:
        note = f"no waiting tasks ({len(requeued)} stale requeued, {stopped} cancelled runs stopped)"
        return SkipReason(note)
    context.log.info(
        f"{len(claimed)} tasks claimed, {len(pending)} re-requested, {len(requeued)} stale requeued, "
        f"{stopped} cancelled runs stopped; job {job_name}"
    )
    return SensorResult(
        run_requests=[run_request(t, job_name) for t in tasks],
        dynamic_partitions_requests=[
            AddDynamicPartitionsRequest(
                partitions_def_name=tasks_partitions.name, partition_keys=[t.key for t in tasks]
            )
        ],
    )


@run_failure_sensor(
    name="simulation_failure_sensor",
    monitored_jobs=[simulate, simulate_celery, simulate_k8s],
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
    description="A simulation run that failed while its task was still running (its worker died) "
    "puts the task back in waiting, to resume from its checkpoint, up to FEPFLOW_ENGINE_MAX_ATTEMPTS.",
)
def simulation_failure_sensor(context: RunFailureSensorContext, index: IndexResource) -> None:
    key = context.dagster_run.tags.get("fepflow/task") or context.dagster_run.tags.get("dagster/partition")
    if not key:
        return
    idx = index.open()
    try:
        handle_failed_run(idx, key, context.dagster_run.run_id, EngineSettings().max_attempts, context.log)
    finally:
        idx.close()


def handle_failed_run(idx: Index, key: str, run_id: str, max_attempts: int, log: Any) -> str:
    """Fail and (attempts permitting) requeue a task its failed run left ``running`` (the task
    queue's policy, :meth:`TaskQueue.fail_dead_run`); log and say what was done."""
    failure = idx.tasks.fail_dead_run(key, run_id, max_attempts=max_attempts)
    if failure.outcome == "error":
        log.warning(f"task {key}: run {run_id} failed; {failure.attempts} attempts made, left in error")
    elif failure.outcome == "requeued":
        log.info(
            f"task {key}: run {run_id} failed mid-simulation; back to waiting, it resumes from its checkpoint"
        )
    return failure.outcome


@sensor(
    name="estimates_sensor",
    job=update_estimates,
    minimum_interval_seconds=15,
    default_status=DefaultSensorStatus.RUNNING,
    description="Refreshes the estimates and network summaries when new results have been indexed.",
)
def estimates_sensor(context: SensorEvaluationContext, index: IndexResource) -> RunRequest | SkipReason:
    idx = index.open()
    try:
        completion = idx.tasks.last_completion()
    finally:
        idx.close()
    if completion is None:
        return SkipReason("no results yet")
    n_complete, finished_at = completion
    mark = f"{n_complete}@{finished_at}"
    if mark == context.cursor:
        return SkipReason("no new results")
    context.update_cursor(mark)
    return RunRequest(run_key=mark)
