"""What the task sensor attaches to each run of ``simulate_k8s`` (Kubernetes: K8sRunLauncher + k8s_job_executor).

- run config from ``k8s-run-config.yaml``: the executor's ``step_k8s_config``, so the step pod that
  simulates gets its GPU limit, node selector and tolerations (run tags do not reach step pods:
  dagster-k8s merges only the executor config and the op's tags into them);
- the ``dagster-k8s/config`` run tag from ``k8s-run-pod.yaml``: the run pod, which only orchestrates
  the step, gets small CPU and memory requests and no GPU.

Both files are read from ``FEPFLOW_ORCHESTRATOR_K8S_CONFIG_DIR`` (the Helm values mount a ConfigMap
there) or else from ``deploy/`` beside the code; each is re-read when it changes.
"""

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DEPLOY_DIR = Path(__file__).resolve().parents[1] / "deploy"
RUN_CONFIG_FILE = "k8s-run-config.yaml"
RUN_POD_FILE = "k8s-run-pod.yaml"
K8S_CONFIG_TAG = "dagster-k8s/config"


@dataclass(frozen=True)
class K8sRun:
    """The run config and tags of one simulation run on Kubernetes (empty for the other executors)."""

    run_config: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)


def config_dir() -> Path:
    """Where the two files are read from, now."""
    return Path(os.environ.get("FEPFLOW_ORCHESTRATOR_K8S_CONFIG_DIR") or DEPLOY_DIR)


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a mapping")
    return data


def load(name: str) -> dict[str, Any]:
    """One of the two files of :func:`config_dir`, parsed (cached until the file changes)."""
    path = config_dir() / name
    try:
        return _load(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is missing: the Kubernetes run configuration of simulate_k8s"
        ) from None


def k8s_run(job_name: str) -> K8sRun:
    """What a run of ``job_name`` needs on Kubernetes: nothing unless it is ``simulate_k8s``."""
    if job_name != "simulate_k8s":
        return K8sRun()
    return K8sRun(run_config=load(RUN_CONFIG_FILE), tags={K8S_CONFIG_TAG: json.dumps(load(RUN_POD_FILE))})
