"""The one ``Definitions`` object of fepflow's Dagster code location: wiring only.

Lineage in Dagit: ``simulation`` (one partition per task) -> ``transformation_estimates`` ->
``network_summaries`` and ``network_estimates``. The task sensor schedules simulations; the estimates sensor refreshes the
downstream assets as results land; the failure sensor requeues tasks whose worker died; the
allocation sensor adds repeats where they lower a network's per-ligand uncertainty most (networks
that opted in), reporting its decisions as ``allocation_decisions``.
"""

from dagster import Definitions, in_process_executor

from orchestrator.assets import network_estimates, network_summaries, simulation, transformation_estimates
from orchestrator.jobs import simulate, simulate_celery, simulate_k8s, store_check, update_estimates
from orchestrator.partitions import partition_retirement_sensor
from orchestrator.resources import resources_from_env
from orchestrator.sensors import (
    allocation_decisions,
    allocation_sensor,
    estimates_sensor,
    simulation_failure_sensor,
    task_sensor,
)

defs = Definitions(
    assets=[simulation, transformation_estimates, network_summaries, network_estimates, allocation_decisions],
    jobs=[store_check, simulate, simulate_celery, simulate_k8s, update_estimates],
    sensors=[
        task_sensor,
        simulation_failure_sensor,
        estimates_sensor,
        partition_retirement_sensor,
        allocation_sensor,
    ],
    resources=resources_from_env(),
    executor=in_process_executor,
)
