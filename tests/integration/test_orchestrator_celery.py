"""The GPU fleet path: two real dagster-celery workers (one per "GPU") on the running Redis broker,
Postgres instance storage and an S3 object store. Simulation steps are routed to queue ``gpu``,
finish on the workers, and their results land in the stores."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from factories import harmonic_network

from fepflow.devstack.servers import S3Server, _bin
from fepflow.models.states import TaskStatus
from fepflow.store.index import Index

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REDIS_URL = os.environ.get("FEPFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture()
def fleet_env(
    postgres_dsn: dict[str, str],
    mongo_url: str,
    mongo_db_name: str,
    s3_server: S3Server,
    s3_bucket: str,
    repo_root: Path,
    tmp_path: Path,
) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(repo_root / "deploy" / "dagster-postgres.yaml", home / "dagster.yaml")
    # a broker database of its own, emptied, so no message of another run is picked up
    db = 8 + uuid.uuid4().int % 6
    redis.Redis.from_url(f"{REDIS_URL}/{db}").flushdb()
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": postgres_dsn["host"],
        "DAGSTER_PG_PORT": str(postgres_dsn["port"]),
        "DAGSTER_PG_USER": postgres_dsn["user"],
        "DAGSTER_PG_PASSWORD": postgres_dsn["password"],
        "DAGSTER_PG_DB": postgres_dsn["dbname"],
        "FEPFLOW_CELERY_BROKER_URL": f"{REDIS_URL}/{db}",
        "FEPFLOW_CELERY_BACKEND_URL": f"{REDIS_URL}/{db}",
        "FEPFLOW_MONGO_URL": mongo_url,
        "FEPFLOW_MONGO_DATABASE": mongo_db_name,
        "FEPFLOW_OBJECTS_URL": f"s3://{s3_bucket}/results",
        "FEPFLOW_OBJECTS_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "FEPFLOW_OBJECTS_S3_ACCESS_KEY_ID": s3_server.access_key_id,
        "FEPFLOW_OBJECTS_S3_SECRET_ACCESS_KEY": s3_server.secret_access_key,
        "FEPFLOW_ENGINE_GPU_DEVICES": "none",
        "FEPFLOW_ENGINE_CPU_THREADS": "1",
        "FEPFLOW_ENGINE_WORK_DIR": str(tmp_path / "work"),
        "FEPFLOW_ENGINE_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": str(repo_root),
        # dagster-celery starts `celery` from PATH
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


@pytest.fixture()
def workers(
    fleet_env: dict[str, str], repo_root: Path, tmp_path: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Two workers on queue ``gpu``, one simulation each, as on a two-GPU host."""
    procs = []
    for i in range(2):
        env = {
            **fleet_env,
            "FEPFLOW_ENGINE_WORKER_NAME": f"celery-gpu-{i}",
            # each worker is its own "GPU": a slot folder of its own (on a real host, CUDA_VISIBLE_DEVICES=i)
            "FEPFLOW_ENGINE_SLOT_DIR": str(tmp_path / f"slots-{i}"),
        }
        log = (tmp_path / f"worker-{i}.log").open("wb")
        argv = [
            _bin("dagster-celery"),
            "worker",
            "start",
            "-A",
            "dagster_celery.app",
            "-y",
            str(repo_root / "deploy" / "celery.yaml"),
            "-q",
            "gpu",
            "-n",
            f"gpu{i}@%h",
            "--",
            "--concurrency=1",
        ]
        procs.append(
            subprocess.Popen(
                argv, cwd=repo_root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            logs = [(tmp_path / f"worker-{i}.log").read_text(errors="replace") for i in range(2)]
            if all(" ready." in text for text in logs):
                break
            for p, text in zip(procs, logs, strict=True):
                assert p.poll() is None, f"celery worker exited:\n{text[-3000:]}"
            time.sleep(0.5)
        else:
            raise AssertionError("celery workers did not become ready")
        yield procs
    finally:
        for p in procs:
            with_group = os.getpgid(p.pid) if p.poll() is None else None
            if with_group:
                os.killpg(with_group, 15)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait(10)


def test_steps_are_routed_to_and_finished_on_two_celery_workers(
    fleet_env: dict[str, str], workers: list[subprocess.Popen[bytes]], repo_root: Path
) -> None:
    # the gpu pool's limit is the fleet's slot count (two workers x one simulation), set the way the
    # deployment docs say; with the shipped default of 1 the second step would wait for the first
    subprocess.run(
        [_bin("dagster"), "instance", "concurrency", "set", "gpu", "2"],
        env=fleet_env,
        check=True,
        capture_output=True,
    )
    index = Index.connect(fleet_env["FEPFLOW_MONGO_URL"], fleet_env["FEPFLOW_MONGO_DATABASE"])
    try:
        index.ensure_indexes()
        report = index.submit_network(
            harmonic_network(2, name="celery fleet", production_iterations=1500), scope="test-celery"
        )
        runs = [
            subprocess.Popen(
                [sys.executable, str(repo_root / "tests" / "run_simulation_job.py"), "simulate_celery", key],
                cwd=repo_root,
                env=fleet_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for key in report.task_keys
        ]
        for run in runs:
            out, _ = run.communicate(timeout=400)
            assert run.returncode == 0, out[-4000:]
        tasks = [index.tasks.get(k) for k in report.task_keys]
        assert all(t.status is TaskStatus.COMPLETE for t in tasks)
        # one step on each worker: neither worker ran both while the other stood idle
        assert sorted(t.worker or "" for t in tasks) == ["celery-gpu-0", "celery-gpu-1"]
        for task in tasks:
            assert index.results.coll.count_documents({"task": task.key}) == 1
            bundle = index.results.drs_object(task.result.drs_id or "")  # type: ignore[union-attr]
            assert bundle is not None and bundle["kind"] == "bundle"
    finally:
        index.close()
