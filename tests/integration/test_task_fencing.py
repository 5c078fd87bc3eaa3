"""The task lifecycle against a real wire-protocol server: every transition after the claim names the
run that owns the task (fencing), the stale sweep honours max_attempts, and DRS objects are served
only for results whose task completed with them (orphans cleaned)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from factories import hydration_network

from fepflow.models import TaskStatus
from fepflow.models.tasks import utcnow
from fepflow.store.index import Index
from fepflow.store.tasks import TransitionConflict

pytestmark = pytest.mark.integration


@pytest.fixture()
def index(mongo_url: str, mongo_db_name: str) -> Iterator[Index]:
    idx = Index.connect(mongo_url, mongo_db_name)
    idx.ensure_indexes()
    yield idx
    idx.client.drop_database(mongo_db_name)
    idx.close()


def _start(index: Index, key: str, run_id: str) -> int:
    """Claim ``key`` and start it in run ``run_id``; the attempt it is."""
    index.tasks.transition(key, TaskStatus.SCHEDULED, expected=TaskStatus.WAITING)
    return index.tasks.start(key, run_id=run_id).attempts


def _silence(index: Index, key: str, seconds: float = 600) -> None:
    index.db["tasks"].update_one(
        {"_id": key}, {"$set": {"updated_at": utcnow() - timedelta(seconds=seconds)}}
    )


def _drs(task: str, transformation: str, ident: str) -> list[dict[str, object]]:
    blob = {"id": ident * 32, "kind": "blob", "name": "summary.json", "size": 2, "checksum_sha256": ident * 64,
            "object_key": ident * 64, "task": task, "transformation": transformation}  # fmt: skip
    bundle = {"id": ident.upper() * 32, "kind": "bundle", "name": "bundle", "size": 2, "checksum_sha256": "f" * 64,
              "object_key": "e" * 64, "contents": [{"name": "summary.json", "id": ident * 32}], "task": task,
              "transformation": transformation}  # fmt: skip
    return [blob, bundle]


def test_a_requeued_tasks_old_run_is_fenced_off(index: Index) -> None:
    """Item 7: after the sweep took the task from a silent run (a MongoDB pause past the stale limit)
    and another run started it, the old run's heartbeat, failure and result are all refused."""
    key = index.submit_network(hydration_network(["methane"], repeats=1)).task_keys[0]
    first = _start(index, key, "run-1")
    _silence(index, key)
    assert index.tasks.requeue_stale(utcnow() - timedelta(seconds=60), max_attempts=3) == [key]
    second = _start(index, key, "run-2")
    assert second == first + 1

    assert not index.tasks.heartbeat(key, run_id="run-1", attempt=first)
    assert index.tasks.heartbeat(key, run_id="run-2", attempt=second)
    with pytest.raises(TransitionConflict):
        index.tasks.fail(key, "late failure of the old run", run_id="run-1", attempt=first)
    transformation = index.tasks.get(key).transformation_key
    with pytest.raises(TransitionConflict):
        index.results.record(key, run_id="run-1", attempt=first, bundle_sha256="a" * 64, size_bytes=2,
                             summary={"by": "run-1"}, drs_objects=_drs(key, transformation, "a"),
                             bundle_drs_id="A" * 32)  # fmt: skip
    assert index.db["results"].count_documents({}) == 0
    assert index.db["drs_objects"].count_documents({}) == 0
    task = index.tasks.get(key)
    assert (task.status, task.run_id, task.attempts) == (TaskStatus.RUNNING, "run-2", second)

    ref = index.results.record(key, run_id="run-2", attempt=second, bundle_sha256="b" * 64, size_bytes=2,
                               summary={"by": "run-2"}, drs_objects=_drs(key, transformation, "b"),
                               bundle_drs_id="B" * 32)  # fmt: skip
    assert index.tasks.get(key).result == ref
    assert index.results.get(ref.result_key)["summary"] == {"by": "run-2"}


def test_an_older_attempt_of_the_same_run_is_fenced_off(index: Index) -> None:
    """Item 7: a run that starts a task again (a step retry) fences off its own earlier attempt."""
    key = index.submit_network(hydration_network(["methane"], repeats=1)).task_keys[0]
    first = _start(index, key, "run-1")
    index.tasks.fail(key, "transient", run_id="run-1", attempt=first)
    index.tasks.retry(key)
    second = _start(index, key, "run-1")
    assert not index.tasks.heartbeat(key, run_id="run-1", attempt=first)
    assert index.tasks.heartbeat(key, run_id="run-1", attempt=second)


def test_the_stale_sweep_honours_max_attempts(index: Index) -> None:
    """Item 8: a task whose worker keeps dying (it kills its node) is requeued until it has had
    max_attempts attempts, then stays in error saying why."""
    key = index.submit_network(hydration_network(["methane"], repeats=1)).task_keys[0]
    outcomes = []
    for attempt in range(1, 5):
        if index.tasks.get(key).status is not TaskStatus.WAITING:
            break
        _start(index, key, f"run-{attempt}")
        _silence(index, key)
        outcomes.append(index.tasks.requeue_stale(utcnow() - timedelta(seconds=60), max_attempts=3))
    assert outcomes == [[key], [key], []]
    task = index.tasks.get(key)
    assert (task.status, task.attempts) == (TaskStatus.ERROR, 3)
    assert task.last_error is not None
    assert "silent since" in task.last_error and "3 attempts" in task.last_error
    assert "FEPFLOW_ENGINE_MAX_ATTEMPTS" in task.last_error


def test_drs_objects_of_a_result_whose_completion_failed_are_removed(index: Index) -> None:
    """Item 10: the task was cancelled while its result was being indexed: the complete step fails
    and neither the result nor its DRS documents stay behind."""
    key = index.submit_network(hydration_network(["methane"], repeats=1)).task_keys[0]
    attempt = _start(index, key, "run-1")
    transformation = index.tasks.get(key).transformation_key
    index.tasks.cancel(key)
    with pytest.raises(TransitionConflict):
        index.results.record(key, run_id="run-1", attempt=attempt, bundle_sha256="a" * 64, size_bytes=2,
                             summary={}, drs_objects=_drs(key, transformation, "a"),
                             bundle_drs_id="A" * 32)  # fmt: skip
    assert index.db["results"].count_documents({}) == 0
    assert index.db["drs_objects"].count_documents({}) == 0


def test_orphaned_drs_objects_are_never_served_and_are_cleaned(index: Index) -> None:
    """Item 10: DRS documents left by a crash between indexing and completing are not served (by id,
    in bulk, or in a network's bundles), and the orphan sweep removes them and their result."""
    net = hydration_network(["methane"], repeats=2)
    keys = index.submit_network(net).task_keys
    transformation = index.tasks.get(keys[0]).transformation_key
    done = _start(index, keys[0], "run-1")
    ref = index.results.record(keys[0], run_id="run-1", attempt=done, bundle_sha256="b" * 64, size_bytes=2,
                               summary={}, drs_objects=_drs(keys[0], transformation, "b"),
                               bundle_drs_id="B" * 32)  # fmt: skip
    _start(index, keys[1], "run-2")
    # what a worker that died mid-record leaves: a result and its DRS documents, the task still running
    orphans = [{**d, "_id": d["id"], "result": "Result-orphan", "results": ["Result-orphan"],
                "created_at": utcnow(), "updated_at": utcnow()} for d in _drs(keys[1], transformation, "c")]  # fmt: skip
    index.db["drs_objects"].insert_many(orphans)
    index.db["results"].insert_one(
        {"_id": "Result-orphan", "task": keys[1], "repeat": 1, "created_at": utcnow()}
    )

    assert index.results.drs_object("c" * 32) is None
    assert index.results.drs_object("C" * 32) is None
    assert set(index.results.drs_objects(["b" * 32, "c" * 32, "B" * 32, "C" * 32])) == {"b" * 32, "B" * 32}
    assert [p.bundle["_id"] for p in index.results.published_bundles(net.key)] == ["B" * 32]

    # young orphans may be a record in flight: the sweep leaves them alone
    assert index.results.remove_orphans(older_than=utcnow() - timedelta(minutes=10)) == 0
    assert index.db["drs_objects"].count_documents({}) == 4
    assert index.results.remove_orphans(older_than=utcnow() + timedelta(seconds=1)) == 3
    assert sorted(d["_id"] for d in index.db["drs_objects"].find()) == ["B" * 32, "b" * 32]
    assert [d["_id"] for d in index.db["results"].find()] == [ref.result_key]


def test_a_replaced_result_takes_its_own_drs_objects_with_it(index: Index) -> None:
    """Item 10: an extended task's new result replaces the old one; the old result's DRS documents
    are no longer served and are removed, files both results share stay."""
    key = index.submit_network(hydration_network(["methane"], repeats=1)).task_keys[0]
    transformation = index.tasks.get(key).transformation_key
    shared = _drs(key, transformation, "a")[0]
    old_bundle = {**_drs(key, transformation, "a")[1], "id": "O" * 32}
    attempt = _start(index, key, "run-1")
    index.results.record(key, run_id="run-1", attempt=attempt, bundle_sha256="b" * 64, size_bytes=2,
                         summary={}, drs_objects=[shared, old_bundle], bundle_drs_id="O" * 32)  # fmt: skip
    index.tasks.mark_extend(key, 10)
    attempt = _start(index, key, "run-2")
    new_bundle = {**_drs(key, transformation, "a")[1], "id": "N" * 32}
    ref = index.results.record(key, run_id="run-2", attempt=attempt, bundle_sha256="c" * 64, size_bytes=2,
                               summary={}, drs_objects=[shared, new_bundle], bundle_drs_id="N" * 32)  # fmt: skip
    assert set(index.results.drs_objects(["a" * 32, "O" * 32, "N" * 32])) == {"a" * 32, "N" * 32}
    index.results.remove_orphans(older_than=utcnow() + timedelta(seconds=1))
    assert sorted(d["_id"] for d in index.db["drs_objects"].find()) == ["N" * 32, "a" * 32]
    assert [d["_id"] for d in index.db["results"].find()] == [ref.result_key]
