"""Result documents and DRS objects, indexed only after their bytes are verified in the object store.

A result becomes visible in one atomic step: the task's move running -> complete that stores a
reference to it, fenced on the run (and attempt) that produced it. Readers go through that reference,
so a result whose task did not complete with it (the worker died, the task was cancelled or taken by
another run meanwhile) is never served. The same holds for DRS documents: each one lists the results
it belongs to (``results``), and is served only while its task's recorded result is one of them.
When the complete step fails, the result and its DRS documents are removed at once; what a crash
leaves behind is removed by :meth:`ResultIndex.remove_orphans`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.collection import Collection

from fepflow.models.states import TaskStatus
from fepflow.models.tasks import ResultRef, Task, utcnow
from fepflow.store.batched import find_in
from fepflow.store.bulk import bulk_upsert
from fepflow.store.tasks import TaskQueue, TransitionConflict

log = logging.getLogger(__name__)


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
        run_id: str | None,
        attempt: int | None = None,
        bundle_sha256: str,
        size_bytes: int,
        summary: dict[str, Any],
        drs_objects: list[dict[str, Any]] | None = None,
        bundle_drs_id: str | None = None,
    ) -> ResultRef:
        """Index a verified bundle and complete the task, which must still be running in run
        ``run_id`` (attempt ``attempt``); when the complete step fails, nothing stays indexed."""
        task = self.tasks.get(task_key)
        if task.status is not TaskStatus.RUNNING or task.run_id != run_id:
            raise TransitionConflict(task_key, f"running in run {run_id}", task.status.value, "complete")
        key = result_key(task_key, bundle_sha256)
        ref = ResultRef(
            result_key=key, bundle_sha256=bundle_sha256, size_bytes=size_bytes, drs_id=bundle_drs_id
        )
        previous = task.result.result_key if task.result else None
        drs_ids = [str(d["id"]) for d in drs_objects or []]
        try:
            self._index(task, key, ref, summary, drs_objects or [])
            self.tasks.complete(task_key, ref.model_dump(), run_id=run_id, attempt=attempt)
        except BaseException:
            try:
                if not self._owned(key, task_key):
                    self._discard(key, drs_ids)
            except Exception as exc:  # the store is down: remove_orphans clears them later
                log.warning(
                    "task %s: could not remove result %s after a failed complete: %s", task_key, key, exc
                )
            raise
        if previous and previous != key:  # an extension replaced it
            self._discard(previous, self._drs_ids_of(previous))
        return ref

    def _index(
        self, task: Task, key: str, ref: ResultRef, summary: dict[str, Any], drs_objects: list[dict[str, Any]]
    ) -> None:
        """Write the result document, then the DRS documents naming it among their results."""
        now = utcnow()
        self.coll.replace_one(
            {"_id": key},
            {
                "task": task.key,
                "transformation": task.transformation_key,
                "repeat": task.repeat,
                "bundle_sha256": ref.bundle_sha256,
                "size_bytes": ref.size_bytes,
                "drs_id": ref.drs_id,
                "summary": summary,
                "created_at": now,
            },
            upsert=True,
        )
        ops = []
        for d in drs_objects:
            first = {k: v for k, v in d.items() if k not in {"results", "updated_at", "created_at"}}
            ops.append(
                UpdateOne(
                    {"_id": d["id"]},
                    {
                        "$setOnInsert": {**first, "task": task.key, "result": key, "created_at": now},
                        "$addToSet": {"results": key},
                        "$set": {"updated_at": now},
                    },
                    upsert=True,
                )
            )
        bulk_upsert(self.drs, ops)

    def _drs_ids_of(self, key: str) -> list[str]:
        return [
            str(d["_id"]) for d in self.drs.find({"$or": [{"results": key}, {"result": key}]}, {"_id": 1})
        ]

    def _discard(self, key: str, drs_ids: Sequence[str]) -> None:
        """Remove result ``key`` and its claim on DRS documents ``drs_ids``; a document that belongs
        to no other result goes with it."""
        self.coll.delete_one({"_id": key})
        for i in range(0, len(drs_ids), 500):
            batch = list(drs_ids[i : i + 500])
            self.drs.update_many({"_id": {"$in": batch}}, {"$pull": {"results": key}})
            docs = list(self.drs.find({"_id": {"$in": batch}}, {"task": 1, "results": 1, "result": 1}))
            live = self._live_drs(docs)
            dead = [d["_id"] for d in docs if str(d["_id"]) not in live]
            if dead:
                self.drs.delete_many({"_id": {"$in": dead}})

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
        """The DRS document ``object_id`` when it belongs to its task's recorded result; else None."""
        return self.drs_objects([object_id]).get(object_id)

    def drs_objects(self, object_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The DRS documents of those of ``object_ids`` that belong to their task's recorded result
        (the one its move to complete stored), by id; any other is left out, as if missing."""
        return self._live_drs(list(find_in(self.drs, "_id", object_ids)))

    def _live_drs(self, docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Those of ``docs`` whose task's recorded result is among the results they belong to."""
        tasks = {str(d.get("task")) for d in docs if d.get("task")}
        recorded = {
            str(t["_id"]): (t.get("result") or {}).get("result_key")
            for t in find_in(self.tasks.coll, "_id", sorted(tasks), {"result": 1})
        }
        return {
            str(d["_id"]): d
            for d in docs
            if recorded.get(str(d.get("task"))) is not None
            and recorded[str(d.get("task"))] in {*d.get("results", []), d.get("result")}
        }

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

    def remove_orphans(self, older_than: datetime | None = None) -> int:
        """Delete result and DRS documents that no task's recorded result owns (a crash between
        indexing and completing, a result an extension replaced); only those written before
        ``older_than`` when given (younger ones may be a record in flight). Returns how many."""
        live = {
            str(t["result"]["result_key"])
            for t in self.tasks.coll.find({"result.result_key": {"$exists": True}}, {"result": 1})
        }
        young = {"created_at": {"$gte": older_than}} if older_than else None
        orphans = [
            d["_id"]
            for d in self.coll.find({"$nor": [young]} if young else {}, {"_id": 1})
            if d["_id"] not in live
        ]
        for i in range(0, len(orphans), 500):
            self.coll.delete_many({"_id": {"$in": orphans[i : i + 500]}})
        recent = {"updated_at": {"$gte": older_than}} if older_than else None
        dead = [
            d["_id"]
            for d in self.drs.find({"$nor": [recent]} if recent else {}, {"results": 1, "result": 1})
            if not live.intersection({*d.get("results", []), d.get("result")})
        ]
        for i in range(0, len(dead), 500):
            self.drs.delete_many({"_id": {"$in": dead[i : i + 500]}})
        return len(orphans) + len(dead)
