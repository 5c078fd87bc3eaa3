"""The two Dagster instance configurations the repository ships, and which one each consumer reads.

- ``dagster.yaml`` (top level): the local instance that Dagster's own commands pick up when run in the
  repository root without DAGSTER_HOME (``dagster dev``, ``dagster definitions validate``). SQLite, no
  environment variables, the settings ``make dev`` writes for a host with one simulation slot.
- ``deploy/dagster-postgres.yaml``: the deployed instance (PostgreSQL), mounted by docker compose and
  copied by the image (tests/unit/test_compose_file.py, tests/integration/test_dagster_postgres.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fepflow.devstack.stack import EmbeddedStack, StackConfig


def _sources(value: Any) -> list[Any]:
    """Every ``{env: NAME}`` source in a parsed config, anywhere."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            return [value["env"]]
        return [name for v in value.values() for name in _sources(v)]
    if isinstance(value, list):
        return [name for v in value for name in _sources(v)]
    return []


def test_local_instance_needs_no_services_and_no_variables(repo_root: Path) -> None:
    config = yaml.safe_load((repo_root / "dagster.yaml").read_text())
    # no storage section: SQLite under the instance's own folder (DAGSTER_HOME, or dagster's temporary one)
    assert "storage" not in config and "run_storage" not in config and "event_log_storage" not in config
    assert _sources(config) == []


def test_local_instance_loads_as_sqlite(repo_root: Path, tmp_path: Path) -> None:
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef
    from dagster._core.storage.runs import SqliteRunStorage

    # what dagster's CLI does without DAGSTER_HOME: storage in a folder of its own, config from the cwd
    ref = InstanceRef.from_dir(str(tmp_path), config_dir=str(repo_root))
    with DagsterInstance.from_ref(ref) as instance:
        assert isinstance(instance.run_storage, SqliteRunStorage)
        assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.get_settings("telemetry") == {"enabled": False}
    assert (tmp_path / "history").is_dir()


def test_local_instance_is_what_make_dev_writes_for_one_slot(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One definition in effect: the embedded stack's template, rendered for a host with one CPU slot,
    is the top-level file (less the storage folder, which only the stack knows)."""
    monkeypatch.setenv("FEPFLOW_ENGINE_GPU_DEVICES", "none")
    monkeypatch.setenv("FEPFLOW_ENGINE_CPU_SLOTS", "1")
    stack = EmbeddedStack(StackConfig(home=tmp_path / "home"))
    stack._write_dagster_instance()
    written = yaml.safe_load((stack.config.dagster_home / "dagster.yaml").read_text())
    assert written.pop("storage") == {"sqlite": {"base_dir": str(stack.config.dagster_home / "storage")}}
    assert written == yaml.safe_load((repo_root / "dagster.yaml").read_text()), (
        "fepflow/devstack/stack.py's DAGSTER_INSTANCE and the top-level dagster.yaml differ: change both"
    )
