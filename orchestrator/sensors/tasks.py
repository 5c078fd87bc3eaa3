"""The task sensor: waiting tasks become runs of the simulation job, one partition each.

Nothing here can launch a task twice. A task is claimed (waiting -> scheduled) by one conditional
update before its run is requested, and its ``run_key`` is the task key plus its attempt count, which
Dagster refuses to launch twice for this sensor. A tick that dies after claiming but before its runs
were submitted leaves tasks ``scheduled``: the next ticks request them again with the same run key,
which launches each of them exactly once.

(No ``from __future__ import annotations``: Dagster reads the ``context`` annotations at runtime.)
"""

import json
from datetime import timedelta

from dagster import (
    AddDynamicPartitionsRequest,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from fepflow.models.tasks import Task, utcnow
from fepflow.runner import remove_orphans, requeue_stale
from fepflow.settings import EngineSettings, OrchestratorSettings
from fepflow.store.tasks import TaskQueue
from orchestrator.jobs import SIMULATION_JOBS, simulate, simulate_celery, simulate_k8s
from orchestrator.k8s import k8s_run
from orchestrator.partitions import tasks_partitions
from orchestrator.resources import IndexResource

RESUBMIT_AFTER_S = 30.0
"""A task still ``scheduled`` this long after its claim has its run requested again (same run key)."""
ORPHAN_SWEEP_S = 600.0
"""Seconds between sweeps of result and DRS documents that no task's result owns (a crash mid-record)."""


def _interval() -> int:
    # read when the code location loads (Dagster fixes a sensor's interval then); default 5 s
    return OrchestratorSettings().sensor_interval_s


def run_key(task: Task) -> str:
    return f"{task.key}:{task.attempts}"


def run_request(task: Task, job_name: str) -> RunRequest:
    k8s = k8s_run(job_name)  # Kubernetes: the step pods' GPU and placement, the run pod's tag
    return RunRequest(
        run_key=run_key(task),
        partition_key=task.key,
        job_name=job_name,
        run_config=k8s.run_config,
        tags={
            **k8s.tags,
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
    cursor = json.loads(context.cursor) if context.cursor else {"scheduled": 0}
    with index.session() as idx:
        requeued = requeue_stale(idx, engine.stale_after_s, max_attempts=engine.max_attempts)
        stopped = _terminate_cancelled(context, idx.tasks)
        cutoff = utcnow() - timedelta(seconds=RESUBMIT_AFTER_S)
        pending = idx.tasks.scheduled_before(cutoff, limit=settings.batch_size)
        claimed = idx.tasks.claim(limit=settings.batch_size)
        if utcnow().timestamp() - float(cursor.get("orphans_swept_at", 0)) >= ORPHAN_SWEEP_S:
            cursor["orphans_removed"] = int(cursor.get("orphans_removed", 0)) + remove_orphans(
                idx, max(engine.stale_after_s, RESUBMIT_AFTER_S)
            )
            cursor["orphans_swept_at"] = utcnow().timestamp()
    tasks = pending + claimed
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
