"""Faults injected into real runs (harmonic oscillators through fepflow.runner.execute_task): MongoDB
paused past the stale limit mid-run, and the complete step failing after the upload. Each ends with
exactly one result and no orphan: no DRS object without a completed result, nothing half-indexed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import harmonic_network

from fepflow.devstack.servers import mongo_process
from fepflow.models import TaskStatus
from fepflow.runner import execute_task, requeue_stale
from fepflow.store.index import Index
from fepflow.store.objects import FileObjectStore
from fepflow.store.tasks import TaskQueue

pytestmark = pytest.mark.integration

STALE_S = 1.0


@pytest.fixture()
def paused_mongo(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A wire-protocol server of this test's own (the test pauses it): its URL and process group."""
    server, proc = mongo_process(tmp_path / "mongo")
    proc.start()
    assert proc.pid is not None
    try:
        yield server.url, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGCONT)
        proc.stop()


def _one_result_no_orphan(index: Index, objects: FileObjectStore, key: str) -> dict[str, Any]:
    """The task is complete with exactly one result, and every DRS document is one of its own."""
    task = index.tasks.get(key)
    assert task.status is TaskStatus.COMPLETE and task.result is not None
    assert [d["_id"] for d in index.db["results"].find()] == [task.result.result_key]
    docs = list(index.db["drs_objects"].find())
    bundle = index.results.drs_object(task.result.drs_id or "")
    assert bundle is not None
    assert sorted(d["_id"] for d in docs) == sorted([bundle["_id"], *(c["id"] for c in bundle["contents"])])
    assert set(index.results.drs_objects([d["_id"] for d in docs])) == {d["_id"] for d in docs}
    for doc in docs:
        objects.verify(doc["object_key"])
    return index.results.get(task.result.result_key)


def test_a_mongodb_pause_past_the_stale_limit_fences_off_the_old_worker(
    paused_mongo: tuple[str, int], tmp_path: Path, repo_root: Path
) -> None:
    """MongoDB stops answering mid-run for longer than the stale limit; when it is back, the stale
    sweep requeues the task and a second run takes it. The first worker (a process of its own)
    finds at its next heartbeat that its claim is lost: it stops without publishing, and the second
    run, which waited for the work folder, ends with the only result."""
    url, group = paused_mongo
    index = Index.connect(url, "faults")
    index.ensure_indexes()
    objects = FileObjectStore(tmp_path / "objects", fsync=False)
    network = harmonic_network(1, production_iterations=300, checkpoint_interval_iterations=10)
    key = index.submit_network(network).task_keys[0]
    argv = [sys.executable, str(repo_root / "tests" / "run_task_worker.py"), url, "faults", key,
            str(tmp_path / "work"), str(tmp_path / "objects"), "run-1"]  # fmt: skip
    lines: list[str] = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as worker:
        assert worker.stdout is not None
        for line in worker.stdout:  # until the first run is well into its production
            lines.append(line)
            if line.startswith("progress 20 "):
                break
        else:
            pytest.fail("the first run never got going:\n" + "".join(lines[-30:]))
        reader = threading.Thread(target=lambda: lines.extend(worker.stdout or []), daemon=True)
        reader.start()
        requeued: list[str] = []
        for _ in range(3):  # the pause, until the sweep is first to the task once the server is back
            os.killpg(group, signal.SIGSTOP)
            time.sleep(STALE_S + 1.5)
            os.killpg(group, signal.SIGCONT)
            requeued = requeue_stale(index, STALE_S, max_attempts=3)
            if requeued:
                break
        assert requeued == [key]
        second = execute_task(index, objects, key, work_root=tmp_path / "work", run_id="run-2",
                              heartbeat_s=0.5, stale_after_s=STALE_S, folder_wait_s=120)  # fmt: skip
        assert worker.wait(60) == 3, "".join(lines[-30:])
        reader.join(10)
    assert lines[-1].startswith("outcome TaskCancelled: "), lines[-1]
    assert second.ran and second.task.run_id == "run-2" and second.task.attempts == 2
    stored = _one_result_no_orphan(index, objects, key)
    assert stored["summary"] == second.summary
    index.close()


def test_a_complete_step_that_fails_after_the_upload_leaves_no_orphan(
    mongo_url: str, mongo_db_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection drops at the task's move to complete, after the bundle was uploaded and
    indexed: the result and its DRS documents are removed again and the task is in error; a rerun
    publishes the only result."""
    index = Index.connect(mongo_url, mongo_db_name)
    index.ensure_indexes()
    objects = FileObjectStore(tmp_path / "objects", fsync=False)
    key = index.submit_network(harmonic_network(1, production_iterations=40)).task_keys[0]
    transition = TaskQueue.transition
    seen: dict[str, int] = {}

    def drop_at_complete(self: TaskQueue, key: str, requested: Any, **kwargs: Any) -> Any:
        if TaskStatus(requested) is TaskStatus.COMPLETE and not seen:
            seen["drs_objects"] = index.db["drs_objects"].count_documents({})
            seen["results"] = index.db["results"].count_documents({})
            raise ConnectionError("connection to the index lost at the complete step")
        return transition(self, key, requested, **kwargs)

    monkeypatch.setattr(TaskQueue, "transition", drop_at_complete)
    with pytest.raises(ConnectionError):
        execute_task(index, objects, key, work_root=tmp_path / "work", run_id="run-1", heartbeat_s=0.2)
    assert seen["drs_objects"] >= 3 and seen["results"] == 1  # it failed after indexing
    assert any((tmp_path / "objects").rglob("*")), "the bundle was uploaded"
    task = index.tasks.get(key)
    assert task.status is TaskStatus.ERROR and task.last_error is not None
    assert "complete step" in task.last_error
    assert index.db["results"].count_documents({}) == 0
    assert index.db["drs_objects"].count_documents({}) == 0

    index.tasks.retry(key)
    again = execute_task(index, objects, key, work_root=tmp_path / "work", run_id="run-2", heartbeat_s=0.2)
    assert again.ran
    _one_result_no_orphan(index, objects, key)
    index.client.drop_database(mongo_db_name)
    index.close()
