"""The one ``Definitions`` object of fepflow's Dagster code location.

Issue-by-issue this grows: sensors that pick up submitted tasks, the partitioned simulation asset,
and the per-transformation and per-network estimates. Today it holds the stores as resources and
a health check job, so Dagit, the daemon and ``dagster definitions validate`` load it.
(No ``from __future__ import annotations`` here: Dagster reads the ``context`` annotation at runtime.)
"""

from dagster import Definitions, OpExecutionContext, in_process_executor, job, op

from orchestrator.resources import IndexResource, ObjectStoreResource, resources_from_env


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


defs = Definitions(jobs=[store_check], resources=resources_from_env())
