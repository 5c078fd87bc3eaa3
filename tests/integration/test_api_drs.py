"""GA4GH DRS 1.5: objects, bundles, access URLs (file store streamed by the hub; S3 presigned), bulk,
errors; every answer validated against the spec's schemas."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from api_support import OTHER_SCOPE, SCOPE, bearer, complete_task, submit_smiles
from drs_schemas import (
    ACCESS_URL,
    AUTHORIZATIONS,
    BULK_ACCESS_RESPONSE,
    BULK_RESPONSE,
    DRS_OBJECT,
    ERROR,
    SERVICE_INFO,
)
from fastapi.testclient import TestClient

from api.main import create_app
from fepflow.devstack.servers import S3Server
from fepflow.settings import ApiSettings, AuthSettings, ObjectStoreSettings
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore, open_object_store

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]

DRS = "/ga4gh/drs/v1"
H = bearer([SCOPE])


def valid(schema: dict[str, Any], instance: Any) -> Any:
    jsonschema_rs.validator_for(schema, validate_formats=True).validate(instance)
    return instance


def _made(hub: TestClient, index: Index, objects: ObjectStore) -> dict[str, Any]:
    sub = submit_smiles(hub, {"methanol": "CO"}).json()
    return complete_task(index, objects, sub["tasks"][0], dg=-5.1, error=0.2, ligand="methanol")


def test_service_info_and_authorizations(hub: TestClient) -> None:
    r = hub.get(f"{DRS}/service-info")
    assert r.status_code == 200
    info = valid(SERVICE_INFO, r.json())
    assert info["type"]["version"].startswith("1.5")
    auth = valid(AUTHORIZATIONS, hub.options(f"{DRS}/objects/anything").json())
    assert auth["supported_types"] == ["BearerAuth"]
    assert auth["bearer_auth_issuers"] == ["https://hub.example.org:8443/api/v1/auth/token"]


def test_blob_and_bundle_objects_and_streamed_bytes(
    hub: TestClient, hub_index: Index, hub_objects: ObjectStore
) -> None:
    made = _made(hub, hub_index, hub_objects)
    blob_id, bundle_id = made["blob"]["id"], made["bundle"]["id"]
    blob = valid(DRS_OBJECT, hub.get(f"{DRS}/objects/{blob_id}", headers=H).json())
    assert blob["self_uri"] == f"drs://hub.example.org/{blob_id}"  # public_url host, port dropped
    assert blob["size"] == len(made["summary_bytes"])
    assert blob["checksums"] == [
        {"type": "sha-256", "checksum": hashlib.sha256(made["summary_bytes"]).hexdigest()}
    ]
    assert blob["access_methods"] == [{"type": "https", "access_id": "https"}]
    assert blob["mime_type"] == "application/json" and blob["name"] == "summary.json"
    bundle = valid(DRS_OBJECT, hub.get(f"{DRS}/objects/{bundle_id}", headers=H).json())
    assert bundle["contents"] == [
        {"name": "summary.json", "id": blob_id, "drs_uri": [f"drs://hub.example.org/{blob_id}"]}
    ]
    access = valid(ACCESS_URL, hub.get(f"{DRS}/objects/{blob_id}/access/https", headers=H).json())
    assert access["url"].startswith(f"https://hub.example.org:8443{DRS}/stream/{blob_id}?token=")
    path = access["url"].removeprefix("https://hub.example.org:8443")
    got = hub.get(path)  # the link is its own authorisation: no bearer token
    assert got.status_code == 200 and got.content == made["summary_bytes"]
    assert got.headers["x-checksum-sha256"] == blob["checksums"][0]["checksum"]
    manifest = hub.get(
        hub.get(f"{DRS}/objects/{bundle_id}/access/https", headers=H).json()["url"].split(":8443")[1]
    )
    assert json.loads(manifest.content)["files"][0]["id"] == blob_id
    # a link is for one object only, and a forged one is refused
    other_path = path.replace(f"/stream/{blob_id}", f"/stream/{bundle_id}")
    assert hub.get(other_path).status_code == 401
    assert hub.get(path[:-3] + "abc").status_code == 401


def test_errors_use_the_spec_body(hub: TestClient, hub_index: Index, hub_objects: ObjectStore) -> None:
    made = _made(hub, hub_index, hub_objects)
    blob_id = made["blob"]["id"]
    cases = [
        (hub.get(f"{DRS}/objects/nope", headers=H), 404),
        (hub.get(f"{DRS}/objects/{blob_id}"), 401),
        (hub.get(f"{DRS}/objects/{blob_id}", headers={"Authorization": "Bearer x.y.z"}), 401),
        (hub.get(f"{DRS}/objects/{blob_id}", headers=bearer([OTHER_SCOPE])), 404),
        (hub.get(f"{DRS}/objects/{blob_id}/access/s3", headers=H), 404),  # the file store offers https only
        (hub.get(f"{DRS}/objects/{blob_id}/access/https", headers=bearer([OTHER_SCOPE])), 404),
        (hub.post(f"{DRS}/objects", json={"bulk_object_ids": []}, headers=H), 400),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        body = valid(ERROR, response.json())
        assert body["status_code"] == status
    theirs = hub.get(f"{DRS}/objects/{blob_id}", headers=bearer([OTHER_SCOPE])).json()
    absent = hub.get(f"{DRS}/objects/drs-absent", headers=H).json()
    assert theirs["msg"].replace(blob_id, "X") == absent["msg"].replace("drs-absent", "X")


def test_bulk_resolves_what_the_caller_may_see(
    hub: TestClient, hub_index: Index, hub_objects: ObjectStore
) -> None:
    made = _made(hub, hub_index, hub_objects)
    ids = [made["blob"]["id"], made["bundle"]["id"], "drs-missing"]
    r = hub.post(f"{DRS}/objects", json={"bulk_object_ids": ids}, headers=H)
    body = valid(BULK_RESPONSE, r.json())
    assert body["summary"] == {"requested": 3, "resolved": 2, "unresolved": 1}
    assert [o["id"] for o in body["resolved_drs_object"]] == ids[:2]
    assert body["unresolved_drs_objects"] == [{"error_code": 404, "object_ids": ["drs-missing"]}]
    theirs = hub.post(f"{DRS}/objects", json={"bulk_object_ids": ids}, headers=bearer([OTHER_SCOPE])).json()
    assert theirs["summary"]["resolved"] == 0


def test_bulk_access_urls_serve_the_bytes(
    hub: TestClient, hub_index: Index, hub_objects: ObjectStore
) -> None:
    made = _made(hub, hub_index, hub_objects)
    blob_id, bundle_id = made["blob"]["id"], made["bundle"]["id"]
    request = {
        "bulk_object_access_ids": [
            {"bulk_object_id": blob_id, "bulk_access_ids": ["https", "s3"]},  # the file store: https only
            {"bulk_object_id": "drs-missing", "bulk_access_ids": ["https"]},
            {"bulk_object_id": bundle_id, "bulk_access_ids": ["https"]},  # a bundle's bytes: its manifest
        ]
    }
    body = valid(BULK_ACCESS_RESPONSE, hub.post(f"{DRS}/objects/access", json=request, headers=H).json())
    assert body["summary"] == {"requested": 4, "resolved": 2, "unresolved": 2}
    urls = {
        (u["drs_object_id"], u["drs_access_id"]): u["url"] for u in body["resolved_drs_object_access_urls"]
    }
    assert set(urls) == {(blob_id, "https"), (bundle_id, "https")}
    assert body["unresolved_drs_objects"] == [{"error_code": 404, "object_ids": [blob_id, "drs-missing"]}]
    fetched = hub.get(urls[blob_id, "https"].removeprefix("https://hub.example.org:8443"))
    assert fetched.status_code == 200 and fetched.content == made["summary_bytes"]
    manifest = hub.get(urls[bundle_id, "https"].removeprefix("https://hub.example.org:8443"))
    assert manifest.status_code == 200 and blob_id in manifest.text
    theirs = hub.post(f"{DRS}/objects/access", json=request, headers=bearer([OTHER_SCOPE])).json()
    assert theirs["summary"]["resolved"] == 0 and theirs["resolved_drs_object_access_urls"] == []
    too_many = {
        "bulk_object_access_ids": [
            {"bulk_object_id": f"o{i}", "bulk_access_ids": ["https"]} for i in range(1001)
        ]
    }
    for bad, status in [({"bulk_object_access_ids": []}, 400), (too_many, 400)]:
        r = hub.post(f"{DRS}/objects/access", json=bad, headers=H)
        assert r.status_code == status and valid(ERROR, r.json())["status_code"] == status


@pytest.fixture()
def s3_hub(
    hub_index: Index, s3_server: S3Server, s3_bucket: str, api_config: ApiSettings, auth_config: AuthSettings
) -> Iterator[tuple[TestClient, ObjectStore]]:
    settings = ObjectStoreSettings(
        url=f"s3://{s3_bucket}/results",
        s3_endpoint_url=s3_server.endpoint_url,
        s3_access_key_id=s3_server.access_key_id,
        s3_secret_access_key=s3_server.secret_access_key,  # type: ignore[arg-type]
    )
    store = open_object_store(settings)
    app = create_app(index=hub_index, objects=store, api=api_config, auth_config=auth_config)
    with TestClient(app) as client:
        yield client, store


def test_s3_objects_get_a_presigned_url_that_serves_the_bytes(
    s3_hub: tuple[TestClient, ObjectStore], hub_index: Index, tmp_path: Path
) -> None:
    hub, store = s3_hub
    made = _made(hub, hub_index, store)
    blob_id = made["blob"]["id"]
    obj = valid(DRS_OBJECT, hub.get(f"{DRS}/objects/{blob_id}", headers=H).json())
    assert obj["access_methods"][0]["type"] == "s3" and obj["access_methods"][0]["access_id"] == "s3"
    access = valid(ACCESS_URL, hub.get(f"{DRS}/objects/{blob_id}/access/s3", headers=H).json())
    assert "X-Amz-Signature" in access["url"]
    fetched = httpx.get(access["url"])
    assert fetched.status_code == 200 and fetched.content == made["summary_bytes"]
    tampered = access["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.get(tampered).status_code == 403
