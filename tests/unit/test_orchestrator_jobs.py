"""Executors and routing of the simulation jobs: checked against Dagster's own config validation."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from dagster import DagsterInvalidConfigError, validate_run_config

from orchestrator.assets.simulation import GPU_STEP_TAGS, simulation
from orchestrator.definitions import defs
from orchestrator.jobs import K8S_RUN_CONFIG, SIMULATION_JOBS, celery_executor_config
from orchestrator.transient import is_transient


@pytest.fixture(autouse=True)
def dev_environment(monkeypatch: pytest.MonkeyPatch, repo_root: Any) -> None:
    """The variables of .env.dev, as a deployment sets them (resources read them through EnvVar)."""
    for line in (repo_root / ".env.dev").read_text().splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            monkeypatch.setenv(name.strip(), value.strip())


def _k8s_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(K8S_RUN_CONFIG.read_text())
    return config


def test_k8s_run_config_requests_a_gpu_per_step_and_validates() -> None:
    job = defs.resolve_job_def("simulate_k8s")
    config = _k8s_config()
    limits = config["execution"]["config"]["step_k8s_config"]["container_config"]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "1"
    validated = validate_run_config(job, config)
    executor = validated["execution"]["k8s"]
    assert executor["job_namespace"] == "fepflow"
    assert executor["step_k8s_config"]["container_config"]["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_k8s_run_config_with_a_misspelt_field_is_refused() -> None:
    job = defs.resolve_job_def("simulate_k8s")
    config = copy.deepcopy(_k8s_config())
    config["execution"]["config"]["step_k8s_config"]["container_cfg"] = config["execution"]["config"][
        "step_k8s_config"
    ].pop("container_config")
    with pytest.raises(DagsterInvalidConfigError, match="container_cfg"):
        validate_run_config(job, config)


def test_simulation_steps_are_routed_to_gpus() -> None:
    tags = simulation.op.tags
    assert tags["dagster-celery/queue"] == "gpu"
    assert (
        GPU_STEP_TAGS["dagster-k8s/config"]["container_config"]["resources"]["limits"]["nvidia.com/gpu"]
        == "1"
    )
    assert simulation.op.pool == "gpu"


def test_celery_executor_reads_the_workers_broker_settings() -> None:
    config = celery_executor_config()
    assert config["broker"] == {"env": "FEPFLOW_CELERY_BROKER_URL"}
    assert config["config_source"]["worker_prefetch_multiplier"] == 1
    job = defs.resolve_job_def("simulate_celery")
    assert job.executor_def.name == "fepflow_celery"
    assert {name: defs.resolve_job_def(name).name for name in SIMULATION_JOBS.values()} == {
        "simulate": "simulate",
        "simulate_celery": "simulate_celery",
        "simulate_k8s": "simulate_k8s",
    }


def test_transient_errors_are_told_from_simulation_failures() -> None:
    from pymongo.errors import AutoReconnect

    from fepflow.engine.errors import SimulationError

    try:
        try:
            raise AutoReconnect("connection reset")
        except AutoReconnect as inner:
            raise RuntimeError("publishing failed") from inner
    except RuntimeError as outer:
        assert is_transient(outer)
    assert is_transient(ConnectionRefusedError())
    assert not is_transient(SimulationError("exploded", state_index=2, iteration=3))
    assert not is_transient(ValueError("bad settings"))
