"""The MongoDB index against a real wire-protocol server: idempotent submission, atomic transitions."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from factories import hydration_network

from fepflow.models import InvalidTransition, TaskStatus
from fepflow.models.tasks import utcnow
from fepflow.store.index import Index
from fepflow.store.models import NotFound
from fepflow.store.results import ResultNotFound
from fepflow.store.tasks import TaskNotFound, TransitionConflict

pytestmark = pytest.mark.integration


@pytest.fixture()
def index(mongo_url: str, mongo_db_name: str) -> Iterator[Index]:
    idx = Index.connect(mongo_url, mongo_db_name)
    idx.ensure_indexes()
    yield idx
    idx.client.drop_database(mongo_db_name)
    idx.close()


def test_indexes_are_created_idempotently(index: Index) -> None:
    index.ensure_indexes()
    index.ensure_indexes()
    names = {ix["name"] for ix in index.db["tasks"].list_indexes()}
    assert {"claim", "network_status", "transformation_repeat"} <= names


def test_submitting_the_same_network_twice_creates_nothing(index: Index) -> None:
    net = hydration_network(["methane", "methanol", "ethanol"], repeats=2)
    first = index.submit_network(net)
    assert first.network_created
    assert first.created == {"components": 4, "systems": 6, "transformations": 3, "tasks": 6, "networks": 1}
    before = index.count_documents()
    again = index.submit_network(hydration_network(["ethanol", "methane", "methanol"], repeats=2))
    assert again.network_key == first.network_key
    assert sum(again.created.values()) == 0
    assert index.count_documents() == before
    assert sorted(again.task_keys) == sorted(first.task_keys)


def test_stored_network_is_rebuilt_exactly(index: Index) -> None:
    net = hydration_network(["benzene", "toluene"])
    index.submit_network(net)
    back = index.models.network(net.key)
    assert back == net
    assert back.edges[0].settings == net.edges[0].settings
    with pytest.raises(NotFound):
        index.models.network("AlchemicalNetwork-" + "0" * 64)


def test_networks_sharing_a_transformation_share_its_tasks(index: Index) -> None:
    a = hydration_network(["methane", "ethanol"], name="a", repeats=1)
    b = hydration_network(["ethanol", "benzene"], name="b", repeats=1)
    index.submit_network(a)
    report = index.submit_network(b)
    assert report.created["tasks"] == 1  # ethanol's task already existed
    assert report.created["transformations"] == 1
    shared = next(e for e in b.edges if "ethanol" in e.label)
    doc = index.db["tasks"].find_one({"transformation": shared.key})
    assert doc is not None and sorted(doc["networks"]) == sorted([a.key, b.key])
    assert index.tasks.counts(b.key)["waiting"] == 2
    assert index.tasks.counts(a.key)["waiting"] == 2
    assert sum(index.tasks.counts().values()) == 3


def test_an_interrupted_submission_leaves_no_network_and_resubmission_completes_it(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = hydration_network(["methane", "methanol"], repeats=1)

    def crash(*args: object, **kwargs: object) -> int:
        raise ConnectionError("server went away")

    monkeypatch.setattr(index.tasks, "add", crash)
    with pytest.raises(ConnectionError):
        index.submit_network(net)
    assert index.db["networks"].count_documents({}) == 0
    monkeypatch.undo()
    report = index.submit_network(net)
    assert report.network_created and report.created["tasks"] == 2


def test_task_lifecycle_and_refused_moves(index: Index) -> None:
    key = index.submit_network(hydration_network(["methane"], repeats=1)).task_keys[0]
    with pytest.raises(InvalidTransition, match=f"task {key}: cannot go from waiting to complete"):
        index.tasks.transition(key, TaskStatus.COMPLETE)
    [claimed] = index.tasks.claim()
    assert claimed.key == key and claimed.status == TaskStatus.SCHEDULED
    running = index.tasks.start(key)
    assert running.attempts == 1 and running.status == TaskStatus.RUNNING
    failed = index.tasks.fail(key, "NaN at state 3, iteration 12", "Traceback ...", run_id=running.run_id)
    assert failed.last_error.startswith("NaN") and failed.traceback == "Traceback ..."
    assert index.tasks.retry(key).status == TaskStatus.WAITING
    assert index.tasks.cancel(key).status == TaskStatus.CANCELLED
    with pytest.raises(InvalidTransition, match="cancelled is final"):
        index.tasks.transition(key, TaskStatus.WAITING)
    with pytest.raises(TaskNotFound):
        index.tasks.start("Task-missing")


def test_a_lost_race_is_reported_not_overwritten(index: Index) -> None:
    key = index.submit_network(hydration_network(["methane"], repeats=1)).task_keys[0]
    index.tasks.transition(key, TaskStatus.SCHEDULED, expected=TaskStatus.WAITING)
    with pytest.raises(TransitionConflict) as err:
        index.tasks.transition(key, TaskStatus.SCHEDULED, expected=TaskStatus.WAITING)
    assert err.value.current == "scheduled"
    assert index.tasks.get(key).status == TaskStatus.SCHEDULED


def test_claims_follow_priority(index: Index) -> None:
    report = index.submit_network(hydration_network(["methane", "ethanol", "benzene"], repeats=1))
    index.tasks.set_priority(report.task_keys[2], 50)
    index.tasks.set_priority(report.task_keys[0], 10)
    order = [t.key for t in index.tasks.claim(limit=5)]
    assert order[:2] == [report.task_keys[2], report.task_keys[0]]
    assert len(order) == 3


def test_eight_concurrent_workers_move_each_of_500_tasks_exactly_once(
    index: Index, mongo_url: str, mongo_db_name: str
) -> None:
    net = hydration_network(["methane", "methanol", "ethanol", "benzene", "toluene"], repeats=100)
    assert len(index.submit_network(net).task_keys) == 500
    moved: list[list[str]] = [[] for _ in range(8)]
    conflicts = Counter[int]()
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        own = Index.connect(mongo_url, mongo_db_name)  # its own connection pool, as a process would have
        try:
            while True:
                claimed = own.tasks.claim()
                if not claimed:
                    return
                task = claimed[0]
                own.tasks.start(task.key)
                moved[i].append(task.key)
                # a second, racing start of the same task must lose
                try:
                    own.tasks.start(task.key)
                except TransitionConflict:
                    conflicts[i] += 1
        except BaseException as exc:  # surface in the main thread
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    flat = [k for keys in moved for k in keys]
    assert len(flat) == 500 and len(set(flat)) == 500
    assert sum(conflicts.values()) == 500
    assert index.tasks.counts(net.key)["running"] == 500
    assert {d["attempts"] for d in index.db["tasks"].find({}, {"attempts": 1})} == {1}


def test_concurrent_transitions_of_the_same_tasks_have_one_winner_each(
    index: Index, mongo_url: str, mongo_db_name: str
) -> None:
    keys = index.submit_network(hydration_network(["methane", "ethanol"], repeats=20)).task_keys
    wins: list[list[str]] = [[] for _ in range(8)]

    def racer(i: int) -> None:
        own = Index.connect(mongo_url, mongo_db_name)
        order = list(keys)
        random.Random(i).shuffle(order)
        for key in order:
            try:
                own.tasks.transition(key, TaskStatus.SCHEDULED, expected=TaskStatus.WAITING)
                wins[i].append(key)
            except TransitionConflict:
                pass
        own.close()

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    flat = [k for w in wins for k in w]
    assert sorted(flat) == sorted(keys)


def test_pages_cover_every_task_once(index: Index) -> None:
    net = hydration_network(["methane", "methanol", "ethanol"], repeats=83)
    index.submit_network(net)
    seen, after, pages = [], None, 0
    while True:
        page = index.tasks.page(network=net.key, limit=100, after=after)
        seen += [d["_id"] for d in page.items]
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after
    assert pages == 3 and len(seen) == 249 == len(set(seen))
    assert index.networks.page(scopes=["default"]).items[0]["_id"] == net.key
    assert index.networks.page(scopes=["someone-else"]).items == []
    with pytest.raises(ValueError, match="page size"):
        index.tasks.page(limit=0)


def _run_one(index: Index) -> str:
    [task] = index.tasks.claim()
    index.tasks.start(task.key)
    return task.key


def test_a_result_is_visible_only_once_its_task_completes(index: Index) -> None:
    report = index.submit_network(hydration_network(["methane"], repeats=2))
    key = _run_one(index)
    drs = [{"id": "a" * 64, "size": 10, "checksum_sha256": "a" * 64, "name": "summary.json"}]
    ref = index.results.record(
        key,
        run_id=index.tasks.get(key).run_id,
        bundle_sha256="b" * 64,
        size_bytes=10,
        summary={"dg": -1.0},
        drs_objects=drs,
        bundle_drs_id="b" * 64,
    )
    task = index.tasks.get(key)
    ref_run = task.run_id
    assert task.status == TaskStatus.COMPLETE and task.result == ref
    assert index.results.get(ref.result_key)["summary"] == {"dg": -1.0}
    assert index.results.drs_object("a" * 64)["name"] == "summary.json"
    transformation = index.tasks.get(key).transformation_key
    assert [r["_id"] for r in index.results.for_transformation(transformation)] == [ref.result_key]
    # a second bundle for the same task (a duplicate run) is refused and leaves nothing behind
    with pytest.raises(TransitionConflict):
        index.results.record(key, run_id=ref_run, bundle_sha256="c" * 64, size_bytes=5, summary={})
    assert index.db["results"].count_documents({}) == 1
    # a task cancelled while it ran gets no result
    other = _run_one(index)
    assert other != key and other in report.task_keys
    index.tasks.cancel(other)
    with pytest.raises(TransitionConflict):
        index.results.record(
            other, run_id=index.tasks.get(other).run_id, bundle_sha256="d" * 64, size_bytes=5, summary={}
        )
    assert index.db["results"].count_documents({}) == 1
    with pytest.raises(ResultNotFound):
        index.results.get("Result-nope")


def test_same_bundle_recorded_twice_keeps_the_result(index: Index) -> None:
    index.submit_network(hydration_network(["methane"], repeats=1))
    key = _run_one(index)
    run = index.tasks.get(key).run_id
    ref = index.results.record(key, run_id=run, bundle_sha256="e" * 64, size_bytes=1, summary={"n": 1})
    with pytest.raises(TransitionConflict):
        index.results.record(key, run_id=run, bundle_sha256="e" * 64, size_bytes=1, summary={"n": 1})
    assert index.results.get(ref.result_key)["summary"] == {"n": 1}


def test_orphaned_results_are_never_served_and_are_cleaned(index: Index) -> None:
    index.submit_network(hydration_network(["methane"], repeats=1))
    key = _run_one(index)
    index.db["results"].insert_one({"_id": "Result-orphan", "task": key, "repeat": 0})
    with pytest.raises(ResultNotFound):
        index.results.get("Result-orphan")
    assert index.results.remove_orphans() == 1


def test_silent_running_tasks_are_requeued(index: Index) -> None:
    index.submit_network(hydration_network(["methane", "ethanol"], repeats=1))
    stale = _run_one(index)
    fresh = _run_one(index)
    index.db["tasks"].update_one({"_id": stale}, {"$set": {"updated_at": utcnow() - timedelta(minutes=10)}})
    assert index.tasks.heartbeat(fresh, run_id=index.tasks.get(fresh).run_id)
    moved = index.tasks.requeue_stale(utcnow() - timedelta(minutes=5), max_attempts=3)
    assert moved == [stale]
    assert index.tasks.get(stale).status == TaskStatus.WAITING
    assert "silent" in index.tasks.get(stale).last_error
    assert index.tasks.get(fresh).status == TaskStatus.RUNNING


def test_network_and_transformation_stores_answer_membership_and_scopes(index: Index) -> None:
    net = hydration_network(["methane", "ethanol"], repeats=1)
    index.submit_network(net, scope="org-camp-proj")
    edges = sorted(e.key for e in net.edges)
    assert sorted(index.transformations.of_network(net.key)) == edges
    assert index.transformations.networks_by_key([*edges, "Transformation-missing"]) == {
        e: [net.key] for e in edges
    }
    summary = index.transformations.summary(edges[0])
    assert summary is not None and summary["networks"] == [net.key] and "protocol" in summary["data"]
    assert index.networks.scopes_of(net.key) == ["org-camp-proj"]
    assert index.networks.scopes_of("AlchemicalNetwork-missing") is None
    assert index.networks.scopes_by_key([net.key, "AlchemicalNetwork-missing"]) == {
        net.key: ["org-camp-proj"]
    }
    doc = index.networks.summary(net.key)
    assert doc is not None and "data" not in doc and doc["n_edges"] == 2
    assert [d["_id"] for d in index.networks.page(granted=["org-*-*"]).items] == [net.key]
    assert index.networks.page(granted=["other-*-*"]).items == []


def test_task_queue_reads_for_the_orchestrator(index: Index) -> None:
    net = hydration_network(["methane", "ethanol"], repeats=1)
    keys = index.submit_network(net).task_keys
    assert index.tasks.last_completion() is None
    assert [d["_id"] for d in index.tasks.of_network(net.key)] == sorted(keys)
    assert set(index.tasks.docs([*keys, "Task-missing"])) == set(keys)
    claimed = [t.key for t in index.tasks.claim(limit=2)]
    assert index.tasks.scheduled_before(utcnow() - timedelta(minutes=1), limit=10) == []
    assert {t.key for t in index.tasks.scheduled_before(utcnow() + timedelta(seconds=1), limit=10)} == set(
        claimed
    )
    index.tasks.transition(
        claimed[0], TaskStatus.RUNNING, expected=TaskStatus.SCHEDULED, set_fields={"run_id": "r"}
    )
    index.tasks.cancel(claimed[0])
    assert index.tasks.cancelled_runs() == [(claimed[0], "r")]
    index.tasks.forget_run(claimed[0])
    assert index.tasks.cancelled_runs() == []
    assert index.tasks.of_network(net.key, TaskStatus.CANCELLED)[0]["_id"] == claimed[0]
    run = index.tasks.start(claimed[1]).run_id
    index.results.record(claimed[1], run_id=run, bundle_sha256="f" * 64, size_bytes=1, summary={})
    count, finished_at = index.tasks.last_completion() or (0, None)
    assert count == 1 and finished_at is not None


def test_a_dead_run_fails_its_task_and_requeues_it_while_attempts_remain(index: Index) -> None:
    key = index.submit_network(hydration_network(["methane"], repeats=1)).task_keys[0]
    index.tasks.claim()
    index.tasks.transition(
        key,
        TaskStatus.RUNNING,
        expected=TaskStatus.SCHEDULED,
        set_fields={"run_id": "r1"},
        inc={"attempts": 1},
    )
    assert index.tasks.fail_dead_run(key, "other", max_attempts=2).outcome == "untouched"
    assert index.tasks.fail_dead_run("Task-missing", "r1", max_attempts=2).outcome == "untouched"
    failure = index.tasks.fail_dead_run(key, "r1", max_attempts=2)
    assert (failure.outcome, failure.attempts) == ("requeued", 1)
    assert index.tasks.get(key).status == TaskStatus.WAITING
    index.tasks.claim()
    index.tasks.transition(
        key,
        TaskStatus.RUNNING,
        expected=TaskStatus.SCHEDULED,
        set_fields={"run_id": "r2"},
        inc={"attempts": 1},
    )
    assert index.tasks.fail_dead_run(key, "r2", max_attempts=2).outcome == "error"
    assert index.tasks.get(key).status == TaskStatus.ERROR


def test_published_bundles_list_each_completed_tasks_files(index: Index) -> None:
    net = hydration_network(["methane"], repeats=2)
    index.submit_network(net)
    key = _run_one(index)
    blob = {"id": "a" * 64, "name": "overlap.png", "size": 3, "checksum_sha256": "a" * 64}
    bundle = {"id": "b" * 64, "name": "bundle", "size": 3, "checksum_sha256": "b" * 64, "transformation": "T"}
    bundle["contents"] = [{"name": "overlap.png", "id": "a" * 64}, {"name": "gone", "id": "c" * 64}]
    index.results.record(
        key,
        run_id=index.tasks.get(key).run_id,
        bundle_sha256="d" * 64,
        size_bytes=3,
        summary={"ligand": "methane"},
        drs_objects=[blob, bundle],
        bundle_drs_id="b" * 64,
    )
    [published] = index.results.published_bundles(net.key)
    assert published.bundle["_id"] == "b" * 64 and [f["_id"] for f in published.files] == ["a" * 64]
    assert (published.ligand, published.repeat) == ("methane", index.tasks.get(key).repeat)
    assert set(index.results.drs_objects(["a" * 64, "e" * 64])) == {"a" * 64}
