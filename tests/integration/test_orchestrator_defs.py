"""The Dagster code location loads, and its store check runs against the real stores."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from dagster import Definitions

from orchestrator.definitions import defs
from orchestrator.jobs import store_check
from orchestrator.resources import IndexResource, ObjectStoreResource

pytestmark = pytest.mark.integration


def test_definitions_load() -> None:
    Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("store_check").name == "store_check"


def test_store_check_runs_against_real_stores(mongo_url: str, mongo_db_name: str, tmp_path: Path) -> None:
    result = store_check.execute_in_process(
        resources={
            "index": IndexResource(url=mongo_url, database=mongo_db_name),
            "objects": ObjectStoreResource(url=f"file://{tmp_path}"),
        }
    )
    assert result.success
    key = hashlib.sha256(b"fepflow store check\n").hexdigest()
    assert (tmp_path / key[:2] / key[2:4] / key).read_bytes() == b"fepflow store check\n"


def test_store_check_fails_when_mongodb_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEPFLOW_MONGO_TIMEOUT_MS", "300")
    result = store_check.execute_in_process(
        resources={
            "index": IndexResource(url="mongodb://127.0.0.1:1/", database="x"),
            "objects": ObjectStoreResource(url=f"file://{tmp_path}"),
        },
        raise_on_error=False,
    )
    assert not result.success
