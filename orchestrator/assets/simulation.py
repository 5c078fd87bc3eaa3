"""The partitioned simulation asset: one partition per task, run on a GPU slot (CPU where none).

(No ``from __future__ import annotations``: Dagster reads the ``context`` annotation at runtime.)
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryRequested,
    asset,
)

from fepflow.runner import TaskNotRunnable, TaskOutcome, execute_task
from fepflow.settings import OrchestratorSettings
from orchestrator.partitions import tasks_partitions
from orchestrator.resources import EngineResource, IndexResource, ObjectStoreResource
from orchestrator.transient import is_transient

SIMULATION_CHECKS = [
    AssetCheckSpec(
        "neighbour_overlap",
        asset="simulation",
        description="MBAR overlap of neighbouring states at or above the protocols' threshold "
        "(fepflow.protocols.common.analysis.MIN_NEIGHBOUR_OVERLAP) in every leg",
    ),
    AssetCheckSpec(
        "forward_reverse_agreement",
        asset="simulation",
        description="ΔG from the first and the last half of the samples agree within 2σ in every leg",
    ),
]

GPU_STEP_TAGS = {
    # dagster-celery: simulation steps go to the GPU workers' queue
    "dagster-celery/queue": "gpu",
    # dagster-k8s: each simulation step's pod asks for one GPU
    "dagster-k8s/config": {
        "container_config": {
            "resources": {"limits": {"nvidia.com/gpu": "1"}, "requests": {"cpu": "1", "memory": "4Gi"}}
        }
    },
}


def _metadata(outcome: TaskOutcome, slot_name: str | None, hub_url: str | None) -> dict[str, Any]:
    s = outcome.summary
    legs = s.get("legs", {})
    meta: dict[str, Any] = {
        "task": outcome.task.key,
        "transformation": outcome.task.transformation_key,
        "repeat": outcome.task.repeat,
        "protocol": s.get("protocol", ""),
        "ΔG (kcal/mol)": f"{s['dg_kcal_mol']:+.2f} ± {s['dg_mbar_error_kcal_mol']:.2f} "
        "(this run's MBAR error alone, likely understated; the repeats' spread is in the estimates)",
        "dg_kcal_mol": MetadataValue.float(float(s["dg_kcal_mol"])),
        "dg_mbar_error_kcal_mol": MetadataValue.float(float(s["dg_mbar_error_kcal_mol"])),
        "platform": str(s.get("platform", "")),
        "result": outcome.result.result_key,
        "bundle DRS id": outcome.result.drs_id or "",
        "attempts": outcome.task.attempts,
        "worker": outcome.task.worker or "",
        "ran": outcome.ran,
    }
    for leg, rate in (s.get("ns_per_day") or {}).items():
        meta[f"ns/day ({leg})"] = MetadataValue.float(float(rate))
    for leg, values in legs.items():
        meta[f"min overlap ({leg})"] = MetadataValue.float(float(values.get("min_neighbour_overlap", 0.0)))
    if slot_name:
        meta["slot"] = slot_name
    if hub_url and outcome.result.drs_id:
        meta["result link"] = MetadataValue.url(
            f"{hub_url.rstrip('/')}/ga4gh/drs/v1/objects/{outcome.result.drs_id}"
        )
    if s.get("warnings"):
        meta["warnings"] = MetadataValue.md("\n".join(f"- {w}" for w in s["warnings"]))
    for name, seconds in outcome.timings.items():
        meta[f"time {name}"] = MetadataValue.float(round(seconds, 3))
    return meta


def progress_logger(log: Any, every_s: float = 15.0) -> Callable[[str, int, int], None]:
    """A progress callback that logs a unit's progress at most every ``every_s`` seconds, and its end."""
    last_log = [0.0]

    def progress(unit: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last_log[0] > every_s:
            last_log[0] = now
            log.info(f"{unit}: {done}/{total}")

    return progress


def simulation_checks(summary: dict[str, Any]) -> list[AssetCheckResult]:
    """Overlap and forward/reverse checks over every leg of a result summary."""
    # the protocols' threshold, imported here: its module brings matplotlib, which the code
    # location need not load (every Dagster process imports it; only a simulation needs this)
    from fepflow.protocols.common.analysis import MIN_NEIGHBOUR_OVERLAP

    legs: dict[str, dict[str, Any]] = summary.get("legs", {})
    overlaps = {leg: float(v.get("min_neighbour_overlap", 0.0)) for leg, v in legs.items()}
    disagree = [leg for leg, v in legs.items() if not v.get("forward_reverse_agree", True)]
    return [
        AssetCheckResult(
            check_name="neighbour_overlap",
            passed=bool(overlaps) and min(overlaps.values()) >= MIN_NEIGHBOUR_OVERLAP,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "threshold": MetadataValue.float(MIN_NEIGHBOUR_OVERLAP),
                **{f"min overlap ({leg})": MetadataValue.float(v) for leg, v in overlaps.items()},
            },
        ),
        AssetCheckResult(
            check_name="forward_reverse_agreement",
            passed=not disagree,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "legs that disagree": ", ".join(disagree) or "none",
                **{
                    f"forward/reverse half ({leg})": f"{v.get('forward_half_kcal_mol', float('nan')):+.2f} / "
                    f"{v.get('reverse_half_kcal_mol', float('nan')):+.2f} kcal/mol"
                    for leg, v in legs.items()
                },
            },
        ),
    ]


@asset(
    partitions_def=tasks_partitions,
    pool="gpu",
    op_tags=GPU_STEP_TAGS,
    check_specs=SIMULATION_CHECKS,
    group_name="simulations",
    kinds={"openmm"},
    description="One task (a repeat of a transformation) simulated with OpenMM; its result bundle is in the "
    "object store and indexed in MongoDB. The partition key is the task key.",
)
def simulation(
    context: AssetExecutionContext, index: IndexResource, objects: ObjectStoreResource, engine: EngineResource
) -> MaterializeResult:
    key = context.partition_key
    settings = engine.settings()
    hub_url = OrchestratorSettings().hub_url
    try:
        with index.session() as idx:
            store = objects.open()
            with engine.allocator().acquire() as slot:
                context.log.info(
                    f"task {key} on slot {slot.name} (device {slot.device_index}, {slot.threads} threads)"
                )
                outcome = execute_task(
                    idx,
                    store,
                    key,
                    work_root=Path(settings.work_dir),
                    run_id=context.run.run_id,
                    slot=slot,
                    platform=settings.platform,
                    cache_dir=Path(settings.cache_dir),
                    heartbeat_s=settings.heartbeat_s,
                    stale_after_s=settings.stale_after_s,
                    progress=progress_logger(context.log),
                    worker=settings.worker_name,
                )
    except TaskNotRunnable as exc:
        raise Failure(description=str(exc), metadata={"task": key}, allow_retries=False) from exc
    except Exception as exc:
        if is_transient(exc):
            raise RetryRequested(max_retries=3, seconds_to_wait=5) from exc
        raise
    return MaterializeResult(
        metadata=_metadata(outcome, slot.name, hub_url), check_results=simulation_checks(outcome.summary)
    )
