"""The allocation sensor against the real index (embedded MongoDB wire server): a relative network
that opted in gets repeats where its per-ligand uncertainty falls most, each decision recorded and
reported with its reason, until the target is met or the budget spent; extensions when repeats are
capped; a decision a crash left unapplied is applied once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import complete_task
from dagster import DagsterInstance, SensorResult, SkipReason, build_sensor_context

from fepflow.analysis.allocation import Strategy
from fepflow.analysis.network import ligand_names
from fepflow.models import SmallMoleculeComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.results import TaskSummary
from fepflow.models.states import TaskStatus
from fepflow.planning import plan_network
from fepflow.settings import ObjectStoreSettings
from fepflow.store.allocation import AllocationStore, reapply
from fepflow.store.index import Index
from fepflow.store.models import NotFound
from fepflow.store.objects import ObjectStore, open_object_store
from orchestrator.allocation import enable
from orchestrator.resources import IndexResource
from orchestrator.sensors import allocation_sensor

pytestmark = pytest.mark.integration

SMILES = {"benzene": "c1ccccc1", "toluene": "Cc1ccccc1", "phenol": "Oc1ccccc1"}
ERRORS = {("benzene", "toluene"): 0.05, ("toluene", "phenol"): 0.4}
"""Per-repeat MBAR error of each edge: toluene -> phenol is the noisy one, and the only path to phenol."""


@pytest.fixture()
def env(mongo_url: str, mongo_db_name: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    index = Index.connect(mongo_url, mongo_db_name)
    index.ensure_indexes()
    instance = DagsterInstance.ephemeral()
    try:
        yield {
            "index": index,
            "objects": open_object_store(ObjectStoreSettings(url=f"file://{tmp_path / 'objects'}")),
            "instance": instance,
            "resources": {"index": IndexResource(url=mongo_url, database=mongo_db_name)},
        }
    finally:
        index.client.drop_database(mongo_db_name)
        index.close()
        instance.dispose()


def _chain() -> AlchemicalNetwork:
    ligands = [SmallMoleculeComponent.from_smiles(s, n) for n, s in SMILES.items()]
    return plan_network(ligands, edges=[("benzene", "toluene"), ("toluene", "phenol")])


def _complete_waiting(index: Index, objects: ObjectStore, network: AlchemicalNetwork) -> int:
    by_key = {t.key: t for t in network.edges}
    waiting = index.tasks.of_network(network.key, TaskStatus.WAITING)
    for doc in waiting:
        t = by_key[doc["transformation"]]
        summary = TaskSummary(
            protocol="relative-hydration",
            transformation=t.key,
            repeat=doc["repeat"],
            quantity="ΔΔG_hyd(A -> B)",
            dg_kcal_mol=1.0 + 0.01 * doc["repeat"],
            dg_mbar_error_kcal_mol=ERRORS[ligand_names(t)],
        )
        complete_task(index, objects, doc["_id"], stored_summary=summary.to_stored())
    return len(waiting)


def _tick(env: dict[str, Any]) -> SensorResult | SkipReason:
    with build_sensor_context(instance=env["instance"], resources=env["resources"]) as context:
        return allocation_sensor(context)


def test_repeats_go_to_the_noisy_edge_until_the_target_is_met(env: dict[str, Any]) -> None:
    index, objects = env["index"], env["objects"]
    network = _chain()
    index.submit_network(network, scope="test-allocation", repeats=1)
    store = AllocationStore(index)
    with pytest.raises(NotFound):
        enable(index, "AlchemicalNetwork-missing", Strategy(target_kcal_mol=0.2, budget_s=100))
    skipped = _tick(env)
    assert isinstance(skipped, SkipReason) and "no network" in (skipped.skip_message or "")

    enable(index, network.key, Strategy(target_kcal_mol=0.2, budget_s=100, max_pending=1))
    waiting = _tick(env)  # no results yet: nothing to decide from
    assert isinstance(waiting, SkipReason) and "waiting for the first result" in (waiting.skip_message or "")

    noisy = next(t.key for t in network.edges if ligand_names(t) == ("toluene", "phenol"))
    _complete_waiting(index, objects, network)
    ticks = []
    for _ in range(12):
        ticks.append(_tick(env))
        if store.get(network.key)["status"] == "done":  # type: ignore[index]
            break
        _complete_waiting(index, objects, network)
    doc = store.get(network.key)
    assert doc is not None and doc["status"] == "done" and doc["stop"].startswith("target met")
    assert doc["worst"][1] <= 0.2

    history = store.history(network.key)
    assert history and all(d["applied"] and d["action"] == "repeat" for d in history)
    assert {d["transformation"] for d in history} == {noisy}
    assert all("toluene -> phenol" in d["reason"] for d in history)
    tasks = index.tasks.of_network(network.key)
    assert len([t for t in tasks if t["transformation"] == noisy]) == 1 + len(history)

    decided = [t for t in ticks if isinstance(t, SensorResult) and t.asset_events]
    first = decided[0].asset_events[0]  # type: ignore[union-attr]
    assert first.asset_key.path == ["allocation_decisions"]
    meta = {k: getattr(v, "value", v) for k, v in first.metadata.items()}
    assert meta["decisions"] == 1 and "toluene -> phenol" in meta["table"]
    after = _tick(env)  # a finished strategy is not evaluated again
    assert isinstance(after, SkipReason) and "no network" in (after.skip_message or "")


def test_a_spent_budget_ends_the_strategy(env: dict[str, Any]) -> None:
    index, objects = env["index"], env["objects"]
    network = _chain()
    index.submit_network(network, scope="test-allocation", repeats=1)
    _complete_waiting(index, objects, network)
    store = AllocationStore(index)
    enable(index, network.key, Strategy(target_kcal_mol=0.01, budget_s=2.5, max_pending=4))
    for _ in range(4):
        _tick(env)
        _complete_waiting(index, objects, network)
    doc = store.get(network.key)
    assert doc is not None and doc["status"] == "done" and doc["stop"].startswith("budget spent")
    assert len(store.history(network.key)) == 2 and store.spent_s(network.key) <= 2.5


def test_capped_repeats_become_extensions_applied_once(env: dict[str, Any]) -> None:
    index, objects = env["index"], env["objects"]
    network = _chain()
    index.submit_network(network, scope="test-allocation", repeats=1)
    _complete_waiting(index, objects, network)
    store = AllocationStore(index)
    enable(index, network.key, Strategy(target_kcal_mol=0.01, budget_s=100, max_pending=1, max_repeats=1))
    result = _tick(env)
    assert isinstance(result, SensorResult)
    (decision,) = store.history(network.key)
    assert decision["action"] == "extend" and decision["applied"]
    task = index.tasks.coll.find_one({"_id": decision["task"]})
    assert task is not None and task["status"] == TaskStatus.WAITING.value
    assert task["extend_iterations"] == decision["iterations"] >= 1

    # a crash between recording and marking applied: re-applying does not extend twice
    store.decisions.update_one({"_id": decision["_id"]}, {"$set": {"applied": False}})
    assert reapply(index, store, network.key) == 1
    again = index.tasks.coll.find_one({"_id": decision["task"]})
    assert again is not None and again["extend_iterations"] == decision["iterations"]
    assert store.history(network.key)[0]["applied"]
