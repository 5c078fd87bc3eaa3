"""Hub tasks: filter, priority, cancel, restart errored (by traceback pattern), repeats, extend."""

from __future__ import annotations

import pytest
from api_support import OTHER_SCOPE, SCOPE, bearer, complete_task, submit_smiles
from fastapi.testclient import TestClient

from fepflow.models.states import TaskStatus
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]

H = bearer([SCOPE])


def _network(hub: TestClient, repeats: int = 2) -> tuple[str, list[dict]]:
    net = submit_smiles(hub, {"methanol": "CO", "ethanol": "CCO"}, repeats=repeats).json()["network"]
    tasks = hub.get("/api/v1/tasks", params={"network": net}, headers=H).json()["items"]
    return net, tasks


def _fail(index: Index, key: str, message: str) -> None:
    index.tasks.transition(key, TaskStatus.SCHEDULED, expected=TaskStatus.WAITING)
    run = index.tasks.start(key)
    index.tasks.fail(
        key, message, traceback=f"Traceback (most recent call last):\n  ...\n{message}", run_id=run.run_id
    )


def test_list_filters_and_pages(hub: TestClient, hub_index: Index) -> None:
    net, tasks = _network(hub)
    assert len(tasks) == 4 and {t["status"] for t in tasks} == {"waiting"}
    _fail(hub_index, tasks[0]["key"], "OpenMMException: NaN")
    errored = hub.get("/api/v1/tasks", params={"network": net, "status": "error"}, headers=H).json()
    assert [t["key"] for t in errored["items"]] == [tasks[0]["key"]]
    assert "NaN" in errored["items"][0]["traceback"]
    t = tasks[1]["transformation"]
    only_t = hub.get("/api/v1/tasks", params={"network": net, "transformation": t}, headers=H).json()["items"]
    assert {x["transformation"] for x in only_t} == {t} and len(only_t) == 2
    page = hub.get("/api/v1/tasks", params={"network": net, "limit": 3}, headers=H).json()
    rest = hub.get("/api/v1/tasks", params={"network": net, "after": page["next_after"]}, headers=H).json()
    assert [x["key"] for x in page["items"] + rest["items"]] == sorted(x["key"] for x in tasks)
    assert hub.get("/api/v1/tasks", headers=H).status_code == 422  # the network is required
    assert hub.get(f"/api/v1/tasks/{tasks[0]['key']}", headers=H).json()["status"] == "error"


def test_priority_and_cancel(hub: TestClient, hub_index: Index, hub_objects: ObjectStore) -> None:
    _, tasks = _network(hub)
    keys = [t["key"] for t in tasks]
    r = hub.post("/api/v1/tasks/priority", json={"tasks": keys[:2], "priority": 7}, headers=H)
    assert r.status_code == 200 and r.json()["changed"] == keys[:2]
    assert [hub_index.tasks.get(k).priority for k in keys] == [7, 7, 0, 0]
    assert hub_index.tasks.claim(limit=1)[0].key in keys[:2]  # higher priority is claimed first
    complete_task(hub_index, hub_objects, keys[3], dg=-1.0, error=0.1, ligand="x")
    r = hub.post("/api/v1/tasks/cancel", json={"tasks": [keys[2], keys[3]]}, headers=H).json()
    assert r["changed"] == [keys[2]]
    assert r["skipped"][0]["task"] == keys[3] and "complete" in r["skipped"][0]["reason"]
    assert hub_index.tasks.get(keys[2]).status == TaskStatus.CANCELLED


def test_restart_only_errored_tasks_matching_the_pattern(hub: TestClient, hub_index: Index) -> None:
    net, tasks = _network(hub)
    keys = [t["key"] for t in tasks]
    _fail(hub_index, keys[0], "OpenMMException: Particle coordinate is NaN")
    _fail(hub_index, keys[1], "CalledProcessError: sqm timed out")
    r = hub.post(
        "/api/v1/tasks/restart", json={"network": net, "traceback_pattern": r"coordinate is NaN"}, headers=H
    )
    assert r.status_code == 200 and r.json()["changed"] == [keys[0]]
    assert hub_index.tasks.get(keys[0]).status == TaskStatus.WAITING
    assert hub_index.tasks.get(keys[1]).status == TaskStatus.ERROR
    bad = hub.post("/api/v1/tasks/restart", json={"network": net, "traceback_pattern": "("}, headers=H)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "traceback_pattern"]
    r = hub.post("/api/v1/tasks/restart", json={"tasks": [keys[1], keys[2]]}, headers=H).json()
    assert r["changed"] == [keys[1]]  # keys[2] is waiting, not errored


def test_add_repeats_numbers_after_the_highest(hub: TestClient, hub_index: Index) -> None:
    net, _tasks = _network(hub, repeats=1)
    r = hub.post(f"/api/v1/networks/{net}/repeats", json={"count": 2}, headers=H)
    assert r.status_code == 200 and len(r.json()["changed"]) == 4
    repeats = sorted(hub_index.tasks.get(k).repeat for k in r.json()["changed"])
    assert repeats == [1, 1, 2, 2]
    status = hub.get(f"/api/v1/networks/{net}/status", headers=H).json()
    assert status["total"] == 6
    stranger = hub.post(
        f"/api/v1/networks/{net}/repeats",
        json={"count": 1, "transformations": ["Transformation-x"]},
        headers=H,
    )
    assert stranger.status_code == 404 and "not part of network" in stranger.text


def test_extend_moves_complete_tasks_back_to_waiting(
    hub: TestClient, hub_index: Index, hub_objects: ObjectStore
) -> None:
    _, tasks = _network(hub, repeats=1)
    done, waiting = tasks[0]["key"], tasks[1]["key"]
    complete_task(hub_index, hub_objects, done, dg=-2.0, error=0.2, ligand="x")
    r = hub.post("/api/v1/tasks/extend", json={"tasks": [done, waiting], "iterations": 500}, headers=H)
    assert r.status_code == 200 and r.json()["changed"] == [done, waiting]
    extended = hub.get(f"/api/v1/tasks/{done}", headers=H).json()
    assert extended["status"] == "waiting" and extended["extend_iterations"] == 500
    assert hub_index.tasks.extend_iterations(waiting) == 500
    hub.post("/api/v1/tasks/cancel", json={"tasks": [waiting]}, headers=H)
    r = hub.post("/api/v1/tasks/extend", json={"tasks": [waiting], "iterations": 5}, headers=H).json()
    assert r["changed"] == [] and "cancelled" in r["skipped"][0]["reason"]


def test_tasks_of_another_scope_are_404(hub: TestClient) -> None:
    net, tasks = _network(hub)
    other = bearer([OTHER_SCOPE], subject="mallory")
    key = tasks[0]["key"]
    missing = "Task-" + "0" * 64
    for path, body in [
        ("/api/v1/tasks/priority", {"tasks": [key], "priority": 9}),
        ("/api/v1/tasks/cancel", {"tasks": [key]}),
        ("/api/v1/tasks/extend", {"tasks": [key], "iterations": 1}),
        ("/api/v1/tasks/restart", {"tasks": [key]}),
    ]:
        theirs = hub.post(path, json=body, headers=other)
        absent = hub.post(path, json={**body, "tasks": [missing]}, headers=H)
        assert theirs.status_code == absent.status_code == 404
        assert theirs.json()["detail"].replace(key, "K") == absent.json()["detail"].replace(missing, "K")
    assert hub.get(f"/api/v1/tasks/{key}", headers=other).status_code == 404
    assert hub.get("/api/v1/tasks", params={"network": net}, headers=other).status_code == 404
    assert hub.get(f"/api/v1/tasks/{key}", headers=H).json()["priority"] == 0
