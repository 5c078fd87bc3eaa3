"""Tenants: task keys are content hashes, so two scopes that submit the same chemistry share tasks.
A caller may change a task only when its scopes cover every owner of it (every network holding it,
by all of that network's scopes); no answer names another scope's networks or tells whether another
scope submitted the same chemistry before."""

from __future__ import annotations

import pytest
from api_support import OTHER_SCOPE, SCOPE, bearer, complete_task, submit_smiles
from fastapi.testclient import TestClient

from fepflow.models.states import TaskStatus
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]

MINE = bearer([SCOPE])
THEIRS = bearer([OTHER_SCOPE], subject="mallory")
BOTH = bearer([SCOPE, OTHER_SCOPE], subject="alice")


def _tasks(hub: TestClient, net: str, headers: dict[str, str]) -> list[dict]:
    return hub.get("/api/v1/tasks", params={"network": net}, headers=headers).json()["items"]


def _fail(index: Index, key: str) -> None:
    index.tasks.transition(key, TaskStatus.SCHEDULED, expected=TaskStatus.WAITING)
    run = index.tasks.start(key)
    index.tasks.fail(key, "boom", traceback="Traceback\nboom", run_id=run.run_id)


MUTATIONS = [
    ("/api/v1/tasks/priority", {"priority": 9}),
    ("/api/v1/tasks/cancel", {}),
    ("/api/v1/tasks/extend", {"iterations": 3}),
    ("/api/v1/tasks/restart", {}),
]


@pytest.mark.parametrize("same_network", [True, False], ids=["same-network", "overlapping-network"])
def test_a_task_shared_with_another_scope_is_not_changed_from_one_scope(
    hub: TestClient, hub_index: Index, hub_objects: ObjectStore, same_network: bool
) -> None:
    mine = submit_smiles(hub, {"methanol": "CO", "ethanol": "CCO"}).json()["network"]
    theirs_mols = {"methanol": "CO", "ethanol": "CCO"} if same_network else {"methanol": "CO"}
    theirs = submit_smiles(hub, theirs_mols, scope=OTHER_SCOPE).json()["network"]
    assert (mine == theirs) is same_network
    shared = _tasks(hub, theirs, THEIRS)[0]["key"]  # methanol's: in both scopes' networks
    before = hub_index.tasks.docs([shared])[shared]
    for path, extra in MUTATIONS:
        if path.endswith("restart"):
            _force_error(hub_index, shared)
            before = hub_index.tasks.docs([shared])[shared]
        r = hub.post(path, json={"tasks": [shared], **extra}, headers=MINE)
        assert r.status_code == 403, (path, r.text)
        assert OTHER_SCOPE not in r.text and (same_network or theirs not in r.text)
        after = hub_index.tasks.docs([shared])[shared]
        for field in ("status", "priority", "extend_iterations"):
            assert after.get(field) == before.get(field), (path, field)
    # restarting the caller's whole network leaves the shared errored task alone, and says so
    r = hub.post("/api/v1/tasks/restart", json={"network": mine}, headers=MINE)
    assert r.status_code == 200 and r.json()["changed"] == []
    assert [s["task"] for s in r.json()["skipped"]] == [shared]
    assert hub_index.tasks.get(shared).status == TaskStatus.ERROR
    # a caller whose scopes cover every owner may change it
    r = hub.post("/api/v1/tasks/restart", json={"tasks": [shared]}, headers=BOTH)
    assert r.status_code == 200 and r.json()["changed"] == [shared]
    r = hub.post("/api/v1/tasks/priority", json={"tasks": [shared], "priority": 4}, headers=BOTH)
    assert r.status_code == 200 and hub_index.tasks.get(shared).priority == 4


def _force_error(index: Index, key: str) -> None:
    doc = index.tasks.docs([key])[key]
    if doc["status"] == TaskStatus.ERROR.value:
        return
    if doc["status"] == TaskStatus.COMPLETE.value:
        index.tasks.coll.update_one({"_id": key}, {"$set": {"status": TaskStatus.WAITING.value}})
    _fail(index, key)


def test_tasks_held_only_by_the_callers_scopes_are_still_changed(hub: TestClient, hub_index: Index) -> None:
    mine = submit_smiles(hub, {"methanol": "CO", "ethanol": "CCO"}).json()["network"]
    submit_smiles(hub, {"methanol": "CO"}, scope=OTHER_SCOPE)
    keys = [t["key"] for t in _tasks(hub, mine, MINE)]
    own = [k for k, d in hub_index.tasks.docs(keys).items() if d["networks"] == [mine]]
    assert own and len(own) < len(keys)  # ethanol's tasks only
    r = hub.post("/api/v1/tasks/priority", json={"tasks": own, "priority": 2}, headers=MINE)
    assert r.status_code == 200 and r.json()["changed"] == own


def test_repeats_of_a_network_another_scope_holds_are_refused(hub: TestClient, hub_index: Index) -> None:
    net = submit_smiles(hub, {"methanol": "CO"}).json()["network"]
    assert submit_smiles(hub, {"methanol": "CO"}, scope=OTHER_SCOPE).json()["network"] == net
    n = hub_index.tasks.coll.count_documents({})
    r = hub.post(f"/api/v1/networks/{net}/repeats", json={"count": 2}, headers=MINE)
    assert r.status_code == 403 and OTHER_SCOPE not in r.text
    assert hub_index.tasks.coll.count_documents({}) == n
    assert hub.post(f"/api/v1/networks/{net}/repeats", json={"count": 1}, headers=BOTH).status_code == 200


def test_a_submission_does_not_tell_whether_another_scope_submitted_it(hub: TestClient) -> None:
    body = {"methanol": "CO", "ethanol": "CCO"}
    first = submit_smiles(hub, body, scope=OTHER_SCOPE).json()
    second = submit_smiles(hub, body).json()
    assert second["network"] == first["network"] and second["created"] is True
    assert second["created_documents"] == first["created_documents"]
    assert sum(first["created_documents"].values()) > 0
    # a network overlapping another scope's: its shared documents count as new to this scope
    third = submit_smiles(hub, {"methanol": "CO"}, scope="acme-kinases-p2")
    fresh = submit_smiles(hub, {"propanol": "CCCO"}, scope="acme-kinases-p3")
    assert third.json()["created_documents"] == fresh.json()["created_documents"]
    assert third.json()["created_documents"]["transformations"] == 1
    # and the same scope submitting again learns that nothing was created
    again = submit_smiles(hub, body).json()
    assert again["created"] is False and sum(again["created_documents"].values()) == 0


def test_no_answer_names_another_scopes_network(
    hub: TestClient, hub_index: Index, hub_objects: ObjectStore
) -> None:
    mine = submit_smiles(hub, {"methanol": "CO", "ethanol": "CCO"}).json()["network"]
    theirs = submit_smiles(hub, {"methanol": "CO"}, scope=OTHER_SCOPE).json()["network"]
    tasks = _tasks(hub, mine, MINE)
    shared = next(t for t in tasks if t["key"] in {x["key"] for x in _tasks(hub, theirs, THEIRS)})
    complete_task(hub_index, hub_objects, shared["key"], dg=-1.0, error=0.1, ligand="methanol")
    texts = [
        hub.get("/api/v1/tasks", params={"network": mine}, headers=MINE).text,
        hub.get(f"/api/v1/tasks/{shared['key']}", headers=MINE).text,
        hub.get(f"/api/v1/transformations/{shared['transformation']}/results", headers=MINE).text,
        hub.get(f"/api/v1/networks/{mine}/results", headers=MINE).text,
        hub.get(f"/api/v1/networks/{mine}/archive", headers=MINE).text,
        hub.get("/api/v1/networks", headers=MINE).text,
    ]
    for text in texts:
        assert theirs not in text and OTHER_SCOPE not in text
