"""Kubernetes: fepflow's manifests, the Dagster chart values and the pods the task sensor's runs become,
validated offline against Kubernetes' JSON schemas (kubernetes-validate, strict: unknown fields fail).

The run and step pods are rendered by dagster-k8s's own code (``construct_dagster_k8s_job``) from what the
sensor sends (run config and ``dagster-k8s/config`` tag) and the simulation step's op tags, as the
K8sRunLauncher and the k8s_job_executor build them in a cluster.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes
import kubernetes_validate
import pytest
import yaml
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import DagsterK8sJobConfig, UserDefinedDagsterK8sConfig, construct_dagster_k8s_job

from fepflow.models.tasks import Task
from orchestrator.assets.simulation import GPU_STEP_TAGS
from orchestrator.k8s import K8S_CONFIG_TAG, k8s_run
from orchestrator.sensors.tasks import run_request

ROOT = Path(__file__).resolve().parents[2]
HELM = ROOT / "deploy" / "helm"
K8S_VERSION = "1.30.0"


def _validate(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_fepflow_manifests_are_valid_kubernetes_objects() -> None:
    docs = _documents(HELM / "fepflow.yaml")
    assert {d["kind"] for d in docs} == {"ConfigMap", "Deployment", "Service", "Ingress"}
    for doc in docs:
        _validate(doc)


def test_a_misspelt_field_is_caught() -> None:
    (deployment,) = [d for d in _documents(HELM / "fepflow.yaml") if d["kind"] == "Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(deployment)


def test_the_ingress_publishes_the_hub_and_the_read_only_dagit_only() -> None:
    (ingress,) = [d for d in _documents(HELM / "fepflow.yaml") if d["kind"] == "Ingress"]
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"fepflow-hub", "dagster-webserver-read-only"}
    values = yaml.safe_load((HELM / "dagster-values.yaml").read_text())
    assert values["dagsterWebserver"]["enableReadOnly"] is True
    assert values["ingress"]["enabled"] is False  # the chart's Ingress would route to the writable UI


def test_chart_values_run_fepflows_code_location_with_the_k8s_run_launcher() -> None:
    values = yaml.safe_load((HELM / "dagster-values.yaml").read_text())
    (code,) = values["dagster-user-deployments"]["deployments"]
    args = code["dagsterApiGrpcArgs"]
    assert args[args.index("--module-name") + 1] == "orchestrator.definitions"
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert [c["name"] for c in code["envConfigMaps"]] == ["fepflow-env"]
    mount = code["volumeMounts"][0]["mountPath"]
    assert {"name": "FEPFLOW_ORCHESTRATOR_K8S_CONFIG_DIR", "value": mount} in code["env"]
    # the pieces the chart copies into pod specs are valid Kubernetes
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "fepflow-code-location"},
        "spec": {
            "securityContext": code["podSecurityContext"],
            "volumes": code["volumes"],
            "containers": [
                {
                    "name": "fepflow",
                    "image": f"{code['image']['repository']}:{code['image']['tag']}",
                    "resources": code["resources"],
                    "env": code["env"],
                    "volumeMounts": code["volumeMounts"],
                }
            ],
        },
    }
    _validate(pod)
    env = yaml.safe_load_all((HELM / "fepflow.yaml").read_text())
    config = next(d for d in env if d and d["kind"] == "ConfigMap")["data"]
    assert config["FEPFLOW_ORCHESTRATOR_EXECUTOR"] == "k8s"
    assert config["FEPFLOW_ENGINE_CHECKPOINTS_IN_STORE"] == "true"


def _job(user_config: UserDefinedDagsterK8sConfig, name: str) -> dict[str, Any]:
    job_config = DagsterK8sJobConfig(
        job_image="registry.example.org/fepflow:0.1.0",
        dagster_home="/opt/dagster/dagster_home",
        instance_config_map="dagster-instance",
        env_config_maps=["fepflow-env"],
        env_secrets=["fepflow-secrets"],
    )
    job = construct_dagster_k8s_job(job_config, ["dagster", "api", "execute_run"], name, user_config)
    doc: dict[str, Any] = kubernetes.client.ApiClient().sanitize_for_serialization(job)
    doc.setdefault("apiVersion", "batch/v1")
    doc.setdefault("kind", "Job")
    return doc


def _task() -> Task:
    return Task(key="Task-" + "a" * 64, transformation_key="Transformation-" + "b" * 64, repeat=0)


def test_the_sensor_sends_the_k8s_config_and_the_pods_it_becomes_are_valid() -> None:
    request = run_request(_task(), "simulate_k8s")
    assert request.run_config == k8s_run("simulate_k8s").run_config
    run_pod = UserDefinedDagsterK8sConfig.from_dict(json.loads(request.tags[K8S_CONFIG_TAG]))
    run_job = _job(run_pod, "dagster-run-1")
    _validate(run_job)
    assert "nvidia.com/gpu" not in json.dumps(run_job)  # the run pod only orchestrates

    # the step pod, merged as the k8s_job_executor merges: executor config, then the op's tags
    step_config = request.run_config["execution"]["config"]["step_k8s_config"]  # type: ignore[index]
    context = K8sContainerContext(run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(step_config)).merge(
        K8sContainerContext(
            run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(GPU_STEP_TAGS[K8S_CONFIG_TAG])
        )
    )
    step_job = _job(context.run_k8s_config, "dagster-step-1")
    _validate(step_job)
    pod = step_job["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}


def test_other_executors_get_no_k8s_config() -> None:
    for job in ("simulate", "simulate_celery"):
        request = run_request(_task(), job)
        assert K8S_CONFIG_TAG not in request.tags and not request.run_config


def test_the_k8s_config_is_read_from_the_mounted_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("k8s-run-config.yaml", "k8s-run-pod.yaml"):
        (tmp_path / name).write_text((ROOT / "deploy" / name).read_text())
    pod = yaml.safe_load((tmp_path / "k8s-run-pod.yaml").read_text())
    pod["container_config"]["resources"]["requests"]["cpu"] = "100m"
    (tmp_path / "k8s-run-pod.yaml").write_text(yaml.safe_dump(pod))
    monkeypatch.setenv("FEPFLOW_ORCHESTRATOR_K8S_CONFIG_DIR", str(tmp_path))
    tag = json.loads(k8s_run("simulate_k8s").tags[K8S_CONFIG_TAG])
    assert tag["container_config"]["resources"]["requests"]["cpu"] == "100m"
    (tmp_path / "k8s-run-pod.yaml").unlink()
    with pytest.raises(FileNotFoundError, match=r"k8s-run-pod\.yaml"):
        k8s_run("simulate_k8s")
