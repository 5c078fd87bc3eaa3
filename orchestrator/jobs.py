"""Jobs and their executors: one simulation job per way of running simulations, the roll-ups, and a
check of the stores.

- ``simulate``: the embedded default; the step runs inside the run worker (no second interpreter).
- ``simulate_celery``: steps go to dagster-celery workers on queue ``gpu``, one worker per GPU.
- ``simulate_k8s``: each step is a Kubernetes job asking for ``nvidia.com/gpu``.
- ``update_estimates``: the roll-ups (estimates, network summaries, relative network estimates);
  ``store_check``: are the stores there?

The task sensor picks one with ``FEPFLOW_ORCHESTRATOR_EXECUTOR`` (read at each tick).
"""

from pathlib import Path
from typing import Any

import yaml
from dagster import AssetSelection, OpExecutionContext, define_asset_job, in_process_executor, job, op
from dagster_celery import celery_executor
from dagster_k8s import k8s_job_executor

from orchestrator.resources import IndexResource, ObjectStoreResource

CELERY_CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "celery.yaml"
K8S_RUN_CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "k8s-run-config.yaml"


def celery_executor_config() -> dict[str, Any]:
    """The celery executor's config: the same file the GPU workers start with (deploy/celery.yaml)."""
    config: dict[str, Any] = yaml.safe_load(CELERY_CONFIG.read_text())["execution"]["config"]
    return config


simulation_selection = AssetSelection.assets("simulation")

simulate = define_asset_job(
    "simulate",
    selection=simulation_selection,
    executor_def=in_process_executor,
    description="Simulate one task in the run worker (embedded default).",
)

simulate_celery = define_asset_job(
    "simulate_celery",
    selection=simulation_selection,
    executor_def=celery_executor.configured(celery_executor_config(), name="fepflow_celery"),
    description="Simulate one task on a dagster-celery GPU worker (queue 'gpu').",
)

simulate_k8s = define_asset_job(
    "simulate_k8s",
    selection=simulation_selection,
    executor_def=k8s_job_executor,
    description="Simulate one task as a Kubernetes job with one GPU (see deploy/k8s-run-config.yaml).",
)

update_estimates = define_asset_job(
    "update_estimates",
    selection=AssetSelection.assets("transformation_estimates", "network_summaries", "network_estimates"),
    executor_def=in_process_executor,
    description="Gather completed repeats into estimates; refresh the network summaries and the relative "
    "networks' estimates.",
)

SIMULATION_JOBS = {"in_process": "simulate", "celery": "simulate_celery", "k8s": "simulate_k8s"}


@op(description="Ping MongoDB and round-trip a small object through the object store.")
def check_stores(context: OpExecutionContext, index: IndexResource, objects: ObjectStoreResource) -> None:
    with index.session() as idx:
        idx.ping()
        idx.ensure_indexes()
        counts = idx.count_documents()
    ref = objects.open().put_bytes(b"fepflow store check\n")
    context.log.info(f"index reachable, documents per collection: {counts}; object store wrote {ref.key}")


@job(executor_def=in_process_executor, description="Check that the index and object store are reachable.")
def store_check() -> None:
    check_stores()
