"""Per-transformation estimates of a network, gathered from its completed repeats' summaries.

Three indexed queries whatever the network's size: its transformations, its completed tasks, and
the result documents those tasks point at (only the summary fields the estimate needs). Summaries of
every version are read (:func:`fepflow.models.results.stored_value`), and repeats are combined the
one way (:func:`fepflow.models.results.gather_stored`).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fepflow.models.binding import mean_contributions
from fepflow.models.results import (
    STORED_VALUE_FIELDS,
    EstimateRow,
    MoleculeValue,
    gather_stored,
    stored_value,
)
from fepflow.models.states import TaskStatus
from fepflow.store.batched import find_in
from fepflow.store.index import Index

COLUMNS = list(EstimateRow.model_fields)
"""The CSV's columns."""
SUMMARY_PROJECTION = {f"summary.{name}": 1 for name in (*STORED_VALUE_FIELDS, "ligand", "contributions")}
"""What an estimate reads of a result's summary."""


def network_estimates(index: Index, network_key: str) -> list[EstimateRow]:
    """One row per transformation of the network, by name; values None until a repeat completes."""
    transformations = {
        str(d["_id"]): d
        for d in index.db["transformations"].find(
            {"networks": network_key},
            {"name": 1, "data.protocol": 1, "data.state_a": 1, "data.state_b": 1},
        )
    }
    _fill_labels(index, transformations)
    n_tasks: dict[str, int] = dict.fromkeys(transformations, 0)
    result_keys: list[str] = []
    for task in index.tasks.coll.find(
        {"networks": network_key}, {"transformation": 1, "status": 1, "result.result_key": 1}
    ):
        if task.get("status") == TaskStatus.CANCELLED.value:
            continue
        n_tasks[task["transformation"]] = n_tasks.get(task["transformation"], 0) + 1
        if task.get("status") == TaskStatus.COMPLETE.value and task.get("result"):
            result_keys.append(task["result"]["result_key"])
    summaries: dict[str, list[dict[str, Any]]] = {}
    if result_keys:
        for doc in find_in(
            index.results.coll, "_id", result_keys, {"transformation": 1, **SUMMARY_PROJECTION}
        ):
            summaries.setdefault(doc["transformation"], []).append(doc.get("summary") or {})
    rows = []
    for key, doc in transformations.items():
        done = [s for s in summaries.get(key, []) if stored_value(s) is not None]
        row = EstimateRow.with_estimate(
            gather_stored(done),
            transformation=key,
            name=doc["label"],
            protocol=str((doc.get("data") or {}).get("protocol", "")),
            ligand=next((s.get("ligand") for s in done if s.get("ligand")), None),
            n_tasks=n_tasks.get(key, 0),
            **mean_contributions(done),
        )
        rows.append(row)
    return sorted(rows, key=lambda r: (r.name, r.transformation))


def molecule_values(rows: list[EstimateRow]) -> list[MoleculeValue]:
    """Per-molecule values where the protocol is absolute (the transformation's ΔG is the molecule's)."""
    return [
        MoleculeValue(
            molecule=row.ligand,
            dg_kcal_mol=row.dg_kcal_mol,
            uncertainty_kcal_mol=row.uncertainty_kcal_mol,
            protocol=row.protocol,
            uncertainty_basis=row.uncertainty_basis,
        )
        for row in rows
        if row.ligand and row.protocol.startswith("absolute") and row.dg_kcal_mol is not None
    ]


def to_csv(rows: list[EstimateRow]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.model_dump().items()})
    return out.getvalue()


def _fill_labels(index: Index, transformations: dict[str, dict[str, Any]]) -> None:
    """``label``: the transformation's name, or "A -> B" from its systems' names."""
    unnamed = {k: d for k, d in transformations.items() if not d.get("name")}
    system_keys: set[str] = set()
    for d in unnamed.values():
        data = d.get("data") or {}
        for side in ("state_a", "state_b"):
            ref = data.get(side) or {}
            if isinstance(ref, dict) and "@key" in ref:
                system_keys.add(ref["@key"])
    names = (
        {
            str(s["_id"]): s.get("name", "")
            for s in find_in(index.db["systems"], "_id", sorted(system_keys), {"name": 1})
        }
        if system_keys
        else {}
    )
    for key, d in transformations.items():
        if d.get("name"):
            d["label"] = d["name"]
            continue
        data = d.get("data") or {}
        a = names.get((data.get("state_a") or {}).get("@key", ""), "?")
        b = names.get((data.get("state_b") or {}).get("@key", ""), "?")
        d["label"] = f"{a} -> {b}" if key in unnamed else key
