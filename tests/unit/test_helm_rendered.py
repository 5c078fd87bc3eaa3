"""Dagster's official Helm chart rendered with deploy/helm/dagster-values.yaml (tests/data/helm/rendered.yaml).

The snapshot is made by deploy/helm/render.py from a helm binary and the chart; its header records the chart
and helm versions and the sha256 of the values file it was rendered from. These tests validate every
rendered manifest offline against Kubernetes' schemas (kubernetes-validate, strict), fail when the values
changed without a re-render, and check what issue 18 asks of the deployment: fepflow's code location as a
user-code deployment of fepflow's image, the K8sRunLauncher, GPU requests and tolerations reaching the
simulation's step pods as the task sensor sends them, the read-only webserver published, the hub as its own
Deployment (deploy/helm/fepflow.yaml), and no PostgreSQL password in the manifests.

The run and step pods are built by dagster-k8s's own code from the *rendered* instance config (the
K8sRunLauncher's), the code location's rendered container context and what the sensor sends.

Re-rendering needs helm and the chart, which CI has neither of (neither can be downloaded there): with
FEPFLOW_HELM (a helm binary) and FEPFLOW_DAGSTER_CHART (the chart's .tgz or folder) set,
``test_a_fresh_render_matches_the_snapshot`` renders again and compares; otherwise it is skipped.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes
import kubernetes_validate
import pytest
import yaml
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._core.storage.dagster_run import DagsterRun
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import UserDefinedDagsterK8sConfig, construct_dagster_k8s_job
from dagster_k8s.launcher import K8sRunLauncher

from fepflow.models.tasks import Task
from orchestrator.assets.simulation import GPU_STEP_TAGS
from orchestrator.k8s import K8S_CONFIG_TAG
from orchestrator.sensors.tasks import run_request

ROOT = Path(__file__).resolve().parents[2]
HELM = ROOT / "deploy" / "helm"
VALUES = HELM / "dagster-values.yaml"
SNAPSHOT = ROOT / "tests" / "data" / "helm" / "rendered.yaml"
RERENDER = (
    "re-render it: python deploy/helm/render.py --helm PATH/TO/helm --chart PATH/TO/dagster-<version>.tgz "
    "(the chart of Dagster's Helm repository, or helm/dagster of Dagster's repository at the release tag)"
)


def _render_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fepflow_helm_render", HELM / "render.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


render = _render_module()


@cache
def _snapshot_text() -> str:
    return SNAPSHOT.read_text()


def _header() -> dict[str, str]:
    return render.read_header(_snapshot_text())


def _docs() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(render.manifests_of(_snapshot_text())) if d]


def _one(kind: str, **labels: str) -> dict[str, Any]:
    found = [
        d
        for d in _docs()
        if d["kind"] == kind and all(d["metadata"].get("labels", {}).get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, (
        f"expected one {kind} with {labels}, found {[d['metadata']['name'] for d in found]}"
    )
    return found[0]


def _named(kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in _docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def _values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text())


def _config_map_with(key: str) -> dict[str, Any]:
    (doc,) = [d for d in _docs() if d["kind"] == "ConfigMap" and key in (d.get("data") or {})]
    return doc


def _instance() -> dict[str, Any]:
    return yaml.safe_load(_config_map_with("dagster.yaml")["data"]["dagster.yaml"])


def _code_location() -> dict[str, Any]:
    return _one("Deployment", component="user-deployments")


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def test_the_snapshot_was_rendered_from_the_current_values() -> None:
    values_sha = hashlib.sha256(VALUES.read_bytes()).hexdigest()
    header = _header()
    assert header.get("values_sha256") == values_sha, (
        f"{SNAPSHOT.relative_to(ROOT)} was rendered from another {VALUES.relative_to(ROOT)} "
        f"(sha256 {header.get('values_sha256')}, now {values_sha}): {RERENDER}"
    )
    for key in ("chart", "helm", "kube_version", "release", "namespace"):
        assert header.get(key), f"the snapshot's header has no {key}: {RERENDER}"


def test_every_rendered_manifest_is_valid_kubernetes() -> None:
    docs = _docs()
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "ConfigMap", "ServiceAccount", "Role"}
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, _header()["kube_version"], strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {exc}")
        assert doc["metadata"].get("namespace") in (None, _header()["namespace"])


def test_fepflows_code_location_is_a_user_code_deployment_of_fepflows_image() -> None:
    (code,) = _values()["dagster-user-deployments"]["deployments"]
    image = f"{code['image']['repository']}:{code['image']['tag']}"
    deployment = _code_location()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == image
    args = container["args"]
    assert args[:3] == ["dagster", "api", "grpc"]
    assert args[args.index("--module-name") + 1] == "orchestrator.definitions"
    env = _env(container)
    assert env["DAGSTER_CURRENT_IMAGE"] == image  # the image the runs and step pods are launched with
    refs = [next(iter(ref.values()))["name"] for ref in container["envFrom"]]
    assert {"fepflow-env", "fepflow-secrets"} <= set(refs)
    # the sensor reads k8s-run-config.yaml and k8s-run-pod.yaml from the mounted ConfigMap
    mount = next(m for m in container["volumeMounts"] if m["name"] == "k8s-run")
    assert env["FEPFLOW_ORCHESTRATOR_K8S_CONFIG_DIR"] == mount["mountPath"]
    volume = next(v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "k8s-run")
    assert volume["configMap"]["name"] == "fepflow-k8s-run"
    # the workspace the webserver and daemon load points at this deployment's Service
    workspace = yaml.safe_load(_config_map_with("workspace.yaml")["data"]["workspace.yaml"])
    (server,) = [s["grpc_server"] for s in workspace["load_from"]]
    service = _named("Service", server["host"])
    assert service["spec"]["ports"][0]["port"] == server["port"] == code["port"]
    assert service["spec"]["selector"]["deployment"] == code["name"]


def test_runs_are_launched_by_the_k8s_run_launcher_behind_the_queue() -> None:
    instance = _instance()
    launcher = instance["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    assert launcher["config"]["job_namespace"] == _header()["namespace"]
    assert launcher["config"]["instance_config_map"] == _config_map_with("dagster.yaml")["metadata"]["name"]
    assert "fepflow-env" in launcher["config"]["env_config_maps"]
    coordinator = instance["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    limits = coordinator["config"]["tag_concurrency_limits"]
    assert {"key": "fepflow/kind", "value": "simulation", "limit": 8} in limits
    assert instance["run_storage"]["class"] == "PostgresRunStorage"
    assert instance["telemetry"] == {"enabled": False}


def test_webserver_and_daemon_run_the_dagster_of_fepflows_image() -> None:
    dagster = importlib.metadata.version("dagster")
    components = ["dagster-webserver", "dagster-webserver-read-only", "dagster-daemon"]
    for component in components:
        (container,) = _one("Deployment", component=component)["spec"]["template"]["spec"]["containers"]
        assert container["image"].endswith(f":{dagster}"), (component, container["image"])
    (read_only,) = _one("Deployment", component="dagster-webserver-read-only")["spec"]["template"]["spec"][
        "containers"
    ]
    assert "--read-only" in read_only["command"][-1]


def test_the_ingress_routes_to_services_that_exist_and_the_hub_is_its_own_deployment() -> None:
    ours = [d for d in yaml.safe_load_all((HELM / "fepflow.yaml").read_text()) if d]
    everything = _docs() + ours
    names = [(d["kind"], d["metadata"]["name"]) for d in everything]
    assert len(names) == len(set(names)), "fepflow.yaml and the chart name an object alike"
    services = {d["metadata"]["name"]: d for d in everything if d["kind"] == "Service"}
    (ingress,) = [d for d in ours if d["kind"] == "Ingress"]
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] in services, (
                f"the Ingress routes to {backend['name']}, which nothing creates"
            )
            ports = services[backend["name"]]["spec"]["ports"]
            assert any(backend["port"].get("number") in (p["port"], None) for p in ports)
    # the read-only webserver is published, the writable one is not
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    read_only = _one("Service", component="dagster-webserver-read-only")["metadata"]["name"]
    writable = _one("Service", component="dagster-webserver")["metadata"]["name"]
    assert read_only in backends and writable not in backends
    assert not [d for d in _docs() if d["kind"] == "Ingress"]
    # the hub: a Deployment of its own beside the chart's, not part of the code location
    hub = next(d for d in ours if d["kind"] == "Deployment")
    assert hub["metadata"]["name"] == "fepflow-hub"
    assert hub["metadata"]["name"] not in {
        d["metadata"]["name"] for d in _docs() if d["kind"] == "Deployment"
    }


def test_no_postgresql_password_in_plain_text() -> None:
    assert not [d for d in _docs() if d["kind"] == "Secret"]  # the password Secret is created by hand
    secret = _values()["global"]["postgresqlSecretName"]
    password_envs = 0
    for deployment in (d for d in _docs() if d["kind"] == "Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            value = _env(container).get("DAGSTER_PG_PASSWORD")
            if value is not None:
                password_envs += 1
                assert value == {"secretKeyRef": {"name": secret, "key": "postgresql-password"}}
    assert password_envs == 4  # webserver, read-only webserver, daemon, code location
    instance = _instance()
    for storage in ("run_storage", "event_log_storage", "schedule_storage"):
        assert instance[storage]["config"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    assert instance["run_launcher"]["config"]["postgres_password_secret"] == secret
    text = render.manifests_of(_snapshot_text()).lower()
    assert "postgresqlpassword" not in text and "postgresql-password:" not in text


def _launcher(tmp_path: Path) -> K8sRunLauncher:
    """The K8sRunLauncher of the rendered instance config (a dummy kubeconfig instead of the cluster's)."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": "x"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    config = dict(_instance()["run_launcher"]["config"])
    config.update(load_incluster_config=False, kubeconfig_file=str(kubeconfig))
    return K8sRunLauncher(**config)


def _run(job_name: str) -> DagsterRun:
    """A run of the sensor's request, from the rendered code location (its image and container context)."""
    request = run_request(
        Task(key="Task-" + "a" * 64, transformation_key="Transformation-" + "b" * 64, repeat=0), job_name
    )
    env = _env(_code_location()["spec"]["template"]["spec"]["containers"][0])
    origin = JobPythonOrigin(
        job_name,
        RepositoryPythonOrigin(
            executable_path="python",
            code_pointer=ModuleCodePointer("orchestrator.definitions", "defs", "/opt/fepflow"),
            container_image=env["DAGSTER_CURRENT_IMAGE"],
            container_context=json.loads(env["DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT"]),
        ),
    )
    return DagsterRun(
        job_name=job_name,
        run_id="0" * 32,
        run_config=request.run_config,
        tags=request.tags,
        job_code_origin=origin,
    )


def _pod(context: K8sContainerContext, launcher: K8sRunLauncher, image: str, name: str) -> dict[str, Any]:
    job_config = context.get_k8s_job_config(job_image=None, run_launcher=launcher).with_image(image)
    job = construct_dagster_k8s_job(
        job_config, ["dagster", "api", "execute_run"], name, user_defined_k8s_config=context.run_k8s_config
    )
    doc: dict[str, Any] = kubernetes.client.ApiClient().sanitize_for_serialization(job)
    doc.update(apiVersion="batch/v1", kind="Job")
    kubernetes_validate.validate(doc, _header()["kube_version"], strict=True)
    return doc["spec"]["template"]["spec"]


def test_the_sensors_gpu_config_reaches_the_step_pods_through_the_rendered_chart(tmp_path: Path) -> None:
    launcher = _launcher(tmp_path)
    run = _run("simulate_k8s")
    image = _code_location()["spec"]["template"]["spec"]["containers"][0]["image"]

    # the run pod, as K8sRunLauncher.launch_run builds it: launcher config, code location, run tags
    run_context = launcher.get_container_context_for_run(run)
    run_pod = _pod(run_context, launcher, image, "dagster-run-0")
    (container,) = run_pod["containers"]
    assert container["image"] == image
    assert "nvidia.com/gpu" not in json.dumps(run_pod)  # the run pod only orchestrates
    assert container["resources"]["requests"]["cpu"]  # sized by the sensor's dagster-k8s/config tag
    assert {"configMapRef": {"name": "fepflow-env"}} in container["envFrom"]
    assert any(m["name"] == "k8s-run" for m in container["volumeMounts"])
    assert run_pod["securityContext"]["runAsUser"] == 10001
    # the run pod starts the step Jobs: its service account may create them
    account = run_pod["serviceAccountName"]
    (binding,) = [
        d for d in _docs() if d["kind"] == "RoleBinding" and any(s["name"] == account for s in d["subjects"])
    ]
    role = _named("Role", binding["roleRef"]["name"])
    assert any("jobs" in r["resources"] and "create" in r["verbs"] for r in role["rules"])

    # a step pod, as the k8s_job_executor builds it: the run's context without its tags, the executor's
    # step_k8s_config (the sensor's run config), then the simulation op's tags
    step_config = run.run_config["execution"]["config"]["step_k8s_config"]
    step_context = (
        K8sContainerContext.create_for_run(run, launcher, include_run_tags=False)
        .merge(K8sContainerContext(run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(step_config)))
        .merge(
            K8sContainerContext(
                run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(GPU_STEP_TAGS[K8S_CONFIG_TAG])
            )
        )
    )
    step_pod = _pod(step_context, launcher, image, "dagster-step-0")
    (container,) = step_pod["containers"]
    assert container["image"] == image
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in step_pod["tolerations"]
    assert step_pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"configMapRef": {"name": "fepflow-env"}} in container["envFrom"]


@pytest.mark.skipif(
    not (os.environ.get("FEPFLOW_HELM") and os.environ.get("FEPFLOW_DAGSTER_CHART")),
    reason="needs FEPFLOW_HELM (a helm binary) and FEPFLOW_DAGSTER_CHART (Dagster's chart), which CI has not",
)
def test_a_fresh_render_matches_the_snapshot() -> None:
    chart = Path(os.environ["FEPFLOW_DAGSTER_CHART"])
    fresh = render.render(os.environ["FEPFLOW_HELM"], chart)
    assert fresh.manifests == render.manifests_of(_snapshot_text()), (
        f"rendering {fresh.header['chart']} with {fresh.header['helm']} differs from the snapshot "
        f"(rendered from {_header()['chart']} with {_header()['helm']}): {RERENDER}"
    )


def test_render_prepares_a_chart_to_render_offline(tmp_path: Path) -> None:
    """What render.py changes in its copy of the chart, on a chart of two files made here."""
    chart = tmp_path / "chart"
    chart.mkdir()
    (chart / "Chart.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v2",
                "name": "dagster",
                "version": "1.0.0",
                "dependencies": [
                    {"name": "postgresql", "version": "8.1.0", "condition": "postgresql.enabled"}
                ],
            }
        )
    )
    (chart / "values.yaml").write_text("postgresql:\n  enabled: true\n")
    remote = "https://kubernetesjsonschema.dev/v1.18.0/_definitions.json"
    ref = f"{remote}#/definitions/io.k8s.api.core.v1.Toleration"
    (chart / "values.schema.json").write_text(json.dumps({"properties": {"t": {"$ref": ref}}}))
    definitions = render._kubernetes_definitions("1.30.0", tmp_path / "defs.json")
    toleration = json.loads(definitions.read_text())["definitions"]["io.k8s.api.core.v1.Toleration"]
    assert "effect" in toleration["properties"]
    assert '"#/$defs/' not in definitions.read_text()

    # the chart's default enables the absent subchart: rendering would need it
    with pytest.raises(render.RenderError, match="postgresql is not in"):
        render._prepare(chart, {}, definitions)
    # switched off in the values: dropped, and the schema points at the local definitions
    assert render._prepare(chart, {"postgresql": {"enabled": False}}, definitions) == ["postgresql 8.1.0"]
    assert not yaml.safe_load((chart / "Chart.yaml").read_text()).get("dependencies")
    schema = (chart / "values.schema.json").read_text()
    assert remote not in schema and definitions.as_uri() in schema


def test_the_snapshots_header_and_manifests_part_cleanly() -> None:
    rendered = render.Rendered(
        header={"chart": "dagster 1.0.0", "helm": "v4"}, manifests="---\n# Source: x\na: 1\n"
    )
    text = rendered.text()
    assert render.read_header(text) == {"chart": "dagster 1.0.0", "helm": "v4"}
    assert render.manifests_of(text) == rendered.manifests
