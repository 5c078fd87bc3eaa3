"""The failure sensor: a simulation run that died while its task was running hands the task back to
the task queue, whose policy (:meth:`fepflow.store.tasks.TaskQueue.fail_dead_run`) fails it and,
attempts permitting, requeues it to resume from its checkpoint.

(No ``from __future__ import annotations``: Dagster reads the ``context`` annotations at runtime.)
"""

from typing import Any

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from fepflow.settings import EngineSettings
from fepflow.store.index import Index
from orchestrator.jobs import simulate, simulate_celery, simulate_k8s
from orchestrator.resources import IndexResource


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
    with index.session() as idx:
        handle_failed_run(idx, key, context.dagster_run.run_id, EngineSettings().max_attempts, context.log)


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
