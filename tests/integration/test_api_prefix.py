"""Result keys and DRS object ids by unique prefix on the hub (like git's abbreviated hashes): a
unique prefix names the whole key, an ambiguous one is a 409 listing only the caller's candidates,
an unknown one a 404, and another tenant's objects are never matched nor named."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import OTHER_SCOPE, SCOPE, bearer, complete_task, submit_smiles
from fastapi.testclient import TestClient

from fepflow.store.index import Index
from fepflow.store.lookup import short_key
from fepflow.store.objects import ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]

DRS = "/ga4gh/drs/v1"
MINE = bearer([SCOPE])
THEIRS = bearer([OTHER_SCOPE], subject="mallory")


def _rekey(index: Index, made: dict[str, Any], result_key: str, bundle_id: str) -> None:
    """Give a completed task's result and its bundle's DRS object the keys of a test that needs
    keys sharing a prefix (the stored ones are hashes; everything that names them follows)."""
    db, old_result, old_bundle = index.db, made["result"], made["bundle"]["id"]
    doc = db["results"].find_one({"_id": old_result})
    assert doc is not None
    db["results"].delete_one({"_id": old_result})
    db["results"].insert_one({**doc, "_id": result_key, "drs_id": bundle_id})
    bundle = db["drs_objects"].find_one({"_id": old_bundle})
    assert bundle is not None
    db["drs_objects"].delete_one({"_id": old_bundle})
    db["drs_objects"].insert_one({**bundle, "_id": bundle_id, "id": bundle_id})
    db["drs_objects"].update_many(
        {"result": old_result}, {"$set": {"result": result_key, "results": [result_key]}}
    )
    task = str(doc["task"])
    db["tasks"].update_one(
        {"_id": task}, {"$set": {"result.result_key": result_key, "result.drs_id": bundle_id}}
    )


def _result(hexes: str) -> str:
    return "Result-" + hexes.ljust(64, "0")


def _drs(hexes: str) -> str:
    return hexes.ljust(32, "0")


@pytest.fixture()
def crafted(hub: TestClient, hub_index: Index, hub_objects: ObjectStore) -> dict[str, Any]:
    """Three completed tasks whose results and bundles have keys sharing the prefix abcd: two in
    SCOPE (abcd1111, abcd2222), one in OTHER_SCOPE (abcd3333); the summary blobs keep their ids."""
    mine = submit_smiles(hub, {"methanol": "CO", "ethanol": "CCO"}, repeats=1).json()["tasks"]
    theirs = submit_smiles(hub, {"propanol": "CCCO"}, scope=OTHER_SCOPE, repeats=1).json()["tasks"]
    out: dict[str, Any] = {"blobs": {}}
    for label, task in zip(("a", "b", "c"), [*mine, *theirs], strict=True):
        made = complete_task(hub_index, hub_objects, task, dg=-1.0, error=0.1, ligand=label)
        hexes = {"a": "abcd1111", "b": "abcd2222", "c": "abcd3333"}[label]
        _rekey(hub_index, made, _result(hexes), _drs(hexes))
        out[label] = {"task": task, "result": _result(hexes), "bundle": _drs(hexes)}
        out["blobs"][label] = made["blob"]["id"]
    return out


def test_a_result_is_found_by_a_unique_prefix(hub: TestClient, crafted: dict[str, Any]) -> None:
    mine = crafted["a"]
    for ref in ("abcd1", "abcd1111", "Result-abcd1", mine["result"]):
        answer = hub.get(f"/api/v1/results/{ref}", headers=MINE)
        assert answer.status_code == 200, (ref, answer.text)
        assert answer.json()["key"] == mine["result"] and answer.json()["task"] == mine["task"]


def test_an_ambiguous_result_prefix_lists_only_the_callers_results(
    hub: TestClient, crafted: dict[str, Any]
) -> None:
    answer = hub.get("/api/v1/results/abcd", headers=MINE)
    assert answer.status_code == 409, answer.text
    detail = answer.json()["detail"]
    assert crafted["a"]["result"] in detail and crafted["b"]["result"] in detail
    assert crafted["c"]["result"] not in detail and "abcd3333" not in detail
    # the other tenant sees only its own result under that prefix: no ambiguity, no leak
    theirs = hub.get("/api/v1/results/abcd", headers=THEIRS)
    assert theirs.status_code == 200 and theirs.json()["key"] == crafted["c"]["result"]


def test_unknown_and_other_tenants_result_prefixes_are_404_alike(
    hub: TestClient, crafted: dict[str, Any]
) -> None:
    unknown = hub.get("/api/v1/results/abcd9", headers=MINE)
    theirs = hub.get("/api/v1/results/abcd3", headers=MINE)
    for answer in (unknown, theirs):
        assert answer.status_code == 404, answer.text
        assert crafted["c"]["result"] not in answer.text
    assert theirs.json()["detail"].replace("abcd3", "X") == unknown.json()["detail"].replace("abcd9", "X")
    assert hub.get(f"/api/v1/results/{crafted['c']['result']}", headers=MINE).status_code == 404
    assert hub.get("/api/v1/results/Task-abcd1", headers=MINE).status_code == 404  # the wrong type


def test_a_drs_object_is_found_by_a_unique_prefix(hub: TestClient, crafted: dict[str, Any]) -> None:
    bundle = crafted["a"]["bundle"]
    for ref in ("abcd1", "abcd1111", bundle):
        answer = hub.get(f"{DRS}/objects/{ref}", headers=MINE)
        assert answer.status_code == 200, (ref, answer.text)
        assert answer.json()["id"] == bundle and answer.json()["self_uri"].endswith(f"/{bundle}")
    blob = crafted["blobs"]["a"]
    assert hub.get(f"{DRS}/objects/{blob[:8]}", headers=MINE).json()["id"] == blob
    access = hub.get(f"{DRS}/objects/abcd1/access/https", headers=MINE)
    assert access.status_code == 200, access.text
    assert f"/stream/{bundle}?token=" in access.json()["url"]


def test_an_ambiguous_drs_prefix_lists_only_the_callers_objects(
    hub: TestClient, crafted: dict[str, Any]
) -> None:
    for path in (f"{DRS}/objects/abcd", f"{DRS}/objects/abcd/access/https"):
        answer = hub.get(path, headers=MINE)
        assert answer.status_code == 409, answer.text
        body = answer.json()
        assert body["status_code"] == 409  # the DRS spec's error body
        assert crafted["a"]["bundle"] in body["msg"] and crafted["b"]["bundle"] in body["msg"]
        assert crafted["c"]["bundle"] not in body["msg"]
    theirs = hub.get(f"{DRS}/objects/abcd", headers=THEIRS)
    assert theirs.status_code == 200 and theirs.json()["id"] == crafted["c"]["bundle"]


def test_unknown_and_other_tenants_drs_prefixes_are_404_alike(
    hub: TestClient, crafted: dict[str, Any]
) -> None:
    unknown = hub.get(f"{DRS}/objects/abcd9", headers=MINE)
    theirs = hub.get(f"{DRS}/objects/abcd3", headers=MINE)
    for answer in (unknown, theirs):
        assert answer.status_code == 404, answer.text
        assert crafted["c"]["bundle"] not in answer.text
    assert theirs.json()["msg"].replace("abcd3", "X") == unknown.json()["msg"].replace("abcd9", "X")
    assert hub.get(f"{DRS}/objects/{crafted['c']['bundle']}", headers=MINE).status_code == 404
    assert hub.get(f"{DRS}/objects/abc", headers=MINE).status_code == 404  # too short to be a prefix


def test_bulk_drs_requests_resolve_prefixes(hub: TestClient, crafted: dict[str, Any]) -> None:
    ids = ["abcd1", "abcd", "abcd3", "not-an-id"]
    body = hub.post(f"{DRS}/objects", json={"bulk_object_ids": ids}, headers=MINE).json()
    assert [o["id"] for o in body["resolved_drs_object"]] == [crafted["a"]["bundle"]]
    assert body["summary"] == {"requested": 4, "resolved": 1, "unresolved": 3}
    codes = {u["error_code"]: u["object_ids"] for u in body["unresolved_drs_objects"]}
    assert codes == {409: ["abcd"], 404: ["abcd3", "not-an-id"]}
    access = hub.post(
        f"{DRS}/objects/access",
        json={"bulk_object_access_ids": [{"bulk_object_id": r, "bulk_access_ids": ["https"]} for r in ids]},
        headers=MINE,
    ).json()
    assert [u["drs_object_id"] for u in access["resolved_drs_object_access_urls"]] == [crafted["a"]["bundle"]]
    codes = {u["error_code"]: u["object_ids"] for u in access["unresolved_drs_objects"]}
    assert codes == {409: ["abcd"], 404: ["abcd3", "not-an-id"]}
    assert crafted["c"]["bundle"] not in str(body) + str(access)


def test_tasks_of_a_transformation_by_its_key_prefix(hub: TestClient, crafted: dict[str, Any]) -> None:
    task = hub.get(f"/api/v1/tasks/{crafted['a']['task']}", headers=MINE).json()
    listed = hub.get(
        "/api/v1/tasks",
        params={"network": task["networks"][0], "transformation": short_key(task["transformation"])},
        headers=MINE,
    )
    assert listed.status_code == 200, listed.text
    assert [t["key"] for t in listed.json()["items"]] == [crafted["a"]["task"]]
