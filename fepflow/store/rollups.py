"""Stored roll-ups for Dagster's downstream assets: per-transformation estimates and per-network summaries.

Derived data, recomputed from the completed results whenever new ones land, and kept in the
``estimates`` and ``network_summaries`` collections (Dagit shows them; the hub computes its own
answers from the results, so these are never the only copy of anything).
"""

from __future__ import annotations

import math
from typing import Any

from fepflow.models.binding import mean_contributions
from fepflow.models.results import TaskSummary, gather, stored_value
from fepflow.models.states import TaskStatus
from fepflow.models.tasks import utcnow
from fepflow.store.index import Index


def estimate_document(index: Index, transformation_key: str) -> dict[str, Any] | None:
    """The estimate of one transformation from its completed repeats (None without any)."""
    results = [
        r
        for r in index.results.for_transformation(transformation_key)
        if stored_value(r.get("summary") or {}) is not None
    ]
    if not results:
        return None
    summaries = [TaskSummary.from_stored(r["summary"]) for r in results]  # any version
    doc = index.coll("transformations").find_one({"_id": transformation_key}) or {}
    protocol = str(doc.get("protocol") or summaries[0].protocol)
    estimate = gather(summaries)
    return {
        "_id": transformation_key,
        "transformation": transformation_key,
        "name": doc.get("name"),
        "protocol": protocol,
        "networks": doc.get("networks", []),
        "dg_kcal_mol": estimate.dg_kcal_mol,
        "uncertainty_kcal_mol": estimate.uncertainty_kcal_mol,
        "uncertainty_basis": estimate.uncertainty_basis,
        "stdev_kcal_mol": estimate.stdev_kcal_mol,
        "mbar_error_kcal_mol": estimate.mbar_error_kcal_mol,
        "n_repeats": estimate.n_repeats,
        "results": [r["_id"] for r in results],
        "repeat_values_kcal_mol": [s.dg_kcal_mol for s in summaries],
        **mean_contributions([r["summary"] for r in results]),
        "updated_at": utcnow(),
    }


def update_estimates(index: Index, transformation_keys: list[str] | None = None) -> list[dict[str, Any]]:
    """Recompute and store the estimates of ``transformation_keys`` (every one with a result if None)."""
    if transformation_keys is None:
        transformation_keys = sorted(
            index.tasks.coll.distinct("transformation", {"status": TaskStatus.COMPLETE.value})
        )
    docs = []
    coll = index.coll("estimates")
    for key in transformation_keys:
        doc = estimate_document(index, key)
        if doc is not None:
            coll.replace_one({"_id": key}, doc, upsert=True)
            docs.append(doc)
    return docs


def update_network_summaries(index: Index, network_keys: list[str] | None = None) -> list[dict[str, Any]]:
    """Task counts and estimates per network, stored in ``network_summaries``."""
    if network_keys is None:
        network_keys = [str(d["_id"]) for d in index.coll("networks").find({}, {"_id": 1})]
    out = []
    for key in network_keys:
        counts = index.tasks.counts(key)
        estimates = list(index.coll("estimates").find({"networks": key}))
        total = sum(counts.values())
        finished = counts.get("complete", 0) + counts.get("cancelled", 0)
        doc = {
            "_id": key,
            "network": key,
            "task_counts": counts,
            "n_tasks": total,
            "fraction_complete": finished / total if total else 0.0,
            "n_estimates": len(estimates),
            "estimates": [
                {
                    k: e.get(k)
                    for k in ("transformation", "name", "dg_kcal_mol", "uncertainty_kcal_mol", "n_repeats")
                }
                for e in sorted(estimates, key=lambda e: str(e.get("name")))
            ],
            "largest_uncertainty_kcal_mol": max(
                (e["uncertainty_kcal_mol"] for e in estimates), default=math.nan
            ),
            "updated_at": utcnow(),
        }
        index.coll("network_summaries").replace_one({"_id": key}, doc, upsert=True)
        out.append(doc)
    return out
