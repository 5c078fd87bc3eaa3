"""Run one task from the index to a published result: the work behind each simulation partition.

No Dagster here: the orchestrator's asset calls :func:`execute_task`, and so can a test or a script.

1. **Begin**: bring the task to ``running`` whatever route led here. A task in ``waiting`` or
   ``scheduled`` is started; one in ``error`` (a re-execution from Dagit) or still ``running`` with a
   silent heartbeat (its previous worker died) is failed and retried first, and resumes from the
   checkpoints in its working folder. A ``complete`` task is not run again; a ``cancelled`` one is
   refused.
2. **Run** the protocol on a device slot, holding the lock of the task's work folder (two runs
   never share it: a new run waits while a fenced-off one stops), with a heartbeat thread that keeps
   the task alive in the index and notices a lost claim (the task was cancelled, or the stale sweep
   requeued it and another run took it): the next iteration then stops the run.
3. **Publish**, unless the claim was lost: upload the bundle, verify it, index it and complete the
   task in one atomic step. Any failure records the error and traceback and leaves the task in
   ``error``.

Every move after the start names this run and attempt (``run_id``, ``attempts``), so a worker whose
task was taken from it can neither keep it alive, nor fail it, nor publish a result for it.
"""

from __future__ import annotations

import contextlib
import fcntl
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
from fepflow.settings import EngineSettings
from fepflow.store.checkpoints import stored_checkpoints
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore
from fepflow.store.publish import publish_result
from fepflow.store.tasks import TransitionConflict, new_run_id

log = logging.getLogger(__name__)


class TaskNotRunnable(RuntimeError):
    """The task is cancelled, or another live worker is running it."""


class TaskCancelled(RuntimeError):
    """The task left this run while it ran: cancelled, or requeued and taken by another run."""


class WorkFolderBusy(RuntimeError):
    """Another run still works in the task's folder."""


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


def begin(index: Index, key: str, *, run_id: str, stale_after_s: float, worker: str | None = None) -> Task:
    """Move task ``key`` to ``running`` for this run (see the module docstring for the routes); the
    task returned names the run and attempt that fence this worker's later moves."""
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
        with contextlib.suppress(TransitionConflict):  # it moved on meanwhile: see where it is now
            queue.fail(
                key,
                f"run {task.run_id} stopped without reporting; taken over by run {run_id}",
                run_id=task.run_id,
                attempt=task.attempts,
            )
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
    return queue.start(key, run_id=run_id, worker=worker_identity(worker))


@contextmanager
def heartbeat(index: Index, task: Task, interval_s: float) -> Iterator[threading.Event]:
    """Keep ``task`` alive in its run while the block runs; the event is set once the task is no
    longer running in that run and attempt (cancelled, or taken by another run)."""
    stopped = threading.Event()
    lost = threading.Event()
    key = task.key

    def beat() -> None:
        while not stopped.wait(interval_s):
            try:
                if not index.tasks.heartbeat(key, run_id=task.run_id, attempt=task.attempts):
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
def work_folder(work_root: Path, key: str, *, wait_s: float, lost: threading.Event) -> Iterator[Path]:
    """The task's work folder, locked (``flock`` on ``<key>.lock`` beside it) while the block runs.

    A run that took the task over waits here, up to ``wait_s`` seconds, until the run it fenced off
    has stopped; one whose own claim is lost meanwhile stops waiting (:class:`TaskCancelled`)."""
    root = Path(work_root)
    root.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    with open(root / f"{key}.lock", "a+b") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if lost.is_set():
                    raise TaskCancelled(
                        f"task {key} left this run while it waited for its work folder"
                    ) from None
                if time.monotonic() > deadline:
                    raise WorkFolderBusy(
                        f"task {key}: its work folder {root / key} is still in use by another run after "
                        f"{wait_s:.0f} s (a worker that lost the task but has not stopped?)"
                    ) from None
                time.sleep(0.2)
        try:
            yield root / key
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


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
    folder_wait_s: float | None = None,
) -> TaskOutcome:
    """Run task ``key`` (resuming its checkpoints) and publish its result; see the module docstring.
    Without ``run_id`` (a script, a test) the run gets a local id of its own. ``folder_wait_s``
    (``stale_after_s`` when None) bounds the wait for another run to leave the task's work folder."""
    started = time.perf_counter()
    current = index.tasks.get(key)
    if current.status is TaskStatus.COMPLETE and current.result is not None:
        doc = index.results.get(current.result.result_key)
        summary = TaskSummary.from_stored(doc["summary"]).to_stored()  # a summary of any version
        return TaskOutcome(task=current, summary=summary, result=current.result, ran=False)
    task = begin(index, key, run_id=run_id or new_run_id(), stale_after_s=stale_after_s, worker=worker)
    timings: dict[str, float] = {"begin_s": time.perf_counter() - started}
    try:
        with (
            heartbeat(index, task, heartbeat_s) as lost,
            work_folder(work_root, key, wait_s=folder_wait_s or stale_after_s, lost=lost) as workdir,
            stored_checkpoints(index, objects, task, workdir, enabled=EngineSettings().checkpoints_in_store),
        ):
            t0 = time.perf_counter()
            with slot_environment(slot):
                result = _run_protocol(index, task, workdir, lost, slot, platform, cache_dir, progress)
            timings["protocol_s"] = time.perf_counter() - t0
            _check_claim(index, task, lost)
            t0 = time.perf_counter()
            stored = result.summary.to_stored()
            ref = publish_result(index, objects, task_key=key, run_id=task.run_id, attempt=task.attempts,
                                 summary=stored, files=result.files)  # fmt: skip
            timings["publish_s"] = time.perf_counter() - t0
    except BaseException as exc:
        _record_failure(index, task, exc)
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


def _run_protocol(
    index: Index,
    task: Task,
    workdir: Path,
    lost: threading.Event,
    slot: Slot | None,
    platform: str | None,
    cache_dir: Path | None,
    progress: Callable[[str, int, int], None] | None,
) -> Any:
    """Run the task's protocol in ``workdir``; the next progress report after the claim is lost
    stops it (:class:`TaskCancelled`)."""
    transformation = index.models.get(task.transformation_key)
    assert isinstance(transformation, Transformation)
    protocol = protocol_class(transformation.protocol).for_transformation(transformation)
    extend = int(getattr(task, "extend_iterations", 0) or 0)

    def report(unit: str, done: int, total: int) -> None:
        if lost.is_set():
            raise TaskCancelled(
                f"task {task.key} left run {task.run_id} (cancelled, or taken by another run) "
                f"at {unit} {done}/{total}"
            )
        if progress is not None:
            progress(unit, done, total)

    kwargs: dict[str, Any] = {"cache_dir": cache_dir} if cache_dir is not None else {}
    return protocol.run_task(
        transformation,
        repeat=task.repeat,
        workdir=workdir,
        platform=platform,
        extend_iterations=extend,
        progress=report,
        threads=slot.threads if slot and not slot.is_gpu else None,
        **kwargs,
    )


def _check_claim(index: Index, task: Task, lost: threading.Event) -> None:
    """Raise :class:`TaskCancelled` (nothing is published) unless the task is still this run's."""
    if lost.is_set() or not index.tasks.heartbeat(task.key, run_id=task.run_id, attempt=task.attempts):
        raise TaskCancelled(
            f"task {task.key} left run {task.run_id} (cancelled, or taken by another run) before its "
            "result was published; nothing was published"
        )


def _record_failure(index: Index, task: Task, exc: BaseException) -> None:
    """running -> error with the traceback, in this run only; a task that moved on (cancelled, or
    taken by another run) is left as it is."""
    key = task.key
    try:
        index.tasks.fail(
            key,
            f"{type(exc).__name__}: {exc}"[:2000],
            traceback.format_exc()[-20000:],
            run_id=task.run_id,
            attempt=task.attempts,
        )
    except TransitionConflict:
        log.info(
            "task %s was no longer running in run %s when it failed (%s)",
            key,
            task.run_id,
            type(exc).__name__,
        )
    except Exception as store_exc:  # the store itself is down: the stale-task sweep will requeue it
        log.error("could not record the failure of task %s: %s", key, store_exc)


def requeue_stale(index: Index, stale_after_s: float, *, max_attempts: int) -> list[str]:
    """Running tasks whose heartbeat stopped (worker died) go back to waiting, unless they have had
    ``max_attempts`` attempts (they stay in error, saying so)."""
    return index.tasks.requeue_stale(utcnow() - timedelta(seconds=stale_after_s), max_attempts=max_attempts)


def remove_orphans(index: Index, older_than_s: float) -> int:
    """Remove result and DRS documents no task's result owns, written over ``older_than_s`` ago."""
    return index.results.remove_orphans(utcnow() - timedelta(seconds=older_than_s))
