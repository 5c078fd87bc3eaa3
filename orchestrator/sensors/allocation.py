"""The allocation sensor: for each network that opted in to an allocation strategy, add repeats (or
extensions) where they lower the per-ligand uncertainty most per second of compute, until the
target is met or the budget spent (:mod:`fepflow.analysis.allocation`,
:mod:`fepflow.store.allocation`).

Each decision is logged with its reason in the sensor's tick log, and reported as a materialization
of the ``allocation_decisions`` asset (one table per tick that decided something), so Dagit shows
what was added, where and why. The new tasks are ordinary waiting tasks: the task sensor schedules
them.

(No ``from __future__ import annotations``: Dagster reads the ``context`` annotations at runtime.)
"""

from typing import Any

from dagster import (
    AssetMaterialization,
    AssetSpec,
    DefaultSensorStatus,
    MetadataValue,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from fepflow.analysis.allocation import Strategy
from fepflow.store.allocation import AllocationStore
from orchestrator.allocation import Evaluation, evaluate
from orchestrator.resources import IndexResource

ALLOCATION_INTERVAL_S = 30
"""Seconds between evaluations: results land in minutes, and each decision waits for its tasks."""

allocation_decisions = AssetSpec(
    "allocation_decisions",
    group_name="estimates",
    description="Repeats and extensions the allocation strategy added to networks that opted in, each "
    "with its reason (reported by allocation_sensor).",
)


@sensor(
    name="allocation_sensor",
    minimum_interval_seconds=ALLOCATION_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="For networks with an allocation strategy: adds repeats or extensions to the "
    "transformations whose extra sampling lowers the per-ligand uncertainty most per second of "
    "compute, until the target is met or the budget spent. Each decision is logged with its reason.",
)
def allocation_sensor(context: SensorEvaluationContext, index: IndexResource) -> SensorResult | SkipReason:
    with index.session() as idx:
        store = AllocationStore(idx)
        active = store.active()
        evaluations = []
        for key, fields in active:
            try:
                evaluations.append(evaluate(idx, store, key, Strategy(**fields)))
            except Exception as exc:  # one network's trouble must not stop the others'
                context.log.error(f"network {key[:32]}…: allocation not evaluated: {exc!r}")
                evaluations.append(Evaluation(key, waiting=f"error: {exc}"))
    if not evaluations:
        return SkipReason("no network has an active allocation strategy")
    for line in log_lines(evaluations):
        context.log.info(line)
    events = [decision_event(e) for e in evaluations if e.applied or (e.allocation and e.allocation.done)]
    if not events:
        return SkipReason("; ".join(summary(e) for e in evaluations))
    return SensorResult(asset_events=events)


def summary(e: Evaluation) -> str:
    """One line on a network's evaluation."""
    if e.allocation is None:
        return f"network {e.network[:32]}…: waiting ({e.waiting})"
    a = e.allocation
    state = "finished" if a.done else "active"
    return (
        f"network {e.network[:32]}…: {len(e.applied)} decisions; worst ligand {a.worst[0]} ± "
        f"{a.worst[1]:.3f} kcal/mol (projected {a.projected_worst[1]:.3f}); {a.stop}; strategy {state}"
    )


def log_lines(evaluations: list[Evaluation]) -> list[str]:
    """Every decision with its reason, then each network's summary."""
    lines = []
    for e in evaluations:
        for doc in e.applied:
            lines.append(
                f"network {e.network[:32]}…: {doc['action']} -> task {doc['task'][:24]}…: {doc['reason']}"
            )
        lines.append(summary(e))
    return lines


def decision_event(e: Evaluation) -> AssetMaterialization:
    """The tick's decisions for one network as a materialization of ``allocation_decisions``."""
    rows = "\n".join(
        f"| {d['action']} | {d['edge'][0]} -> {d['edge'][1]} | {d['task'][:20]}… | {d['cost_s']:.0f} | {d['reason']} |"
        for d in e.applied
    )
    table = "| action | edge | task | cost (s) | reason |\n|---|---|---|---|---|\n" + rows
    metadata: dict[str, Any] = {
        "network": e.network,
        "decisions": len(e.applied),
        "summary": summary(e),
        "table": MetadataValue.md(table if e.applied else "no new decisions"),
    }
    if e.allocation is not None:
        metadata["worst ligand (kcal/mol)"] = MetadataValue.float(e.allocation.worst[1])
        metadata["projected worst (kcal/mol)"] = MetadataValue.float(e.allocation.projected_worst[1])
        metadata["compute charged this tick (s)"] = MetadataValue.float(e.allocation.spent_s)
    return AssetMaterialization(asset_key="allocation_decisions", metadata=metadata)
