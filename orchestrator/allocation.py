"""The allocation strategy joined to the index (no Dagster here; ``sensors/allocation.py`` runs it):
read a network's state, ask :func:`fepflow.analysis.allocation.allocate` what to add, record each
decision and apply it through the task queue (:mod:`fepflow.store.allocation`).

A transformation's state, read from the index:

- σ: its gathered estimate's quoted uncertainty floored by its MBAR error, the σ the network fit
  weighs it by (:mod:`fepflow.analysis.network_estimates`);
- done: its completed repeats; pending: its tasks still waiting, scheduled or running (plus the
  extra units of an extension the strategy asked for);
- cost of one unit: the mean wall time (start to finish) of its completed tasks; 60 s until one has
  finished with timestamps.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from fepflow.analysis.allocation import Allocation, Decision, Edge, Leg, Strategy, allocate
from fepflow.analysis.network import network_edges
from fepflow.models.states import TaskStatus
from fepflow.models.tasks import task_key
from fepflow.store.allocation import (
    IN_FLIGHT,
    AllocationStore,
    apply_decision,
    extension_iterations,
    next_repeat,
    reapply,
)
from fepflow.store.estimates import network_estimates as transformation_rows
from fepflow.store.index import Index
from fepflow.store.models import NotFound

UNKNOWN_UNIT_COST_S = 60.0
"""The cost of one unit of a transformation none of whose tasks has finished with timestamps."""


@dataclass
class NetworkState:
    """What the strategy needs to know of one network, read from the index."""

    names: list[str]
    edges: list[Edge]
    legs: dict[str, Leg]
    in_flight: int
    spent_s: float


@dataclass
class Evaluation:
    """One evaluation of a network's strategy: what was decided and applied, or why nothing was."""

    network: str
    allocation: Allocation | None = None
    applied: list[dict[str, Any]] = field(default_factory=list)
    waiting: str | None = None
    """Why the strategy cannot evaluate yet (results missing, network not connected)."""


def enable(index: Index, network_key: str, strategy: Strategy) -> None:
    """Opt a stored network in to ``strategy`` (NotFound when the network is not stored)."""
    AllocationStore(index).enable(network_key, asdict(strategy))


def network_state(index: Index, network_key: str, store: AllocationStore) -> NetworkState | str:
    """The strategy's inputs for the network, or why it cannot evaluate yet."""
    network = index.models.network(network_key)
    net_edges = [e for e in network_edges(network)[0] if not e.missing]
    edges = [Edge(e.a, e.b, tuple(key for key, _ in e.legs.values())) for e in net_edges]
    if not edges:
        return "the network has no relative edges"
    rows = {r.transformation: r for r in transformation_rows(index, network_key)}
    tasks = store.task_states(network_key)
    history = store.history(network_key)
    extension_units = {d["task"]: d["units"] for d in history if d["action"] == "extend"}
    legs: dict[str, Leg] = {}
    missing = []
    for key in (k for e in edges for k in e.legs):
        row = rows.get(key)
        if row is None or row.dg_kcal_mol is None:
            missing.append(key)
            continue
        sigma = max(row.uncertainty_kcal_mol or 0.0, row.mbar_error_kcal_mol or 0.0)
        legs[key] = _leg(key, sigma, tasks, extension_units)
    if missing:
        return f"waiting for the first result of {len(missing)} transformations"
    ours = {d["task"] for d in history}
    in_flight = sum(1 for t in tasks if t["_id"] in ours and t["status"] in IN_FLIGHT)
    names = sorted({x for e in edges for x in (e.a, e.b)})
    return NetworkState(names, edges, legs, in_flight, float(sum(d["cost_s"] for d in history)))


def _leg(key: str, sigma: float, tasks: list[dict[str, Any]], extension_units: dict[str, float]) -> Leg:
    own = [t for t in tasks if t["transformation"] == key]
    complete = [t for t in own if t["status"] == TaskStatus.COMPLETE.value]
    flying = [t for t in own if t["status"] in IN_FLIGHT]
    walls = [
        (t["finished_at"] - t["started_at"]).total_seconds()
        for t in complete
        if t.get("finished_at") and t.get("started_at")
    ]
    first = min(complete, key=lambda t: (t.get("repeat", 0), t["_id"]))["_id"] if complete else None
    return Leg(
        key=key,
        sigma=sigma,
        done=float(max(len(complete), 1)),
        pending=sum(1.0 + extension_units.get(t["_id"], 0.0) for t in flying),
        repeats=len(complete) + len(flying),
        unit_cost_s=max(statistics.fmean(walls), 1.0) if walls else UNKNOWN_UNIT_COST_S,
        extendable=first,
    )


def evaluate(index: Index, store: AllocationStore, network_key: str, strategy: Strategy) -> Evaluation:
    """Re-apply decisions a crash left unapplied, evaluate the network's strategy, and record and
    apply its decisions."""
    reapply(index, store, network_key)
    try:
        state = network_state(index, network_key, store)
    except NotFound:
        return Evaluation(network_key, waiting="the network is not in the index")
    if isinstance(state, str):
        return Evaluation(network_key, waiting=state)
    try:
        allocation = allocate(
            state.names, state.edges, state.legs, strategy, spent_s=state.spent_s, in_flight=state.in_flight
        )
    except ValueError as exc:
        return Evaluation(network_key, waiting=str(exc))
    applied = [apply(index, store, network_key, d) for d in allocation.decisions]
    store.note(
        network_key,
        stop=allocation.stop,
        worst=allocation.worst,
        projected=allocation.projected_worst,
        done=allocation.done,
    )
    return Evaluation(network_key, allocation, applied)


def apply(index: Index, store: AllocationStore, network_key: str, decision: Decision) -> dict[str, Any]:
    """Record ``decision`` and apply it: a new repeat, or an extension of a complete task."""
    fields: dict[str, Any] = {
        "action": decision.action,
        "transformation": decision.transformation,
        "edge": list(decision.edge),
        "units": decision.units,
        "cost_s": decision.cost_s,
        "worst_before": list(decision.worst_before),
        "worst_after": list(decision.worst_after),
        "reason": decision.reason,
    }
    if decision.action == "repeat":
        repeat = next_repeat(index, decision.transformation)
        fields.update(task=task_key(decision.transformation, repeat), repeat=repeat, iterations=0)
    else:
        task = str(decision.task)
        fields.update(task=task, repeat=None, iterations=extension_iterations(index, task, decision.units))
    doc = store.record(network_key, fields)
    apply_decision(index, store, doc)
    return doc
