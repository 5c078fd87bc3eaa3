"""GA4GH DRS documents for a task's result bundle, as stored in the ``drs_objects`` collection.

Every file of a bundle becomes a *blob* object; the bundle itself is a compound object whose bytes are
a JSON manifest listing its files. Ids are derived from the task and the content, so publishing the
same bundle twice gives the same ids, and the same bytes produced by two tasks (which may belong to
networks of different scopes) get two ids. The hub turns these documents into DrsObjects.

Blob:   {_id, id, kind: "blob", name, size, checksum_sha256, mime_type, object_key,
         task, transformation, result}
Bundle: {_id, id, kind: "bundle", name, size, checksum_sha256, mime_type, object_key (the manifest),
         contents: [{name, id}], task, transformation, result}
(``created_time`` is added when the document is first indexed.)
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass
from typing import Any

from fepflow.store.objects import ObjectRef

_MIME = {
    ".json": "application/json",
    ".npz": "application/octet-stream",
    ".nc": "application/x-netcdf",
    ".log": "text/plain",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".csv": "text/csv",
}


def mime_type(name: str) -> str:
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return _MIME.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def drs_id(task_key: str, role: str, sha256: str) -> str:
    """A stable DRS id: 32 hex digits of sha256(task / role / content checksum)."""
    return hashlib.sha256(f"{task_key}/{role}/{sha256}".encode()).hexdigest()[:32]


def bundle_checksum(content_checksums: list[str]) -> str:
    """DRS's checksum of a bundle: sha256 of its contents' checksums, sorted and concatenated."""
    return hashlib.sha256("".join(sorted(content_checksums)).encode()).hexdigest()


@dataclass(frozen=True)
class BundleDocuments:
    """The DRS documents of one bundle, and the manifest the bundle object's bytes must be."""

    blobs: list[dict[str, Any]]
    bundle: dict[str, Any]
    manifest: bytes

    @property
    def all(self) -> list[dict[str, Any]]:
        return [*self.blobs, self.bundle]


def blob_documents(
    files: dict[str, ObjectRef], *, task_key: str, transformation_key: str
) -> list[dict[str, Any]]:
    """One blob document per stored bundle member (name -> its stored reference)."""
    docs = []
    for name, ref in sorted(files.items()):
        oid = drs_id(task_key, name, ref.sha256)
        docs.append(
            {
                "_id": oid,
                "id": oid,
                "kind": "blob",
                "name": name,
                "size": ref.size_bytes,
                "checksum_sha256": ref.sha256,
                "mime_type": mime_type(name),
                "object_key": ref.key,
                "task": task_key,
                "transformation": transformation_key,
            }
        )
    return docs


def manifest_bytes(blobs: list[dict[str, Any]], *, task_key: str, transformation_key: str) -> bytes:
    """The bundle's manifest: which files it holds, with their DRS ids, sizes and checksums."""
    manifest = {
        "task": task_key,
        "transformation": transformation_key,
        "files": [{k: b[k] for k in ("name", "id", "size", "checksum_sha256", "mime_type")} for b in blobs],
    }
    return json.dumps(manifest, indent=1, sort_keys=True).encode()


def bundle_document(
    blobs: list[dict[str, Any]],
    manifest: ObjectRef,
    *,
    task_key: str,
    transformation_key: str,
    name: str,
) -> dict[str, Any]:
    checksum = bundle_checksum([b["checksum_sha256"] for b in blobs])
    oid = drs_id(task_key, "bundle", checksum)
    return {
        "_id": oid,
        "id": oid,
        "kind": "bundle",
        "name": name,
        "size": sum(b["size"] for b in blobs),
        "checksum_sha256": checksum,
        "mime_type": "application/json",
        "object_key": manifest.key,
        "contents": [{"name": b["name"], "id": b["id"]} for b in blobs],
        "task": task_key,
        "transformation": transformation_key,
    }


def with_result(docs: list[dict[str, Any]], result_key: str) -> list[dict[str, Any]]:
    return [{**d, "result": result_key} for d in docs]
