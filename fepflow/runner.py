"""Run one task from the index to a published result: the work behind each simulation partition.

No Dagster here: the orchestrator's asset calls :func:`execute_task`, and so can a test or a script.

1. **Begin**: bring the task to ``running`` whatever route led here. A task in ``waiting`` or
   ``scheduled`` is started; one in ``error`` (a re-execution from Dagit) or still ``running`` with a
   silent heartbeat (its previous worker died) is failed and retried first, and resumes from the
   checkpoints in its working folder. A ``complete`` task is not run again; a ``cancelled`` one is
   refused.
2. **Run** the protocol on a device slot, with a heartbeat thread that keeps the task alive in the
   index and notices a cancellation (the next iteration then stops the run).
3. **Publish**: upload the bundle, verify it, index it and complete the task in one atomic step.
   Any failure records the error and traceback and leaves the task in ``error``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fepflow.engine.slots import Slot
from fepflow.models.protocol_registry import protocol_class
from fepflow.models.results import TaskSummary
from fepflow.models.states import TaskStatus
from fepflow.models.tasks import ResultRef, Task, utcnow
from fepflow.models.transformations import Transformation
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore
from fepflow.store.publish import publish_result
from fepflow.store.tasks import TransitionConflict

log = logging.getLogger(__name__)


class TaskNotRunnable(RuntimeError):
    """The task is cancelled, or another live worker is running it."""


class TaskCancelled(RuntimeError):
    """The task was cancelled in the index while it ran."""


@dataclass
class TaskOutcome:
    """What :func:`execute_task` did."""

    task: Task
    summary: dict[str, Any]
    """The task's summary as stored (:meth:`fepflow.models.results.TaskSummary.to_stored`)."""
    result: ResultRef
    ran: bool
    """False when the task had completed before (nothing was run or published)."""
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


def worker_identity(name: str | None = None) -> str:
    """``name``, or host:pid of this process: recorded on the task so people see where it ran."""
    return name or f"{socket.gethostname()}:{os.getpid()}"


def begin(
    index: Index, key: str, *, run_id: str | None, stale_after_s: float, worker: str | None = None
) -> Task:
    """Move task ``key`` to ``running`` for this run (see the module docstring for the routes)."""
    queue = index.tasks
    task = queue.get(key)
    if task.status is TaskStatus.CANCELLED:
        raise TaskNotRunnable(f"task {key} was cancelled; it will not run")
    if task.status is TaskStatus.RUNNING:
        silent = (utcnow() - task.updated_at).total_seconds()
        if silent < stale_after_s and task.run_id not in {None, run_id}:
            raise TaskNotRunnable(
                f"task {key} is running in run {task.run_id} (heartbeat {silent:.0f} s ago); "
                "cancel it first or wait for that run to end"
            )
        queue.fail(key, f"run {task.run_id} stopped without reporting; taken over by run {run_id}")
        task = queue.get(key)
    if task.status is TaskStatus.ERROR:
        task = queue.retry(key)
    if task.status is TaskStatus.WAITING:
        try:
            task = queue.transition(key, TaskStatus.SCHEDULED, expected=TaskStatus.WAITING)
        except TransitionConflict:
            task = queue.get(key)
    if task.status is not TaskStatus.SCHEDULED:
        raise TaskNotRunnable(f"task {key} is {task.status.value}, not ready to run")
    return queue.transition(
        key,
        TaskStatus.RUNNING,
        expected=TaskStatus.SCHEDULED,
        inc={"attempts": 1},
        set_fields={"run_id": run_id, "worker": worker_identity(worker)},
        unset_fields=["last_error", "traceback"],
    )


@contextmanager
def heartbeat(index: Index, key: str, interval_s: float) -> Iterator[threading.Event]:
    """Keep ``key`` alive while the block runs; the event is set once the task is no longer running."""
    stopped = threading.Event()
    lost = threading.Event()

    def beat() -> None:
        while not stopped.wait(interval_s):
            try:
                if not index.tasks.heartbeat(key):
                    lost.set()
                    return
            except Exception as exc:  # a store hiccup must not kill the simulation
                log.warning("heartbeat of task %s failed: %s", key, exc)

    thread = threading.Thread(target=beat, name=f"heartbeat-{key[:16]}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stopped.set()
        thread.join(timeout=5)


@contextmanager
def slot_environment(slot: Slot | None) -> Iterator[None]:
    """Confine this process's GPU use to the slot's device while the block runs."""
    saved = {k: os.environ.get(k) for k in (slot.environment() if slot else {})}
    os.environ.update(slot.environment() if slot else {})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute_task(
    index: Index,
    objects: ObjectStore,
    key: str,
    *,
    work_root: Path,
    run_id: str | None = None,
    slot: Slot | None = None,
    platform: str | None = None,
    cache_dir: Path | None = None,
    heartbeat_s: float = 30.0,
    stale_after_s: float = 600.0,
    progress: Callable[[str, int, int], None] | None = None,
    worker: str | None = None,
) -> TaskOutcome:
    """Run task ``key`` (resuming its checkpoints) and publish its result; see the module docstring."""
    started = time.perf_counter()
    current = index.tasks.get(key)
    if current.status is TaskStatus.COMPLETE and current.result is not None:
        doc = index.results.get(current.result.result_key)
        summary = TaskSummary.from_stored(doc["summary"]).to_stored()  # a summary of any version
        return TaskOutcome(task=current, summary=summary, result=current.result, ran=False)
    task = begin(index, key, run_id=run_id, stale_after_s=stale_after_s, worker=worker)
    timings: dict[str, float] = {"begin_s": time.perf_counter() - started}
    try:
        transformation = index.models.get(task.transformation_key)
        assert isinstance(transformation, Transformation)
        protocol = protocol_class(transformation.protocol).for_transformation(transformation)
        extend = int(getattr(task, "extend_iterations", 0) or 0)
        workdir = Path(work_root) / key
        with heartbeat(index, key, heartbeat_s) as lost, slot_environment(slot):

            def report(unit: str, done: int, total: int) -> None:
                if lost.is_set():
                    raise TaskCancelled(
                        f"task {key} left the running state (cancelled?) at {unit} {done}/{total}"
                    )
                if progress is not None:
                    progress(unit, done, total)

            t0 = time.perf_counter()
            kwargs: dict[str, Any] = {"cache_dir": cache_dir} if cache_dir is not None else {}
            result = protocol.run_task(
                transformation,
                repeat=task.repeat,
                workdir=workdir,
                platform=platform,
                extend_iterations=extend,
                progress=report,
                threads=slot.threads if slot and not slot.is_gpu else None,
                **kwargs,
            )
            timings["protocol_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        stored = result.summary.to_stored()
        ref = publish_result(index, objects, task_key=key, summary=stored, files=result.files)
        timings["publish_s"] = time.perf_counter() - t0
    except BaseException as exc:
        _record_failure(index, key, exc)
        raise
    done = index.tasks.get(key)
    return TaskOutcome(
        task=done,
        summary=stored,
        result=ref,
        ran=True,
        seconds=time.perf_counter() - started,
        timings=timings,
    )


def _record_failure(index: Index, key: str, exc: BaseException) -> None:
    """running -> error with the traceback; a task already moved on (cancelled) is left as it is."""
    try:
        index.tasks.fail(key, f"{type(exc).__name__}: {exc}"[:2000], traceback.format_exc()[-20000:])
    except TransitionConflict:
        log.info("task %s was no longer running when its run failed (%s)", key, type(exc).__name__)
    except Exception as store_exc:  # the store itself is down: the stale-task sweep will requeue it
        log.error("could not record the failure of task %s: %s", key, store_exc)


def requeue_stale(index: Index, stale_after_s: float) -> list[str]:
    """Running tasks whose heartbeat stopped (worker died) go back to waiting."""
    return index.tasks.requeue_stale(utcnow() - timedelta(seconds=stale_after_s))
