"""Fixtures for the hub's tests (``pytest_plugins = ["api_fixtures"]``): the app on the real MongoDB
wire server and a file object store, with test settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import SECRET, add_test_identities
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from fepflow.settings import ApiSettings, AuthSettings, ObjectStoreSettings
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore, open_object_store


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
    add_test_identities(idx)
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
