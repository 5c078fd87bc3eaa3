"""Module-level job factories for processes that rebuild a job from a pointer (``reconstructable``):
scripts and tests that launch a simulation run outside the webserver and daemon."""

from dagster import JobDefinition


def simulate_celery_job() -> JobDefinition:
    from orchestrator.definitions import defs

    return defs.resolve_job_def("simulate_celery")


def simulate_job() -> JobDefinition:
    from orchestrator.definitions import defs

    return defs.resolve_job_def("simulate")
