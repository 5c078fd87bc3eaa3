"""Publish one task's result: bytes to the object store, verified, then indexed in one atomic step.

Order matters. Every file is uploaded and its content verified in the store (read back and hashed,
or the store's own checksum of the bytes it received: ``ObjectStore.verify``) before anything is
indexed; the result document and the DRS documents are written next; the task's move
running -> complete that references the result comes last, fenced on the run and attempt that
produced it (``ResultIndex.record``). When that step fails, the documents are removed again; a crash
leaves at most unreferenced bytes and documents that no task's result owns, which readers never
serve and ``ResultIndex.remove_orphans`` clears.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fepflow.models.tasks import ResultRef
from fepflow.store.drs import blob_documents, bundle_document, manifest_bytes, with_result
from fepflow.store.index import Index
from fepflow.store.objects import ChecksumMismatch, ObjectRef, ObjectStore
from fepflow.store.results import result_key

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """The object store does not hold what was uploaded: nothing was indexed."""


def upload_verified(objects: ObjectStore, path: Path) -> ObjectRef:
    """Upload ``path`` and check that the store holds those bytes (content, not only size)."""
    return _verified(objects, objects.put_file(path), path.name)


def _verified(objects: ObjectStore, ref: ObjectRef, name: str) -> ObjectRef:
    try:
        stored = objects.verify(ref.key)
    except ChecksumMismatch as exc:
        raise PublishError(f"{name}: the store does not hold the bytes uploaded ({exc})") from exc
    if stored.size_bytes != ref.size_bytes:
        raise PublishError(f"{name}: the store holds {stored.size_bytes} bytes, uploaded {ref.size_bytes}")
    return ref


def publish_result(
    index: Index,
    objects: ObjectStore,
    *,
    task_key: str,
    run_id: str | None,
    attempt: int | None = None,
    summary: dict[str, Any],
    files: dict[str, Path],
    name: str | None = None,
) -> ResultRef:
    """Upload a bundle, index its DRS objects and result, and complete the task (running -> complete
    in run ``run_id``, attempt ``attempt``)."""
    if "summary.json" not in files:
        raise PublishError(f"task {task_key}: a result bundle must hold summary.json, got {sorted(files)}")
    task = index.tasks.get(task_key)
    refs = {member: upload_verified(objects, Path(path)) for member, path in files.items()}
    blobs = blob_documents(refs, task_key=task_key, transformation_key=task.transformation_key)
    manifest = manifest_bytes(blobs, task_key=task_key, transformation_key=task.transformation_key)
    manifest_ref = _verified(objects, objects.put_bytes(manifest), f"task {task_key}: the bundle manifest")
    bundle = bundle_document(
        blobs,
        manifest_ref,
        task_key=task_key,
        transformation_key=task.transformation_key,
        name=name or f"result bundle of task {task_key} (repeat {task.repeat})",
    )
    key = result_key(task_key, manifest_ref.sha256)
    ref = index.results.record(
        task_key,
        run_id=run_id,
        attempt=attempt,
        bundle_sha256=manifest_ref.sha256,
        size_bytes=bundle["size"],
        summary=summary,
        drs_objects=with_result([*blobs, bundle], key),
        bundle_drs_id=bundle["id"],
    )
    log.info("task %s: result %s indexed with %d files (%d bytes)", task_key, key, len(blobs), bundle["size"])
    return ref
