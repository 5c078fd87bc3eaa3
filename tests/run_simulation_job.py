"""Launch one simulation run for a task: ``python tests/run_simulation_job.py JOB TASK_KEY``.

Runs outside the test process because Dagster's run execution wants a main thread of its own; the
instance comes from DAGSTER_HOME and the stores from the FEPFLOW_* variables, as on a deployment.
"""

from __future__ import annotations

import sys

from dagster import DagsterInstance, execute_job, reconstructable

from orchestrator import reconstruct


def main(job: str, key: str) -> int:
    factory = {"simulate_celery": reconstruct.simulate_celery_job, "simulate": reconstruct.simulate_job}[job]
    with DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("tasks", [key])
        result = execute_job(reconstructable(factory), instance=instance, tags={"dagster/partition": key})
        print(f"run {result.run_id} {'succeeded' if result.success else 'failed'}", flush=True)
        return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
