"""Names and short keys on the hub: a network by name or unique key prefix, tasks and transformations
by unique key prefix, in paths, queries and bodies; an ambiguity lists only the caller's candidates,
and another scope's keys are never matched nor named."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import OTHER_SCOPE, SCOPE, bearer, submit_smiles
from fastapi.testclient import TestClient

from fepflow.store.index import Index
from fepflow.store.lookup import AmbiguousKey, prefix_regex, resolve_network, short_key

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]

MINE = bearer([SCOPE])
THEIRS = bearer([OTHER_SCOPE], subject="mallory")


def _net(hexes: str, name: str, scope: str) -> dict[str, Any]:
    return {"_id": f"AlchemicalNetwork-{hexes.ljust(64, '0')}", "name": name, "scopes": [scope], "n_edges": 1}


@pytest.fixture()
def crafted(hub_index: Index) -> dict[str, str]:
    """Network documents whose keys share prefixes: two in SCOPE, one in OTHER_SCOPE."""
    docs = {
        "a": _net("abcd1111", "kinase set", SCOPE),
        "b": _net("abcd2222", "kinase set", SCOPE),
        "c": _net("abcd3333", "rival set", OTHER_SCOPE),
        "d": _net("beef0000", "unique", SCOPE),
    }
    hub_index.db["networks"].insert_many(list(docs.values()))
    return {k: str(v["_id"]) for k, v in docs.items()}


def test_a_network_is_found_by_prefix_with_or_without_its_type_and_by_name(
    hub: TestClient, crafted: dict[str, str]
) -> None:
    for ref in ("abcd1", "AlchemicalNetwork-abcd1", "abcd1111", "beef", "unique"):
        answer = hub.get(f"/api/v1/networks/{ref}", headers=MINE)
        assert answer.status_code == 200, (ref, answer.text)
    assert hub.get("/api/v1/networks/abcd1", headers=MINE).json()["key"] == crafted["a"]
    assert hub.get("/api/v1/networks/unique", headers=MINE).json()["key"] == crafted["d"]


def test_an_ambiguous_prefix_or_name_lists_only_the_callers_candidates(
    hub: TestClient, crafted: dict[str, str]
) -> None:
    for ref in ("abcd", "kinase set"):
        answer = hub.get(f"/api/v1/networks/{ref}", headers=MINE)
        assert answer.status_code == 409, answer.text
        detail = answer.json()["detail"]
        assert crafted["a"] in detail and crafted["b"] in detail
        assert crafted["c"] not in detail and "rival" not in detail
    # the other scope sees only its own network under the same prefix: no ambiguity, no leak
    theirs = hub.get("/api/v1/networks/abcd", headers=THEIRS)
    assert theirs.status_code == 200 and theirs.json()["key"] == crafted["c"]


def test_another_scopes_network_is_not_found_by_prefix_or_name(
    hub: TestClient, crafted: dict[str, str]
) -> None:
    for ref in ("abcd3", "rival set", "abc", "nothing-like-it"):
        answer = hub.get(f"/api/v1/networks/{ref}", headers=MINE)
        assert answer.status_code == 404, (ref, answer.text)
        assert crafted["c"] not in answer.text


def test_tasks_and_transformations_by_prefix_in_paths_queries_and_bodies(hub: TestClient) -> None:
    submitted = submit_smiles(hub, {"methanol": "CO", "ethanol": "CCO"}, name="alcohols").json()
    task, transformation = submitted["tasks"][0], submitted["transformations"][0]
    assert hub.get(f"/api/v1/tasks/{short_key(task)}", headers=MINE).json()["key"] == task
    by_name = hub.get("/api/v1/tasks", params={"network": "alcohols"}, headers=MINE).json()["items"]
    assert {t["key"] for t in by_name} == set(submitted["tasks"])
    results = hub.get(f"/api/v1/transformations/{short_key(transformation)}/results", headers=MINE)
    assert results.status_code == 200 and results.json()["transformation"] == transformation
    changed = hub.post(
        "/api/v1/tasks/priority", json={"tasks": [short_key(task)], "priority": 7}, headers=MINE
    ).json()["changed"]
    assert changed == [task]
    assert hub.get(f"/api/v1/tasks/{task}", headers=MINE).json()["priority"] == 7
    status = hub.get("/api/v1/networks/alcohols/status", headers=MINE).json()
    assert status["network"] == submitted["network"] and status["total"] == len(submitted["tasks"])
    # the other tenant sees none of it, by prefix or by name
    assert hub.get(f"/api/v1/tasks/{short_key(task)}", headers=THEIRS).status_code == 404
    assert hub.get("/api/v1/networks/alcohols", headers=THEIRS).status_code == 404
    refused = hub.post("/api/v1/tasks/cancel", json={"tasks": [short_key(task)]}, headers=THEIRS)
    assert refused.status_code == 404 and task not in refused.text


def test_resolution_in_the_store_is_scoped_and_strict(hub_index: Index, crafted: dict[str, str]) -> None:
    coll = hub_index.networks.coll
    assert resolve_network(coll, "abcd2", [SCOPE]) == crafted["b"]
    assert resolve_network(coll, "abcd", ["rival-*-*"]) == crafted["c"]
    with pytest.raises(AmbiguousKey) as caught:
        resolve_network(coll, "abcd", ["*-*-*"])
    assert len(caught.value.candidates) == 3
    assert prefix_regex("Task-abcd", ("AlchemicalNetwork",)) is None  # the wrong type is no prefix
    assert prefix_regex("abc", ("Task",)) is None  # too short
    assert prefix_regex("ABCD", ("Task",)) is None  # keys are lowercase hex
    assert short_key(crafted["a"]) == "abcd11110000"
