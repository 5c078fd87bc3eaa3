"""Task checkpoints in the object store, so that a task resumes on another machine (a new Kubernetes pod).

A worker whose work folder dies with it sets ``FEPFLOW_ENGINE_CHECKPOINTS_IN_STORE``. While its task
runs, a thread watches the work folder: each time the engine has completed a snapshot (every
``checkpoint_interval_iterations``, see :mod:`fepflow.engine.checkpoint`), the folder is packed into one
tar, stored (content-addressed), and the task's index document points at it (``checkpoint``) - only
while this run still holds the task (the run id and attempt fence it, as they fence heartbeats); the
object it replaced is deleted. A run that starts with an empty work folder and finds a pointer unpacks
it first, and the engine resumes from the newest snapshot as after any crash. When the block ends
normally (the result was published) the pointer and its object are removed.

Packed: every file, except the live storage files of a storage that is open (sidecar ``clean`` false):
the snapshot holds their last checkpoint, and a half-written live file is never resumed from anyway.
"""

from __future__ import annotations

import logging
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from fepflow.engine.checkpoint import SIDECAR_SUFFIX, SNAPSHOT_SUFFIX, read_sidecar
from fepflow.engine.storage import storage_files
from fepflow.models.tasks import Task, utcnow
from fepflow.store.index import Index
from fepflow.store.objects import ObjectNotFound, ObjectStore
from fepflow.store.tasks import fence as run_fence

logger = logging.getLogger(__name__)

POLL_S = 5.0
"""Seconds between looks at the work folder for a new snapshot."""


def snapshot_state(workdir: Path) -> tuple[str, ...]:
    """The complete snapshots and sidecars in ``workdir``: changes when a checkpoint is worth storing."""
    markers = sorted(
        str(p.relative_to(workdir)) for p in workdir.glob(f"**/*{SNAPSHOT_SUFFIX}/iter-*/complete.json")
    )
    sidecars = sorted(
        f"{p.relative_to(workdir)}:{p.stat().st_mtime_ns}" for p in workdir.glob(f"**/*{SIDECAR_SUFFIX}")
    )
    return (*markers, *sidecars)


def _open_storage_files(workdir: Path) -> set[Path]:
    """Live storage files of storages open for writing (their sidecar is not ``clean``)."""
    skipped: set[Path] = set()
    for sidecar in workdir.glob(f"**/*{SIDECAR_SUFFIX}"):
        storage = sidecar.with_name(sidecar.name.removesuffix(SIDECAR_SUFFIX))
        if not (read_sidecar(storage) or {}).get("clean", False):
            skipped.update(storage_files(storage))
    return skipped


def pack(workdir: Path, target: Path) -> None:
    """Write ``workdir``'s resumable state into the tar ``target`` (paths relative to ``workdir``)."""
    skipped = _open_storage_files(workdir)
    with tarfile.open(target, "w") as tar:
        for path in sorted(workdir.rglob("*")):
            if path.is_file() and path not in skipped:
                tar.add(path, arcname=str(path.relative_to(workdir)), recursive=False)


def store(index: Index, objects: ObjectStore, task: Task, workdir: Path) -> str | None:
    """Pack and upload ``workdir``; point the task at it if this run still holds the task.

    Returns the object key, or None when the run no longer holds the task (the upload is removed)."""
    with tempfile.TemporaryDirectory(prefix="fepflow-checkpoint-") as tmp:
        tar = Path(tmp) / "checkpoint.tar"
        pack(workdir, tar)
        ref = objects.put_file(tar)
    fence = {"_id": task.key, **run_fence(task.run_id, task.attempts)}
    pointer = {"key": ref.key, "size": ref.size_bytes, "at": utcnow(), "run_id": task.run_id}
    before = index.tasks.coll.find_one_and_update(fence, {"$set": {"checkpoint": pointer}}, {"checkpoint": 1})
    if before is None:
        _delete(objects, ref.key)
        return None
    old = (before.get("checkpoint") or {}).get("key")
    if old and old != ref.key:
        _delete(objects, old)
    return ref.key


def restore(index: Index, objects: ObjectStore, key: str, workdir: Path) -> bool:
    """Unpack the task's stored checkpoint into ``workdir`` when that folder is empty; True if it did."""
    if workdir.exists() and any(workdir.iterdir()):
        return False
    doc = index.tasks.coll.find_one({"_id": key}, {"checkpoint": 1}) or {}
    pointer = doc.get("checkpoint")
    if not pointer:
        return False
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fepflow-checkpoint-") as tmp:
        tar = objects.download(pointer["key"], Path(tmp) / "checkpoint.tar")
        with tarfile.open(tar) as archive:
            archive.extractall(workdir, filter="data")
    logger.info("task %s: restored its checkpoint of %s from the object store", key, pointer.get("at"))
    return True


def discard(index: Index, objects: ObjectStore, key: str) -> None:
    """Remove the task's checkpoint pointer and object (its result is published)."""
    doc = index.tasks.coll.find_one_and_update(
        {"_id": key}, {"$unset": {"checkpoint": ""}}, {"checkpoint": 1}
    )
    old = ((doc or {}).get("checkpoint") or {}).get("key")
    if old:
        _delete(objects, old)


def _delete(objects: ObjectStore, key: str) -> None:
    with suppress(ObjectNotFound):
        objects.delete(key)


def _watch(
    index: Index, objects: ObjectStore, task: Task, workdir: Path, stop: threading.Event, poll_s: float
) -> None:
    seen = snapshot_state(workdir)
    while not stop.wait(poll_s):
        try:
            state = snapshot_state(workdir)
            if state != seen and any(SNAPSHOT_SUFFIX in s for s in state):
                store(index, objects, task, workdir)
                seen = state
        except (OSError, tarfile.TarError) as exc:  # a snapshot replaced while packing: next look
            logger.warning("task %s: checkpoint upload postponed: %s", task.key, exc)


@contextmanager
def stored_checkpoints(
    index: Index, objects: ObjectStore, task: Task, workdir: Path, *, enabled: bool, poll_s: float = POLL_S
) -> Iterator[None]:
    """Restore the task's checkpoint into an empty ``workdir``, store each new one while the block runs,
    and discard it when the block ends normally (nothing happens unless ``enabled``)."""
    if not enabled:
        yield
        return
    restore(index, objects, task.key, workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    watcher = threading.Thread(
        target=_watch,
        args=(index, objects, task, workdir, stop, poll_s),
        name=f"checkpoints-{task.key[:16]}",
        daemon=True,
    )
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join(timeout=max(60.0, 4 * poll_s))
    discard(index, objects, task.key)
