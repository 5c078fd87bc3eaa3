"""Publish one task's result: bytes to the object store, verified, then indexed in one atomic step.

Order matters. Every file is uploaded and read back by size and checksum before anything is
indexed; the DRS documents and the result document are written next; the task's move
running -> complete that references the result comes last (``ResultIndex.record``). A failure at any
point leaves at most unreferenced bytes and documents that no completed task points at, which
readers never serve and ``ResultIndex.remove_orphans`` clears.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fepflow.models.tasks import ResultRef
from fepflow.store.drs import blob_documents, bundle_document, manifest_bytes, with_result
from fepflow.store.index import Index
from fepflow.store.objects import ObjectRef, ObjectStore
from fepflow.store.results import result_key

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """The object store does not hold what was uploaded: nothing was indexed."""


def upload_verified(objects: ObjectStore, path: Path) -> ObjectRef:
    """Upload ``path`` and check that the store reports the same size and checksum back."""
    ref = objects.put_file(path)
    stored = objects.stat(ref.key)
    if stored.size_bytes != ref.size_bytes or stored.sha256 != ref.sha256:
        raise PublishError(
            f"{path.name}: the store holds {stored.size_bytes} bytes with sha256 {stored.sha256}, "
            f"uploaded {ref.size_bytes} bytes with sha256 {ref.sha256}"
        )
    return ref


def publish_result(
    index: Index,
    objects: ObjectStore,
    *,
    task_key: str,
    summary: dict[str, Any],
    files: dict[str, Path],
    name: str | None = None,
) -> ResultRef:
    """Upload a bundle, index its DRS objects and result, and complete the task (running -> complete)."""
    if "summary.json" not in files:
        raise PublishError(f"task {task_key}: a result bundle must hold summary.json, got {sorted(files)}")
    task = index.tasks.get(task_key)
    refs = {member: upload_verified(objects, Path(path)) for member, path in files.items()}
    blobs = blob_documents(refs, task_key=task_key, transformation_key=task.transformation_key)
    manifest = manifest_bytes(blobs, task_key=task_key, transformation_key=task.transformation_key)
    manifest_ref = objects.put_bytes(manifest)
    if objects.stat(manifest_ref.key).size_bytes != len(manifest):
        raise PublishError(f"task {task_key}: the stored manifest does not match what was uploaded")
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
        bundle_sha256=manifest_ref.sha256,
        size_bytes=bundle["size"],
        summary=summary,
        drs_objects=with_result([*blobs, bundle], key),
        bundle_drs_id=bundle["id"],
    )
    log.info("task %s: result %s indexed with %d files (%d bytes)", task_key, key, len(blobs), bundle["size"])
    return ref
