"""Result documents and DRS objects, indexed only after their bytes are verified in the object store.

A result becomes visible in one atomic step: the task's move running -> complete that stores a
reference to it. Readers go through that reference, so a result whose task did not complete (the
worker died, the task was cancelled meanwhile) is never served, and is removed when noticed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.collection import Collection

from fepflow.models.states import TaskStatus
from fepflow.models.tasks import ResultRef, utcnow
from fepflow.store.batched import find_in
from fepflow.store.bulk import bulk_upsert
from fepflow.store.tasks import TaskQueue


class ResultNotFound(KeyError):
    def __str__(self) -> str:
        return f"result {self.args[0]} is not in the index"


def result_key(task_key: str, bundle_sha256: str) -> str:
    return "Result-" + hashlib.sha256(f"{task_key}/{bundle_sha256}".encode()).hexdigest()


@dataclass(frozen=True)
class PublishedBundle:
    """A completed task's result bundle: its DRS document, the DRS documents of its files (in the
    bundle's order; a file not indexed is left out) and its result's ligand (when it names one) and
    repeat."""

    bundle: dict[str, Any]
    files: list[dict[str, Any]]
    ligand: str | None
    repeat: int


class ResultIndex:
    """The ``results`` and ``drs_objects`` collections."""

    def __init__(
        self, results: Collection[dict[str, Any]], drs: Collection[dict[str, Any]], tasks: TaskQueue
    ) -> None:
        self.coll = results
        self.drs = drs
        self.tasks = tasks

    def index_specs(self) -> dict[str, list[IndexModel]]:
        return {
            self.coll.name: [
                IndexModel([("transformation", ASCENDING)], name="transformation"),
                IndexModel([("task", ASCENDING)], name="task"),
            ],
            self.drs.name: [IndexModel([("checksum_sha256", ASCENDING)], name="checksum")],
        }

    def record(
        self,
        task_key: str,
        *,
        bundle_sha256: str,
        size_bytes: int,
        summary: dict[str, Any],
        drs_objects: list[dict[str, Any]] | None = None,
        bundle_drs_id: str | None = None,
    ) -> ResultRef:
        """Index a verified bundle and complete the task; on a lost race nothing stays indexed."""
        task = self.tasks.get(task_key)
        key = result_key(task_key, bundle_sha256)
        ref = ResultRef(
            result_key=key, bundle_sha256=bundle_sha256, size_bytes=size_bytes, drs_id=bundle_drs_id
        )
        bulk_upsert(
            self.drs,
            [
                UpdateOne({"_id": d["id"]}, {"$setOnInsert": {**d, "created_at": utcnow()}}, upsert=True)
                for d in drs_objects or []
            ],
        )
        self.coll.replace_one(
            {"_id": key},
            {
                "task": task_key,
                "transformation": task.transformation_key,
                "repeat": task.repeat,
                "bundle_sha256": bundle_sha256,
                "size_bytes": size_bytes,
                "drs_id": bundle_drs_id,
                "summary": summary,
                "created_at": utcnow(),
            },
            upsert=True,
        )
        try:
            self.tasks.transition(
                task_key,
                TaskStatus.COMPLETE,
                expected=TaskStatus.RUNNING,
                set_fields={"result": ref.model_dump()},
            )
        except Exception:
            if not self._owned(key, task_key):
                self.coll.delete_one({"_id": key})
            raise
        return ref

    def get(self, key: str) -> dict[str, Any]:
        """A result whose task completed with it; anything else is reported as not found."""
        doc = self.coll.find_one({"_id": key})
        if doc is None:
            raise ResultNotFound(key)
        if not self._owned(key, doc["task"]):
            raise ResultNotFound(key)
        return doc

    def _owned(self, key: str, task_key: str) -> bool:
        """True when task ``task_key`` completed with result ``key``."""
        owner = self.tasks.coll.find_one({"_id": task_key}, {"status": 1, "result": 1})
        return (
            owner is not None
            and owner.get("status") == TaskStatus.COMPLETE.value
            and (owner.get("result") or {}).get("result_key") == key
        )

    def for_transformation(self, transformation_key: str) -> list[dict[str, Any]]:
        """Completed results of every repeat of a transformation, by repeat index."""
        keys = [
            t["result"]["result_key"]
            for t in self.tasks.coll.find(
                {"transformation": transformation_key, "status": TaskStatus.COMPLETE.value}, {"result": 1}
            )
        ]
        return sorted(self.coll.find({"_id": {"$in": keys}}), key=lambda d: d["repeat"])

    def drs_object(self, object_id: str) -> dict[str, Any] | None:
        return self.drs.find_one({"_id": object_id})

    def drs_objects(self, object_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The DRS documents of those of ``object_ids`` that are indexed, by id."""
        return {str(d["_id"]): d for d in find_in(self.drs, "_id", object_ids)}

    def published_bundles(self, network_key: str) -> list[PublishedBundle]:
        """The result bundles of a network's completed tasks, ordered by their ligand's name."""
        tasks = self.tasks.of_network(network_key, TaskStatus.COMPLETE)
        bundle_ids = [t["result"]["drs_id"] for t in tasks if (t.get("result") or {}).get("drs_id")]
        bundles = self.drs_objects(bundle_ids)
        files = self.drs_objects([c["id"] for b in bundles.values() for c in b.get("contents", [])])
        of_bundle = {
            r["drs_id"]: r
            for r in find_in(self.coll, "drs_id", bundle_ids, {"drs_id": 1, "summary.ligand": 1, "repeat": 1})
        }
        order = sorted(
            bundles.values(),
            key=lambda b: str(of_bundle.get(b["_id"], {}).get("summary", {}).get("ligand", "")),
        )
        return [
            PublishedBundle(
                bundle=b,
                files=[files[c["id"]] for c in b.get("contents", []) if c["id"] in files],
                ligand=of_bundle.get(b["_id"], {}).get("summary", {}).get("ligand"),
                repeat=int(of_bundle.get(b["_id"], {}).get("repeat", 0)),
            )
            for b in order
        ]

    def remove_orphans(self) -> int:
        """Delete result documents that no completed task points at (left by a crash mid-record)."""
        live = {
            t["result"]["result_key"]
            for t in self.tasks.coll.find(
                {"status": TaskStatus.COMPLETE.value, "result": {"$exists": True}}, {"result": 1}
            )
        }
        orphans = [d["_id"] for d in self.coll.find({}, {"_id": 1}) if d["_id"] not in live]
        if orphans:
            self.coll.delete_many({"_id": {"$in": orphans}})
        return len(orphans)
