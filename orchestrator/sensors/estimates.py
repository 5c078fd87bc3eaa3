"""The estimates sensor: a run of the roll-ups whenever tasks have completed since the last one.

(No ``from __future__ import annotations``: Dagster reads the ``context`` annotations at runtime.)
"""

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from orchestrator.jobs import update_estimates
from orchestrator.resources import IndexResource


@sensor(
    name="estimates_sensor",
    job=update_estimates,
    minimum_interval_seconds=15,
    default_status=DefaultSensorStatus.RUNNING,
    description="Refreshes the estimates, network summaries and relative network estimates when new results "
    "have been indexed.",
)
def estimates_sensor(context: SensorEvaluationContext, index: IndexResource) -> RunRequest | SkipReason:
    with index.session() as idx:
        completion = idx.tasks.last_completion()
    if completion is None:
        return SkipReason("no results yet")
    n_complete, finished_at = completion
    mark = f"{n_complete}@{finished_at}"
    if mark == context.cursor:
        return SkipReason("no new results")
    context.update_cursor(mark)
    return RunRequest(run_key=mark)
