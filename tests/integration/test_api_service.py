"""The hub's service routes against the real stores: health reflects reachability, version lists the stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from fepflow.settings import ObjectStoreSettings
from fepflow.store.index import Index
from fepflow.store.objects import open_object_store

pytestmark = pytest.mark.integration


@pytest.fixture()
def objects(tmp_path: Path):  # type: ignore[no-untyped-def]
    return open_object_store(ObjectStoreSettings(url=f"file://{tmp_path / 'objects'}"))


@pytest.fixture()
def index(mongo_url: str, mongo_db_name: str) -> Iterator[Index]:
    idx = Index.connect(mongo_url, mongo_db_name)
    yield idx
    idx.close()


def test_health_is_ok_when_both_stores_answer(index: Index, objects) -> None:  # type: ignore[no-untyped-def]
    with TestClient(create_app(index=index, objects=objects)) as client:
        for path in ("/health", "/api/v1/health"):
            response = client.get(path)
            assert response.status_code == 200
            assert response.json() == {"status": "ok", "checks": {"mongodb": "ok", "object_store": "ok"}}


def test_health_is_503_when_mongodb_is_unreachable(objects) -> None:  # type: ignore[no-untyped-def]
    dead = Index.connect("mongodb://127.0.0.1:1/", "x", timeout_ms=300)
    with TestClient(create_app(index=dead, objects=objects)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["checks"]["mongodb"].startswith("unreachable")
    assert body["checks"]["object_store"] == "ok"
    dead.close()


def test_health_is_503_when_s3_is_unreachable(index: Index) -> None:
    settings = ObjectStoreSettings(
        url="s3://nobucket/x",
        s3_endpoint_url="http://127.0.0.1:1",
        s3_access_key_id="k",
        s3_secret_access_key="s",
    )
    with TestClient(create_app(index=index, objects=open_object_store(settings))) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["object_store"].startswith("unreachable")


def test_version_lists_the_science_stack(index: Index, objects) -> None:  # type: ignore[no-untyped-def]
    with TestClient(create_app(index=index, objects=objects)) as client:
        body = client.get("/version").json()
    assert body["fepflow"] == "0.1.0"
    assert body["openmm"].startswith("8.6")
    assert set(body) >= {"openmmtools", "pymbar", "rdkit", "dagster", "fastapi", "python"}
