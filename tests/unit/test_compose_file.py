"""The compose stack, its image and the shipped Dagster/Celery configs keep the structure they need.

These tests read docker-compose.yml with PyYAML (anchors and merge keys resolved as Compose resolves
them), so they run without a Docker engine. Where a compose CLI is installed, the file is also
validated and interpolated by it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REQUIRED_SERVICES = {
    "postgres",
    "mongodb",
    "s3",
    "createbucket",
    "redis",
    "webserver",
    "daemon",
    "api",
    "worker",
}
ONE_SHOT_SERVICES = {"createbucket"}
APP_SERVICES = {"webserver", "daemon", "api", "worker", "createbucket"}
CONDITIONS = {"service_healthy", "service_completed_successfully", "service_started"}
SECRET_REF = re.compile(r"^\$\{FEPFLOW_AUTH_SECRET_KEY:\?[^}]+\}$")
CONTAINER_ROOT = "/opt/fepflow/"


@pytest.fixture(scope="module")
def root() -> Path:
    return Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose(root: Path) -> dict[str, Any]:
    data = yaml.safe_load((root / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if isinstance(command, str):
        return command.split()
    return [str(part) for part in command or []]


def _repo_path(root: Path, container_path: str) -> Path:
    assert container_path.startswith(CONTAINER_ROOT), container_path
    return root / container_path.removeprefix(CONTAINER_ROOT)


def _long_running(services: dict[str, dict[str, Any]]) -> list[str]:
    return [name for name in services if name not in ONE_SHOT_SERVICES]


def test_required_services_exist(services: dict[str, dict[str, Any]]) -> None:
    missing = REQUIRED_SERVICES - services.keys()
    assert not missing, f"missing services: {sorted(missing)}"


def test_depends_on_uses_conditions_on_known_services(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        depends = service.get("depends_on")
        if depends is None:
            continue
        assert isinstance(depends, dict), f"{name}: depends_on must be a mapping with conditions"
        for target, spec in depends.items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert isinstance(spec, dict) and spec.get("condition") in CONDITIONS, (name, target, spec)
            condition = spec["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], (
                    f"{name} waits for {target}, which has no healthcheck"
                )
            if condition == "service_completed_successfully":
                assert target in ONE_SHOT_SERVICES, f"{name} waits for {target} to exit, but it runs forever"


def test_app_services_wait_for_their_backends(services: dict[str, dict[str, Any]]) -> None:
    def condition(service: str, target: str) -> str | None:
        return (services[service].get("depends_on") or {}).get(target, {}).get("condition")

    for name in ("webserver", "daemon", "worker"):
        assert condition(name, "postgres") == "service_healthy", name
    for name in ("webserver", "daemon", "api", "worker"):
        assert condition(name, "mongodb") == "service_healthy", name
        assert condition(name, "createbucket") == "service_completed_successfully", name
    assert condition("worker", "redis") == "service_healthy"
    assert condition("createbucket", "s3") == "service_healthy"


def test_long_running_services_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name in _long_running(services):
        check = services[name].get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable", False), name
        test = check.get("test")
        assert test and test not in (["NONE"], "NONE"), f"{name}: empty healthcheck"
        assert services[name].get("restart") in {"unless-stopped", "always", "on-failure"}, name


def test_one_shot_bucket_job_does_not_restart(services: dict[str, dict[str, Any]]) -> None:
    job = services["createbucket"]
    assert str(job.get("restart", "no")) == "no"
    assert "create_bucket.py" in " ".join(_command(job))


def test_healthcheck_commands_fit_their_services(services: dict[str, dict[str, Any]]) -> None:
    def test_of(name: str) -> str:
        test = services[name]["healthcheck"]["test"]
        return " ".join(test) if isinstance(test, list) else test

    assert "mongosh" in test_of("mongodb") and "ping" in test_of("mongodb")
    assert "pg_isready" in test_of("postgres")
    assert "redis-cli" in test_of("redis") and "ping" in test_of("redis")
    assert ":3000/" in test_of("webserver")
    assert "liveness-check" in test_of("daemon")
    assert ":8000/" in test_of("api")
    assert "inspect ping" in test_of("worker")


def test_healthcheck_and_job_scripts_exist_in_repo(root: Path, services: dict[str, dict[str, Any]]) -> None:
    referenced = set()
    for service in services.values():
        parts = list(_command(service))
        test = (service.get("healthcheck") or {}).get("test") or []
        parts += test if isinstance(test, list) else test.split()
        referenced |= {p for p in parts if p.startswith(CONTAINER_ROOT)}
    assert referenced, "expected scripts under /opt/fepflow/ to be referenced"
    for path in referenced:
        assert _repo_path(root, path).is_file(), f"{path} is referenced but not in the repository"


def test_data_services_persist_to_named_volumes(compose: dict[str, Any]) -> None:
    declared = set((compose.get("volumes") or {}).keys())
    expected_mounts = {"postgres": "/var/lib/postgresql/data", "mongodb": "/data/db", "s3": "/data"}
    for name, target in expected_mounts.items():
        mounts = compose["services"][name].get("volumes") or []
        parsed = [str(m).split(":") for m in mounts]
        match = [p for p in parsed if len(p) >= 2 and p[1] == target]
        assert match, f"{name} does not persist {target}"
        assert match[0][0] in declared, f"{name}: volume {match[0][0]} is not a declared named volume"


def test_worker_requests_an_nvidia_gpu(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devices), devices
    command = _command(worker)
    assert command[:3] == ["dagster-celery", "worker", "start"]
    assert command[command.index("-q") + 1] == "gpu"
    assert "--concurrency=1" in command
    assert command[command.index("-A") + 1] == "dagster_celery.app"


def test_worker_celery_config_exists_and_validates(
    root: Path, services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    command = _command(services["worker"])
    config_path = _repo_path(root, command[command.index("-y") + 1])
    assert config_path.is_file()
    import dagster_celery.cli as cli

    env = _env(services["worker"])
    monkeypatch.setenv("FEPFLOW_CELERY_BROKER_URL", env["FEPFLOW_CELERY_BROKER_URL"])
    monkeypatch.setenv("FEPFLOW_CELERY_BACKEND_URL", env["FEPFLOW_CELERY_BACKEND_URL"])
    config = cli.get_validated_config(str(config_path))
    assert config["broker"] == env["FEPFLOW_CELERY_BROKER_URL"]
    assert config["broker"].startswith("redis://redis:")
    assert config["config_source"]["worker_prefetch_multiplier"] == 1


def test_secret_key_is_required_not_defaulted(services: dict[str, dict[str, Any]]) -> None:
    api_env = _env(services["api"])
    assert SECRET_REF.match(api_env["FEPFLOW_AUTH_SECRET_KEY"]), api_env["FEPFLOW_AUTH_SECRET_KEY"]
    assert api_env["FEPFLOW_AUTH_ENVIRONMENT"] == "production"
    for name, service in services.items():
        value = _env(service).get("FEPFLOW_AUTH_SECRET_KEY")
        if value is not None:
            assert SECRET_REF.match(value), f"{name} gives the secret key a default: {value}"


def test_shared_environment_anchor(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    shared = {k: str(v) for k, v in compose["x-fepflow-env"].items()}
    expected = {
        "DAGSTER_HOME": "/opt/dagster/home",
        "DAGSTER_PG_HOST": "postgres",
        "FEPFLOW_OBJECTS_URL": "s3://fepflow/results",
        "FEPFLOW_OBJECTS_S3_ENDPOINT_URL": "http://s3:8333",
        "FEPFLOW_AUTH_ENVIRONMENT": "production",
    }
    for key, value in expected.items():
        assert shared.get(key) == value, key
    for key in (
        "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB",
        "FEPFLOW_MONGO_URL", "FEPFLOW_MONGO_DATABASE", "FEPFLOW_OBJECTS_S3_REGION",
        "FEPFLOW_OBJECTS_S3_ACCESS_KEY_ID", "FEPFLOW_OBJECTS_S3_SECRET_ACCESS_KEY",
        "FEPFLOW_API_PUBLIC_URL", "FEPFLOW_CELERY_BROKER_URL",
    ):  # fmt: skip
        assert key in shared, key
    assert shared["FEPFLOW_MONGO_URL"].startswith("mongodb://")
    for name in APP_SERVICES:
        env = _env(services[name])
        assert shared.items() <= env.items(), f"{name} does not carry the shared environment"


def test_app_services_build_from_the_one_dockerfile(services: dict[str, dict[str, Any]]) -> None:
    builds = []
    for name in APP_SERVICES:
        build = services[name].get("build")
        assert build, f"{name} does not build the fepflow image"
        if isinstance(build, str):
            build = {"context": build}
        builds.append(
            (build.get("context"), build.get("dockerfile", "Dockerfile"), services[name].get("image"))
        )
    assert len(set(builds)) == 1, builds
    assert builds[0][:2] == (".", "Dockerfile")


def test_service_commands(services: dict[str, dict[str, Any]]) -> None:
    web = _command(services["webserver"])
    assert web[0] == "dagster-webserver"
    assert web[web.index("-p") + 1] == "3000" and web[web.index("-h") + 1] == "0.0.0.0"
    assert web[web.index("-w") + 1] == "workspace.yaml"
    assert _command(services["daemon"]) == ["dagster-daemon", "run", "-w", "workspace.yaml"]
    api = _command(services["api"])
    assert api[:2] == ["uvicorn", "api.main:app"] and api[api.index("--port") + 1] == "8000"


def test_published_ports_default_to_loopback(services: dict[str, dict[str, Any]]) -> None:
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    # the hub, the read-only Dagster UI and S3 (presigned downloads); the writable UI on loopback only
    assert set(published) == {"webserver", "api", "s3", "webserver-operator"}, published
    for name, ports in published.items():
        for port in ports:
            loopback = "127.0.0.1:" if name == "webserver-operator" else "${FEPFLOW_BIND_ADDRESS:-127.0.0.1}:"
            assert str(port).startswith(loopback), (name, port)


def test_dagit_is_read_only_except_for_operators_on_loopback(services: dict[str, dict[str, Any]]) -> None:
    assert "--read-only" in _command(services["webserver"])
    operator = services["webserver-operator"]
    assert "--read-only" not in _command(operator) and operator["profiles"] == ["operator"]
    assert _env(operator) == _env(services["webserver"])


def test_dagster_yaml_is_mounted_not_only_baked(services: dict[str, dict[str, Any]]) -> None:
    # the PostgreSQL instance; the top-level dagster.yaml is the local one for `dagster dev`
    readers = {"webserver", "webserver-operator", "daemon", "worker", "worker-cpu"}
    for name, service in services.items():
        mounts = [str(v) for v in service.get("volumes", [])]
        instance = [m for m in mounts if m.split(":")[1:2] == ["/opt/dagster/home/dagster.yaml"]]
        expected = (
            ["./deploy/dagster-postgres.yaml:/opt/dagster/home/dagster.yaml:ro"] if name in readers else []
        )
        assert instance == expected, name


def test_presigned_urls_name_the_published_s3_port(services: dict[str, dict[str, Any]]) -> None:
    env = _env(services["api"])
    assert env["FEPFLOW_OBJECTS_S3_PUBLIC_ENDPOINT_URL"] == "${FEPFLOW_S3_PUBLIC_URL:-http://localhost:8333}"
    assert services["s3"]["ports"] == ["${FEPFLOW_BIND_ADDRESS:-127.0.0.1}:${FEPFLOW_S3_PORT:-8333}:8333"]


def test_ci_override_replaces_every_third_party_image(
    root: Path, services: dict[str, dict[str, Any]]
) -> None:
    text = (root / "docker-compose.ci.yml").read_text()
    override = yaml.safe_load(text)["services"]
    third_party = {name for name, s in services.items() if "build" not in s}
    assert third_party == {"postgres", "mongodb", "s3", "redis"}
    for name in third_party:
        assert override[name]["image"] == "${FEPFLOW_CI_SERVICES_IMAGE:-fepflow-ci-services:latest}", name
        assert override[name]["healthcheck"]["test"] == ["CMD", "fepflow-ci-service", "health", name]
        assert services[name]["image"].split(":")[0] in text  # the override says what it stands in for
    # the wire server runs without authentication: every app service gets a URL without credentials
    for name in APP_SERVICES | {"webserver-operator", "worker-cpu"}:
        assert (
            override[name]["environment"]["FEPFLOW_MONGO_URL"]
            == "mongodb://mongodb:27017/?directConnection=true"
        ), name


def test_env_target_replaces_an_empty_key_and_keeps_a_good_one(root: Path, tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    (tmp_path / "Makefile").write_text((root / "Makefile").read_text())
    env = tmp_path / ".env"
    env.write_text("FEPFLOW_AUTH_SECRET_KEY=\nOTHER=1\n")  # what a failed write used to leave
    run = subprocess.run(["make", "-s", ".env"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "wrote a random" in run.stdout
    lines = env.read_text().splitlines()
    assert "OTHER=1" in lines
    (key,) = [line for line in lines if line.startswith("FEPFLOW_AUTH_SECRET_KEY=")]
    assert len(key.split("=", 1)[1]) >= 32
    again = subprocess.run(["make", "-s", ".env"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert again.stdout == "" and key in env.read_text().splitlines()


def test_dagster_yaml_uses_postgres_psycopg2(root: Path) -> None:
    config = yaml.safe_load((root / "deploy" / "dagster-postgres.yaml").read_text())
    db = config["storage"]["postgres"]["postgres_db"]
    assert db["scheme"] == "postgresql+psycopg2"
    assert {k: v for k, v in db.items() if k != "scheme"} == {
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "username": {"env": "DAGSTER_PG_USER"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "db_name": {"env": "DAGSTER_PG_DB"},
    }
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["run_coordinator"]["config"]["dequeue_interval_seconds"] == 1
    assert config["run_monitoring"]["enabled"] is True
    assert config["telemetry"]["enabled"] is False
    assert isinstance(config["concurrency"]["pools"]["default_limit"], int)


def test_dagster_yaml_passes_dagster_validation(root: Path) -> None:
    import dagster._core.instance.config as instance_config

    value, custom_class = instance_config.dagster_instance_config(
        str(root / "deploy"), config_filename="dagster-postgres.yaml"
    )
    assert custom_class is None
    assert "postgres" in value["storage"]


def test_dockerfile_essentials(root: Path) -> None:
    text = (root / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim-bookworm$", text, re.M)
    assert re.search(r"^ARG FEPFLOW_EXTRAS=", text, re.M)
    assert re.search(r"^COPY deploy/dagster-postgres\.yaml \$\{DAGSTER_HOME\}/dagster\.yaml$", text, re.M)
    assert re.search(r"^WORKDIR /opt/fepflow$", text, re.M)
    assert re.search(r"^COPY workspace\.yaml ", text, re.M)
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in {"root", "0"}
    ignored = (root / ".dockerignore").read_text().split()
    for entry in (".venv", ".git", ".fepflow"):
        assert entry in ignored, entry


def _compose_cli() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def test_compose_cli_validates_and_refuses_without_secret(root: Path) -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no docker-compose or docker compose plugin installed")
    base = {k: v for k, v in os.environ.items() if k != "FEPFLOW_AUTH_SECRET_KEY"}
    args = [
        *cli,
        "-f",
        str(root / "docker-compose.yml"),
        "--profile",
        "gpu",
        "--profile",
        "cpu",
        "config",
        "-q",
    ]
    ok = subprocess.run(
        args, env={**base, "FEPFLOW_AUTH_SECRET_KEY": "x" * 48}, capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(args, env=base, capture_output=True, text=True, check=False)
    assert refused.returncode != 0
    assert "FEPFLOW_AUTH_SECRET_KEY" in refused.stderr


@pytest.mark.parametrize(("profile", "executor"), [("gpu", "celery"), ("cpu", "celery"), ("", "in_process")])
def test_up_dev_sends_simulations_to_the_worker_profiles(root: Path, profile: str, executor: str) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    plan = subprocess.run(
        ["make", "-n", "--no-print-directory", "up-dev", f"PROFILE={profile}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"FEPFLOW_ORCHESTRATOR_EXECUTOR=${{FEPFLOW_ORCHESTRATOR_EXECUTOR:-{executor}}}" in plan
    assert ("--profile gpu" in plan) == (profile == "gpu")
