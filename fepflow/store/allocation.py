"""The allocation strategy's records in the index: which networks opted in, what was decided, and
applying a decision through the task queue. (The strategy itself is
:mod:`fepflow.analysis.allocation`; the orchestrator joins the two, as for network estimates.)

Two collections:

- ``allocations``: one document per network that opted in (``_id`` the network key): the strategy
  (:class:`fepflow.analysis.allocation.Strategy`), ``status`` (``active`` or ``done``), and the last
  evaluation (``stop``, worst ligand now and projected).
- ``allocation_decisions``: one document per decision (action, transformation, the task it created
  or extended, expected cost, reason, ``applied``). The compute charged to a strategy is the sum of
  its decisions' costs, so the budget has one source.

A decision is recorded (``applied: false``) before it touches the task queue and marked applied
after; an evaluation first re-applies any decision a crash left unapplied. A repeat is a new task
with a fixed key (re-adding it is harmless); an extension is applied only while its task is still
complete and not extended since it was decided, so it is never applied twice.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any

from fepflow.models.states import TaskStatus
from fepflow.models.tasks import Task, utcnow
from fepflow.store.index import Index
from fepflow.store.models import NotFound

IN_FLIGHT = (TaskStatus.WAITING.value, TaskStatus.SCHEDULED.value, TaskStatus.RUNNING.value)
TASK_FIELDS = {"transformation": 1, "status": 1, "repeat": 1, "started_at": 1, "finished_at": 1}


class AllocationStore:
    """The ``allocations`` and ``allocation_decisions`` collections."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.coll = index.coll("allocations")
        self.decisions = index.coll("allocation_decisions")

    def enable(self, network_key: str, strategy: dict[str, Any]) -> None:
        """Opt network ``network_key`` in with ``strategy`` (the fields of
        :class:`fepflow.analysis.allocation.Strategy`, or change it); NotFound when it is not stored."""
        if self.index.networks.summary(network_key) is None:
            raise NotFound(network_key)
        self.decisions.create_index([("network", 1), ("decided_at", 1)], name="network_decided")
        now = utcnow()
        self.coll.update_one(
            {"_id": network_key},
            {
                "$set": {"strategy": dict(strategy), "status": "active", "updated_at": now},
                "$setOnInsert": {"created_at": now},
            },
            upsert=True,
        )

    def disable(self, network_key: str) -> bool:
        """Stop the network's strategy (its decisions stay recorded); whether it had one."""
        res = self.coll.update_one(
            {"_id": network_key}, {"$set": {"status": "disabled", "updated_at": utcnow()}}
        )
        return res.matched_count > 0

    def get(self, network_key: str) -> dict[str, Any] | None:
        return self.coll.find_one({"_id": network_key})

    def active(self) -> list[tuple[str, dict[str, Any]]]:
        """Every network whose strategy is active, with its strategy's fields, by key."""
        docs = self.coll.find({"status": "active"}, {"strategy": 1}).sort("_id", 1)
        return [(str(d["_id"]), dict(d["strategy"])) for d in docs]

    def note(
        self,
        network_key: str,
        *,
        stop: str,
        worst: tuple[str, float],
        projected: tuple[str, float],
        done: bool,
    ) -> None:
        """Keep an evaluation's outcome on the network's document; ``done`` ends the strategy."""
        update: dict[str, Any] = {
            "stop": stop,
            "worst": list(worst),
            "projected_worst": list(projected),
            "evaluated_at": utcnow(),
        }
        if done:
            update["status"] = "done"
        self.coll.update_one({"_id": network_key, "status": "active"}, {"$set": update})

    def history(self, network_key: str) -> list[dict[str, Any]]:
        """The network's decisions, oldest first."""
        return list(self.decisions.find({"network": network_key}).sort("decided_at", 1))

    def spent_s(self, network_key: str) -> float:
        return float(sum(d.get("cost_s", 0.0) for d in self.decisions.find({"network": network_key})))

    def record(self, network_key: str, decision: dict[str, Any]) -> dict[str, Any]:
        """Store a decision (``action``, ``transformation``, ``task``, ``cost_s``, ``reason``, ...)
        as not applied yet; the stored document."""
        doc = {"_id": uuid.uuid4().hex, "network": network_key, "decided_at": utcnow(), **decision}
        doc["applied"] = False
        self.decisions.insert_one(doc)
        return doc

    def task_states(self, network_key: str) -> list[dict[str, Any]]:
        """The network's tasks: transformation, status, repeat and when they started and finished."""
        return list(self.index.tasks.coll.find({"networks": network_key}, TASK_FIELDS))


def reapply(index: Index, store: AllocationStore, network_key: str) -> int:
    """Apply the network's decisions that a crash left recorded but not applied; how many."""
    docs = list(store.decisions.find({"network": network_key, "applied": False}))
    for doc in docs:
        apply_decision(index, store, doc)
    return len(docs)


def next_repeat(index: Index, transformation: str) -> int:
    """The repeat index a new task of ``transformation`` gets: one above its highest."""
    highest = index.tasks.coll.find_one(
        {"transformation": transformation}, {"repeat": 1}, sort=[("repeat", -1)]
    )
    return int(highest["repeat"]) + 1 if highest else 0


def extension_iterations(index: Index, task_key: str, units: float) -> int:
    """Iterations that extend the task by ``units`` of its production length (from its result)."""
    doc = index.tasks.coll.find_one({"_id": task_key}, {"result": 1, "extend_iterations": 1}) or {}
    result_key = (doc.get("result") or {}).get("result_key")
    result = index.results.coll.find_one({"_id": result_key}, {"summary.legs": 1}) if result_key else None
    legs = ((result or {}).get("summary") or {}).get("legs") or {}
    done = max((int(leg.get("n_iterations", 0)) for leg in legs.values()), default=0)
    production = max(done - int(doc.get("extend_iterations") or 0), 1)
    return max(1, math.ceil(units * production))


def apply_decision(index: Index, store: AllocationStore, doc: dict[str, Any]) -> None:
    """Apply a recorded decision unless it already was; then mark it applied."""
    if doc["action"] == "repeat":
        task = Task.new(doc["transformation"], int(doc["repeat"]), network=doc["network"])
        index.tasks.add([task], network_key=doc["network"])  # an existing task is left as it is
    else:
        current = index.tasks.coll.find_one({"_id": doc["task"]}, {"status": 1, "extended_at": 1})
        extended = current is not None and current.get("extended_at") is not None
        already = extended and _aware(current["extended_at"]) >= _aware(doc["decided_at"])  # type: ignore[index]
        if current is not None and current["status"] == TaskStatus.COMPLETE.value and not already:
            index.tasks.mark_extend(doc["task"], int(doc["iterations"]))
    store.decisions.update_one({"_id": doc["_id"]}, {"$set": {"applied": True}})


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
