"""Fixtures and helpers for the hub's tests: the app on the real MongoDB wire server, tokens, results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from fepflow.auth.identities import IdentityStore
from fepflow.auth.tokens import encode_token
from fepflow.models.states import TaskStatus
from fepflow.settings import ApiSettings, AuthSettings, ObjectStoreSettings
from fepflow.store import drs
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore, open_object_store

SECRET = "test-secret-" + "x" * 40
SCOPE = "acme-kinases-p1"
OTHER_SCOPE = "rival-gpcr-p9"


@pytest.fixture()
def auth_config() -> AuthSettings:
    return AuthSettings(secret_key=SecretStr(SECRET), token_ttl_min=5)


@pytest.fixture()
def api_config() -> ApiSettings:
    return ApiSettings(
        public_url="https://hub.example.org:8443", max_molecules=50, max_edges=60, max_body_mb=1.0
    )


@pytest.fixture()
def hub_index(mongo_url: str, mongo_db_name: str) -> Iterator[Index]:
    idx = Index.connect(mongo_url, mongo_db_name)
    yield idx
    idx.client.drop_database(mongo_db_name)
    idx.close()


@pytest.fixture()
def hub_objects(tmp_path: Path) -> ObjectStore:
    return open_object_store(ObjectStoreSettings(url=f"file://{tmp_path / 'objects'}"))


@pytest.fixture()
def hub(
    hub_index: Index, hub_objects: ObjectStore, api_config: ApiSettings, auth_config: AuthSettings
) -> Iterator[TestClient]:
    app = create_app(index=hub_index, objects=hub_objects, api=api_config, auth_config=auth_config)
    with TestClient(app) as client:
        yield client


def bearer(
    scopes: list[str], subject: str = "alice", ttl: timedelta = timedelta(minutes=5), **kw: Any
) -> dict[str, str]:
    token, _ = encode_token(subject, scopes, secret=SECRET, ttl=ttl, **kw)
    return {"Authorization": f"Bearer {token}"}


def add_user(index: Index, name: str, secret: str, scopes: list[str]) -> None:
    IdentityStore(index.db["identities"]).add(name, secret, scopes)


def submit_smiles(client: TestClient, names: dict[str, str], scope: str = SCOPE, **extra: Any) -> Any:
    body = {"scope": scope, "ligands": [{"name": n, "smiles": s} for n, s in names.items()], **extra}
    return client.post("/api/v1/networks", json=body, headers=bearer([scope]))


def complete_task(
    index: Index,
    objects: ObjectStore,
    task_key: str,
    *,
    dg: float,
    ddg: float,
    ligand: str,
) -> dict[str, Any]:
    """Run a task through its states and record a real bundle (a summary file and the manifest),
    with the DRS documents the orchestrator publishes (``fepflow.store.drs``)."""
    index.tasks.transition(task_key, TaskStatus.SCHEDULED, expected=TaskStatus.WAITING)
    index.tasks.start(task_key)
    task = index.tasks.get(task_key)
    summary = {"dg_kcal_mol": dg, "ddg_kcal_mol": ddg, "ligand": ligand, "repeat": task.repeat}
    summary_bytes = json.dumps(summary).encode()
    where = {"task_key": task_key, "transformation_key": task.transformation_key}
    blobs = drs.blob_documents({"summary.json": objects.put_bytes(summary_bytes)}, **where)
    manifest = objects.put_bytes(drs.manifest_bytes(blobs, **where))
    bundle = drs.bundle_document(blobs, manifest, name=f"bundle of {task_key}", **where)
    ref = index.results.record(
        task_key,
        bundle_sha256=manifest.sha256,
        size_bytes=bundle["size"],
        summary=summary,
        drs_objects=[*blobs, bundle],
        bundle_drs_id=bundle["id"],
    )
    for doc in [*blobs, bundle]:
        index.results.drs.update_one({"_id": doc["id"]}, {"$set": {"result": ref.result_key}})
    return {"blob": blobs[0], "bundle": bundle, "result": ref.result_key, "summary_bytes": summary_bytes}
