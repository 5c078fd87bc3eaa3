"""The one ``Definitions`` object of fepflow's Dagster code location.

Lineage in Dagit: ``simulation`` (one partition per task) -> ``transformation_estimates`` ->
``network_summaries``. The task sensor schedules simulations; the estimates sensor refreshes the
downstream assets as results land; the failure sensor requeues tasks whose worker died.
(No ``from __future__ import annotations`` here: Dagster reads the ``context`` annotation at runtime.)
"""

from dagster import Definitions, OpExecutionContext, in_process_executor, job, op

from orchestrator.estimates import network_summaries, transformation_estimates
from orchestrator.jobs import simulate, simulate_celery, simulate_k8s, update_estimates
from orchestrator.resources import IndexResource, ObjectStoreResource, resources_from_env
from orchestrator.sensors import estimates_sensor, simulation_failure_sensor, task_sensor
from orchestrator.simulation import simulation


@op(description="Ping MongoDB and round-trip a small object through the object store.")
def check_stores(context: OpExecutionContext, index: IndexResource, objects: ObjectStoreResource) -> None:
    idx = index.open()
    try:
        idx.ping()
        idx.ensure_indexes()
        counts = idx.count_documents()
    finally:
        idx.close()
    ref = objects.open().put_bytes(b"fepflow store check\n")
    context.log.info(f"index reachable, documents per collection: {counts}; object store wrote {ref.key}")


@job(executor_def=in_process_executor, description="Check that the index and object store are reachable.")
def store_check() -> None:
    check_stores()


defs = Definitions(
    assets=[simulation, transformation_estimates, network_summaries],
    jobs=[store_check, simulate, simulate_celery, simulate_k8s, update_estimates],
    sensors=[task_sensor, simulation_failure_sensor, estimates_sensor],
    resources=resources_from_env(),
    executor=in_process_executor,
)
