"""Dagster's network_estimates asset against the real index: relative networks' answers stored, the
ligand table in Dagit's metadata, and WARN checks on an open cycle and a disconnected ligand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import complete_task
from dagster import AssetCheckSeverity, DagsterInstance, materialize

from fepflow.analysis.network import ligand_names
from fepflow.models import ChemicalSystem, SmallMoleculeComponent, SolventComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import ExperimentalValue
from fepflow.models.results import TaskSummary
from fepflow.planning import plan_network
from fepflow.settings import ObjectStoreSettings
from fepflow.store.index import Index
from fepflow.store.network_estimates import NetworkEstimateStore
from fepflow.store.objects import ObjectStore, open_object_store
from orchestrator.assets import network_estimates, simulation, transformation_estimates
from orchestrator.resources import IndexResource

pytestmark = pytest.mark.integration

SMILES = {"benzene": "c1ccccc1", "toluene": "Cc1ccccc1", "phenol": "Oc1ccccc1"}


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


def _cycle_with_a_stray_ligand() -> AlchemicalNetwork:
    """benzene -> toluene -> phenol -> benzene, and ethanol, which no edge reaches."""
    ligands = [SmallMoleculeComponent.from_smiles(s, n) for n, s in SMILES.items()]
    cycle = plan_network(
        ligands, edges=[("benzene", "toluene"), ("toluene", "phenol"), ("benzene", "phenol")]
    )
    stray = ChemicalSystem(
        name="ethanol",
        components={
            "ligand": SmallMoleculeComponent.from_smiles("CCO", "ethanol"),
            "solvent": SolventComponent(),
        },
    )
    return AlchemicalNetwork(name="cycle", nodes=(*cycle.nodes, stray), edges=cycle.edges)


def _complete_all(index: Index, objects: ObjectStore, network: AlchemicalNetwork, keys: list[str]) -> None:
    # 1.0 + 1.0 - 1.5: the cycle is 0.5 open; each edge's three repeats have an MBAR error of
    # 0.05 / sqrt(3), so the closure's σ is 0.05: far beyond 2σ
    values = {("benzene", "toluene"): 1.0, ("toluene", "phenol"): 1.0, ("benzene", "phenol"): 1.5}
    by_key = {t.key: t for t in network.edges}
    for key in keys:
        task = index.tasks.get(key)
        t = by_key[task.transformation_key]
        summary = TaskSummary(
            protocol="relative-hydration",
            transformation=t.key,
            repeat=task.repeat,
            quantity="ΔΔG_hyd(A -> B)",
            dg_kcal_mol=values[ligand_names(t)],
            dg_mbar_error_kcal_mol=0.05,
        )
        complete_task(index, objects, key, stored_summary=summary.to_stored())


def test_network_estimates_are_stored_shown_and_checked(env: dict[str, Any]) -> None:
    index: Index = env["index"]
    network = _cycle_with_a_stray_ligand()
    report = index.submit_network(network, scope="test-orch-network")
    index.networks.set_experimental(
        network.key, [ExperimentalValue(ligand="benzene", dg_kcal_mol=-0.9)], scope="org-a-x"
    )
    _complete_all(index, env["objects"], network, report.task_keys)

    result = materialize(
        [simulation.to_source_asset(), transformation_estimates, network_estimates],
        instance=env["instance"],
        resources=env["resources"],
    )
    assert result.success  # the checks warn; they do not fail the run

    stored = NetworkEstimateStore(index).get(network.key)
    assert stored is not None and stored.protocol == "relative-hydration" and stored.shifted_to_experiment
    dg = {x.ligand: x.dg_kcal_mol for x in stored.ligands}
    assert dg["benzene"] == pytest.approx(-0.9)  # the only experimental value: the shift puts it there
    assert dg["toluene"] == pytest.approx(-0.9 + 1.0 - 0.5 / 3)  # the closure spread over the three edges
    assert dg["ethanol"] is None

    mat = result.asset_materializations_for_node("network_estimates")[0]
    meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    assert meta["networks"] == 1
    table = meta["ligands"]
    assert "### cycle" in table and "| rank | ligand | ΔG (kcal/mol) | ± | experiment |" in table
    assert (
        f"| 1 | benzene | {dg['benzene']:+.2f} |" in table
        or f"| 1 | toluene | {dg['toluene']:+.2f} |" in table
    )
    assert "| 3 | phenol |" in table and "|  | ethanol (disconnected) |  |  |  |" in table

    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert set(checks) == {"cycle_closure", "ligands_connected"}
    assert not checks["cycle_closure"].passed and checks["cycle_closure"].severity == AssetCheckSeverity.WARN
    assert checks["cycle_closure"].description == "cycle: toluene -> phenol -> benzene closes at +0.50 ± 0.05"
    assert not checks["ligands_connected"].passed
    assert checks["ligands_connected"].description == "disconnected: cycle: ethanol"
