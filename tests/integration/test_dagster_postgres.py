"""The shipped PostgreSQL instance configuration works against a real PostgreSQL: runs, statuses and
events land there.

The repository's ``deploy/dagster-postgres.yaml`` is copied into a temporary DAGSTER_HOME as its
``dagster.yaml`` and pointed at a fresh database through the DAGSTER_PG_* variables, exactly as the
compose stack does.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    asset,
    materialize,
)
from dagster._core.run_coordinator.queued_run_coordinator import QueuedRunCoordinator
from dagster_postgres import (
    PostgresEventLogStorage,
    PostgresRunStorage,
    PostgresScheduleStorage,
)

pytestmark = pytest.mark.integration


@pytest.fixture()
def pg_instance(
    postgres_dsn: dict[str, str],
    repo_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[DagsterInstance]:
    """An instance loaded from deploy/dagster-postgres.yaml, on a database of its own."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(repo_root / "deploy" / "dagster-postgres.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_HOST", postgres_dsn["host"])
    monkeypatch.setenv("DAGSTER_PG_PORT", str(postgres_dsn["port"]))
    monkeypatch.setenv("DAGSTER_PG_USER", postgres_dsn["user"])
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", postgres_dsn["password"])
    monkeypatch.setenv("DAGSTER_PG_DB", postgres_dsn["dbname"])
    instance = DagsterInstance.from_config(str(home))
    try:
        yield instance
    finally:
        instance.dispose()


def _connect(dsn: dict[str, str]):
    return psycopg2.connect(
        host=dsn["host"], port=dsn["port"], user=dsn["user"], password=dsn["password"], dbname=dsn["dbname"]
    )


def test_storage_classes_are_postgres(pg_instance: DagsterInstance, postgres_dsn: dict[str, str]) -> None:
    assert isinstance(pg_instance.run_storage, PostgresRunStorage)
    assert isinstance(pg_instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(pg_instance.schedule_storage, PostgresScheduleStorage)
    # The DAGSTER_PG_* variables were read, and the psycopg2 driver is named explicitly.
    url = pg_instance.run_storage.postgres_url
    assert url.startswith("postgresql+psycopg2://")
    assert url.endswith(f"/{postgres_dsn['dbname']}")
    assert f"@{postgres_dsn['host']}:{postgres_dsn['port']}/" in url


def test_instance_settings_from_shipped_file(pg_instance: DagsterInstance) -> None:
    coordinator = pg_instance.run_coordinator
    assert isinstance(coordinator, QueuedRunCoordinator)
    assert coordinator.dequeue_interval_seconds == 1
    assert pg_instance.run_monitoring_enabled
    assert pg_instance.get_settings("telemetry") == {"enabled": False}
    pools = pg_instance.get_concurrency_config().pool_config
    assert pools.default_pool_limit is not None
    assert pools.default_pool_limit >= 1


def test_run_and_events_are_stored_in_postgres(
    pg_instance: DagsterInstance, postgres_dsn: dict[str, str]
) -> None:
    @asset(pool="gpu")
    def tiny_estimate() -> float:
        return -2.71

    result = materialize([tiny_estimate], instance=pg_instance, tags={"fepflow/test": "postgres"})
    assert result.success
    run_id = result.run_id

    # Through the instance: the run, its final status, and its events.
    run = pg_instance.get_run_by_id(run_id)
    assert run is not None
    assert run.status == DagsterRunStatus.SUCCESS
    assert run.tags["fepflow/test"] == "postgres"
    event_types = {
        entry.dagster_event.event_type for entry in pg_instance.all_logs(run_id) if entry.dagster_event
    }
    assert {
        DagsterEventType.RUN_START,
        DagsterEventType.STEP_SUCCESS,
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.RUN_SUCCESS,
    } <= event_types
    materialization = pg_instance.get_latest_materialization_event(AssetKey("tiny_estimate"))
    assert materialization is not None
    assert materialization.run_id == run_id
    records = pg_instance.fetch_materializations(AssetKey("tiny_estimate"), limit=10).records
    assert [r.run_id for r in records] == [run_id]

    # The pooled step claimed (and released) a slot of the `gpu` pool, held in PostgreSQL.
    assert "gpu" in pg_instance.event_log_storage.get_concurrency_keys()

    # Directly in PostgreSQL: the tables exist and hold this run and its events.
    with _connect(postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        tables = {row[0] for row in cur.fetchall()}
        assert {"runs", "event_logs", "jobs", "job_ticks"} <= tables
        cur.execute("SELECT status FROM runs WHERE run_id = %s", (run_id,))
        assert cur.fetchall() == [("SUCCESS",)]
        cur.execute(
            "SELECT dagster_event_type FROM event_logs WHERE run_id = %s AND dagster_event_type IS NOT NULL",
            (run_id,),
        )
        stored = {row[0] for row in cur.fetchall()}
        # Stored under the enum values (RUN_SUCCESS is still written as "PIPELINE_SUCCESS").
        expected = {DagsterEventType.RUN_SUCCESS, DagsterEventType.ASSET_MATERIALIZATION}
        assert {t.value for t in expected} <= stored
    conn.close()
