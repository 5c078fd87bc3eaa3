"""Task documents and their state transitions, each one atomic on any MongoDB.

Every transition is a single ``find_one_and_update`` that filters on the state the caller expects,
so of two workers racing for a task exactly one wins; the other gets :class:`TransitionConflict`
and nothing is overwritten. Which transitions exist is decided in ``fepflow.models.states`` only.

Fencing: every transition of a running task by its worker (heartbeat, fail, complete) names the run
that started it and the attempt it is (``run_id`` and ``attempts``, both set by :meth:`TaskQueue.start`).
A worker whose task was taken from it (the stale sweep requeued it after a pause longer than the stale
limit, and another run started it) is refused, and learns so from its next heartbeat.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.collection import Collection

from fepflow.models.states import InvalidTransition, TaskStatus, check_transition, sources_of
from fepflow.models.tasks import Task, utcnow
from fepflow.store.batched import find_in
from fepflow.store.bulk import insert_new
from fepflow.store.pages import Page, page_query
from fepflow.store.patterns import compile_pattern

STAMP = {
    TaskStatus.SCHEDULED: "scheduled_at",
    TaskStatus.RUNNING: "started_at",
    TaskStatus.COMPLETE: "finished_at",
    TaskStatus.ERROR: "finished_at",
    TaskStatus.CANCELLED: "finished_at",
}
CLAIM_ORDER = [("priority", DESCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)]
OUTCOME = {"transformation": 1, "repeat": 1, "status": 1, "result": 1}
"""The fields that say what became of a task."""


class TaskNotFound(KeyError):
    def __str__(self) -> str:
        return f"task {self.args[0]} is not in the index"


class TransitionConflict(RuntimeError):
    """Another writer moved the task first: it is no longer in the state this caller expected."""

    def __init__(self, task: str, expected: str, current: str, requested: str) -> None:
        self.task, self.expected, self.current, self.requested = task, expected, current, requested
        super().__init__(
            f"task {task}: expected {expected} to move it to {requested}, but it is now {current} "
            "(another worker got there first)"
        )


@dataclass(frozen=True)
class RunFailure:
    """What :meth:`TaskQueue.fail_dead_run` did, and how many attempts the task had had."""

    outcome: Literal["untouched", "error", "requeued"]
    attempts: int


def new_run_id() -> str:
    """A run id for a task started outside the orchestrator (a script, a test)."""
    return f"local-{uuid.uuid4().hex}"


def fence(run_id: str | None, attempt: int | None = None) -> dict[str, Any]:
    """The condition that task is still in run ``run_id`` (and, given, in that attempt of it)."""
    return {"run_id": run_id, **({"attempts": int(attempt)} if attempt is not None else {})}


def task_from_doc(doc: dict[str, Any]) -> Task:
    fields = {k: v for k, v in doc.items() if k in Task.model_fields}
    return Task(key=doc["_id"], transformation_key=doc["transformation"], **fields)


class TaskQueue:
    """The ``tasks`` collection."""

    def __init__(self, coll: Collection[dict[str, Any]]) -> None:
        self.coll = coll

    def index_specs(self) -> dict[str, list[IndexModel]]:
        return {
            self.coll.name: [
                IndexModel([("status", ASCENDING), *CLAIM_ORDER[:2]], name="claim"),
                IndexModel([("networks", ASCENDING), ("status", ASCENDING)], name="network_status"),
                IndexModel(
                    [("transformation", ASCENDING), ("repeat", ASCENDING)], name="transformation_repeat"
                ),
            ]
        }

    def add(self, tasks: list[Task], *, network_key: str | None = None) -> int:
        """Insert tasks that do not exist yet; existing ones only learn of ``network_key``."""
        docs = []
        for task in tasks:
            doc = task.model_dump(exclude={"key", "transformation_key", "networks"})
            doc["_id"] = task.key
            doc["transformation"] = task.transformation_key
            doc["status"] = task.status.value
            docs.append(doc)
        return insert_new(self.coll, docs, add_to_set={"networks": network_key} if network_key else None)

    def get(self, key: str) -> Task:
        doc = self.coll.find_one({"_id": key})
        if doc is None:
            raise TaskNotFound(key)
        return task_from_doc(doc)

    def docs(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The documents of those of ``keys`` that are stored, by key."""
        return {str(d["_id"]): d for d in find_in(self.coll, "_id", keys)}

    def of_network(self, network_key: str, status: TaskStatus | None = None) -> list[dict[str, Any]]:
        """What became of each task of a network (:data:`OUTCOME`), in key order; with ``status``
        only the tasks in that state."""
        query: dict[str, Any] = {"networks": network_key}
        if status is not None:
            query["status"] = TaskStatus(status).value
        return list(self.coll.find(query, OUTCOME).sort("_id", ASCENDING))

    def transition(
        self,
        key: str,
        requested: TaskStatus | str,
        *,
        expected: TaskStatus | str | None = None,
        set_fields: dict[str, Any] | None = None,
        unset_fields: list[str] | None = None,
        inc: dict[str, int] | None = None,
        where: dict[str, Any] | None = None,
    ) -> Task:
        """Move task ``key`` to ``requested`` atomically.

        With ``expected``, the move happens only from that state (a :class:`TransitionConflict`
        otherwise); without it, from any state the state machine allows. ``where`` adds conditions
        that must hold at the same moment (a conflict is reported when they do not).
        """
        requested = TaskStatus(requested)
        if expected is not None:
            check_transition(key, expected, requested)
            sources = {TaskStatus(expected)}
        else:
            sources = set(sources_of(requested))
        now = utcnow()
        update: dict[str, Any] = {
            "$set": {
                "status": requested.value,
                "updated_at": now,
                **({STAMP[requested]: now} if requested in STAMP else {}),
                **(set_fields or {}),
            }
        }
        if unset_fields:
            update["$unset"] = dict.fromkeys(unset_fields, "")
        if inc:
            update["$inc"] = inc
        # update_one with the expected state in its filter is the atomic step; the document read
        # back afterwards is for the caller's information (a later writer may already have moved it).
        res = self.coll.update_one(
            {**(where or {}), "_id": key, "status": {"$in": sorted(s.value for s in sources)}}, update
        )
        if res.modified_count == 1:
            doc = self.coll.find_one({"_id": key})
            if doc is not None:
                return task_from_doc(doc)
        current = self.coll.find_one({"_id": key}, {"status": 1})
        if current is None:
            raise TaskNotFound(key)
        if expected is not None or where:
            wanted = str(TaskStatus(expected)) if expected is not None else "|".join(sorted(sources))
            raise TransitionConflict(key, wanted, current["status"], requested.value)
        raise InvalidTransition(key, current["status"], requested.value)

    def claim(self, *, limit: int = 1, query: dict[str, Any] | None = None) -> list[Task]:
        """Move up to ``limit`` waiting tasks to scheduled, highest priority first; each exactly once.

        Candidates are read in claim order, then taken one by one with an update whose filter
        requires ``waiting``: of several claimers racing for a task exactly one modifies it, and the
        others move on to the next candidate.
        """
        claimed: list[Task] = []
        base = {**(query or {}), "status": TaskStatus.WAITING.value}
        while len(claimed) < limit:
            batch = max(2 * (limit - len(claimed)), 16)
            candidates = [d["_id"] for d in self.coll.find(base, {"_id": 1}).sort(CLAIM_ORDER).limit(batch)]
            if not candidates:
                break
            for key in candidates:
                now = utcnow()
                res = self.coll.update_one(
                    {"_id": key, "status": TaskStatus.WAITING.value},
                    {"$set": {"status": TaskStatus.SCHEDULED.value, "updated_at": now, "scheduled_at": now}},
                )
                if res.modified_count == 1:
                    doc = self.coll.find_one({"_id": key})
                    if doc is not None:
                        claimed.append(task_from_doc(doc))
                    if len(claimed) == limit:
                        break
        return claimed

    def start(self, key: str, *, run_id: str | None = None, worker: str | None = None) -> Task:
        """scheduled -> running in run ``run_id`` (a new local run id when None), counting the
        attempt; the returned task's ``run_id`` and ``attempts`` fence the worker's later moves."""
        return self.transition(
            key,
            TaskStatus.RUNNING,
            expected=TaskStatus.SCHEDULED,
            inc={"attempts": 1},
            set_fields={"run_id": run_id or new_run_id(), **({"worker": worker} if worker else {})},
            unset_fields=["last_error", "traceback"],
        )

    def fail(
        self,
        key: str,
        error: str,
        traceback: str | None = None,
        *,
        run_id: str | None,
        attempt: int | None = None,
    ) -> Task:
        """running -> error in run ``run_id`` (attempt ``attempt``), keeping the message and
        traceback; a :class:`TransitionConflict` when the task is no longer that run's."""
        return self.transition(
            key,
            TaskStatus.ERROR,
            expected=TaskStatus.RUNNING,
            set_fields={"last_error": error, "traceback": traceback},
            where=fence(run_id, attempt),
        )

    def complete(self, key: str, result: dict[str, Any], *, run_id: str | None, attempt: int | None) -> Task:
        """running -> complete in run ``run_id`` (attempt ``attempt``) with ``result`` (a
        :class:`~fepflow.models.tasks.ResultRef` as a dict); a :class:`TransitionConflict` when the
        task is no longer that run's."""
        return self.transition(
            key,
            TaskStatus.COMPLETE,
            expected=TaskStatus.RUNNING,
            set_fields={"result": result},
            where=fence(run_id, attempt),
        )

    def retry(self, key: str) -> Task:
        """error -> waiting."""
        return self.transition(key, TaskStatus.WAITING, expected=TaskStatus.ERROR)

    def cancel(self, key: str) -> Task:
        return self.transition(key, TaskStatus.CANCELLED)

    def set_priority(self, key: str, priority: int) -> Task:
        doc = self.coll.find_one_and_update(
            {"_id": key},
            {"$set": {"priority": int(priority), "updated_at": utcnow()}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise TaskNotFound(key)
        return task_from_doc(doc)

    def page(
        self,
        *,
        network: str | None = None,
        status: TaskStatus | str | None = None,
        transformation: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> Page:
        query: dict[str, Any] = {}
        if network:
            query["networks"] = {"$in": [network]}
        if status:
            query["status"] = TaskStatus(status).value
        if transformation:
            query["transformation"] = transformation
        return page_query(self.coll, query, limit=limit, after=after)

    def counts(self, network: str | None = None) -> dict[str, int]:
        """Tasks per state (every state listed, zeros included), for one network or all."""
        match: dict[str, Any] = {"networks": {"$in": [network]}} if network else {}
        counts = dict.fromkeys((s.value for s in TaskStatus), 0)
        for row in self.coll.aggregate([{"$match": match}, {"$group": {"_id": "$status", "n": {"$sum": 1}}}]):
            counts[str(row["_id"])] = int(row["n"])
        return counts

    def heartbeat(self, key: str, *, run_id: str | None, attempt: int | None = None) -> bool:
        """Note that the worker of run ``run_id`` (attempt ``attempt``) is alive; False when the task
        is no longer running in it (cancelled, or requeued and taken by another run): stop then."""
        res = self.coll.update_one(
            {**fence(run_id, attempt), "_id": key, "status": TaskStatus.RUNNING.value},
            {"$set": {"updated_at": utcnow()}},
        )
        return res.matched_count == 1

    def scheduled_before(self, cutoff: datetime, *, limit: int) -> list[Task]:
        """Up to ``limit`` tasks claimed (scheduled) before ``cutoff`` that no run has started yet."""
        query = {"status": TaskStatus.SCHEDULED.value, "scheduled_at": {"$lt": cutoff}}
        return [task_from_doc(d) for d in self.coll.find(query).limit(limit)]

    def cancelled_runs(self, *, limit: int = 100) -> list[tuple[str, str]]:
        """(task, run id) of up to ``limit`` cancelled tasks that still name the run they were in."""
        query = {"status": TaskStatus.CANCELLED.value, "run_id": {"$type": "string"}}
        return [(str(d["_id"]), str(d["run_id"])) for d in self.coll.find(query, {"run_id": 1}).limit(limit)]

    def forget_run(self, key: str) -> None:
        """Drop the run id of a cancelled task once its run has been stopped (or had finished)."""
        self.coll.update_one({"_id": key, "status": TaskStatus.CANCELLED.value}, {"$unset": {"run_id": ""}})

    def last_completion(self) -> tuple[int, Any] | None:
        """How many tasks are complete and when the latest of them finished; None when none is."""
        complete = {"status": TaskStatus.COMPLETE.value}
        latest = self.coll.find_one(complete, {"finished_at": 1}, sort=[("finished_at", DESCENDING)])
        if latest is None:
            return None
        return self.coll.count_documents(complete), latest.get("finished_at")

    def fail_dead_run(self, key: str, run_id: str, *, max_attempts: int) -> RunFailure:
        """Run ``run_id`` failed while task ``key`` was still running in it (its worker died): the
        task moves running -> error and, unless it has had ``max_attempts`` attempts, back to
        waiting, to resume from its checkpoint. A task that moved on, or runs in another run, is
        left untouched."""
        doc = self.coll.find_one({"_id": key}, {"status": 1, "run_id": 1, "attempts": 1})
        if doc is None or doc.get("status") != TaskStatus.RUNNING.value or doc.get("run_id") != run_id:
            return RunFailure("untouched", int((doc or {}).get("attempts", 0)))
        attempts = int(doc.get("attempts", 0))
        try:
            self.fail(
                key,
                f"run {run_id} failed before the task could report (worker died?)",
                run_id=run_id,
                attempt=attempts,
            )
        except TransitionConflict:
            return RunFailure("untouched", attempts)
        if attempts >= max_attempts:
            return RunFailure("error", attempts)
        self.retry(key)
        return RunFailure("requeued", attempts)

    def requeue_stale(self, older_than: datetime, *, max_attempts: int) -> list[str]:
        """Running tasks silent since ``older_than`` (their worker died): running -> error, and back
        to waiting unless they have had ``max_attempts`` attempts (a task that kills its node would
        loop forever); returns the keys requeued. The move is fenced on the run and attempt seen, so
        a task that finished, failed or was restarted meanwhile is left alone."""
        moved = []
        stale = {"updated_at": {"$lt": older_than}}
        found = self.coll.find({"status": TaskStatus.RUNNING.value, **stale}, {"run_id": 1, "attempts": 1})
        for doc in found:
            key, attempts = str(doc["_id"]), int(doc.get("attempts", 0))
            error = f"worker silent since {older_than.isoformat()} (run {doc.get('run_id')})"
            if attempts >= max_attempts:
                error += (
                    f"; left in error after {attempts} attempts (FEPFLOW_ENGINE_MAX_ATTEMPTS={max_attempts}): "
                    "does the task kill its worker? Restart it once the cause is fixed"
                )
            try:
                self.transition(
                    key,
                    TaskStatus.ERROR,
                    expected=TaskStatus.RUNNING,
                    where={**stale, **fence(doc.get("run_id"), attempts)},
                    set_fields={"last_error": error},
                )
                if attempts >= max_attempts:
                    continue
                self.retry(key)
            except (TransitionConflict, InvalidTransition):
                continue  # it finished, failed or was picked up meanwhile
            moved.append(key)
        return moved

    # -- operations the hub offers (each one atomic per task) -----------------------------------

    def mark_extend(self, key: str, iterations: int) -> Task:
        """Ask for ``iterations`` more production iterations of a finished (or waiting) task.

        A complete task moves back to waiting with ``extend_iterations`` set (its result stays
        referenced until the extended run replaces it); a waiting, scheduled or running task just
        records the request, which the protocol reads when it next (re)starts. The protocol's
        ``run_task(extend_iterations=...)`` resumes from the task's checkpoint.
        """
        if iterations < 1:
            raise ValueError(f"extend_iterations must be at least 1, got {iterations}")
        now = utcnow()
        res = self.coll.update_one(
            {"_id": key, "status": TaskStatus.COMPLETE.value},
            {
                "$set": {"status": TaskStatus.WAITING.value, "updated_at": now, "extended_at": now},
                "$inc": {"extend_iterations": int(iterations)},
            },
        )
        if res.modified_count == 0:
            res = self.coll.update_one(
                {
                    "_id": key,
                    "status": {
                        "$in": [
                            TaskStatus.WAITING.value,
                            TaskStatus.SCHEDULED.value,
                            TaskStatus.RUNNING.value,
                        ]
                    },
                },
                {"$inc": {"extend_iterations": int(iterations)}, "$set": {"updated_at": now}},
            )
        if res.modified_count == 0:
            current = self.coll.find_one({"_id": key}, {"status": 1})
            if current is None:
                raise TaskNotFound(key)
            raise InvalidTransition(key, current["status"], "extended")
        return self.get(key)

    def extend_iterations(self, key: str) -> int:
        """How many extra iterations have been asked for this task (0 when none)."""
        doc = self.coll.find_one({"_id": key}, {"extend_iterations": 1})
        if doc is None:
            raise TaskNotFound(key)
        return int(doc.get("extend_iterations") or 0)

    def restart_errored(
        self, *, network: str | None = None, keys: list[str] | None = None, pattern: str | None = None
    ) -> list[str]:
        """Move errored tasks back to waiting: those of ``network`` or among ``keys``, optionally
        only those whose traceback (or error message) matches the regular expression ``pattern``."""
        if network is None and keys is None:
            raise ValueError("restart_errored needs a network or a list of task keys")
        regex = compile_pattern(pattern) if pattern else None  # RE2: linear time, no stall
        query: dict[str, Any] = {"status": TaskStatus.ERROR.value}
        if network is not None:
            query["networks"] = {"$in": [network]}
        found = (
            find_in(self.coll, "_id", keys, {"traceback": 1, "last_error": 1}, query=query)
            if keys is not None
            else self.coll.find(query, {"traceback": 1, "last_error": 1})
        )
        moved = []
        for doc in found:
            text = f"{doc.get('last_error') or ''}\n{doc.get('traceback') or ''}"
            if regex is not None and not regex.search(text):
                continue
            try:
                self.retry(str(doc["_id"]))
            except (TransitionConflict, InvalidTransition):
                continue  # moved meanwhile
            moved.append(str(doc["_id"]))
        return moved

    def add_repeats(self, transformation_keys: list[str], count: int, *, network_key: str) -> list[str]:
        """``count`` new repeats of each transformation, numbered after its highest existing repeat."""
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        highest: dict[str, int] = dict.fromkeys(transformation_keys, -1)
        for doc in find_in(
            self.coll, "transformation", transformation_keys, {"transformation": 1, "repeat": 1}
        ):
            t = doc["transformation"]
            highest[t] = max(highest.get(t, -1), int(doc["repeat"]))
        tasks = [
            Task.new(t, r, network=network_key)
            for t in transformation_keys
            for r in range(highest[t] + 1, highest[t] + 1 + count)
        ]
        self.add(tasks, network_key=network_key)
        return [t.key for t in tasks]

    def set_priorities(self, keys: list[str], priority: int) -> int:
        """Set the priority of many tasks at once (in batches); returns how many exist."""
        matched = 0
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 100):
            res = self.coll.update_many(
                {"_id": {"$in": unique[i : i + 100]}},
                {"$set": {"priority": int(priority), "updated_at": utcnow()}},
            )
            matched += res.matched_count
        return matched

    def cancel_many(self, keys: list[str]) -> tuple[list[str], dict[str, str]]:
        """Cancel many tasks at once; returns the keys cancelled now, and why each other one was not.

        One filtered ``update_many`` per batch moves only tasks in a state that may be cancelled, so
        a task that finishes meanwhile keeps its result (it is then reported as skipped).
        """
        unique = list(dict.fromkeys(keys))
        sources = sorted(s.value for s in sources_of(TaskStatus.CANCELLED))
        before = {d["_id"]: d["status"] for d in find_in(self.coll, "_id", unique, {"status": 1})}
        now = utcnow()
        for i in range(0, len(unique), 100):
            self.coll.update_many(
                {"_id": {"$in": unique[i : i + 100]}, "status": {"$in": sources}},
                {"$set": {"status": TaskStatus.CANCELLED.value, "updated_at": now, "finished_at": now}},
            )
        after = {d["_id"]: d["status"] for d in find_in(self.coll, "_id", unique, {"status": 1})}
        changed, skipped = [], {}
        for key in unique:
            if key not in after:
                skipped[key] = str(TaskNotFound(key))
            elif after[key] == TaskStatus.CANCELLED.value and before.get(key) != TaskStatus.CANCELLED.value:
                changed.append(key)
            else:
                skipped[key] = str(InvalidTransition(key, after[key], TaskStatus.CANCELLED.value))
        return changed, skipped
