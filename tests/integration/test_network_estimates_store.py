"""A relative network's estimates from the index: experimental values on the network, edges from legs."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import complete_task
from factories import hydration_network

from fepflow.analysis.network_estimates import relative_network_estimates
from fepflow.models import ProteinComponent, SmallMoleculeComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import ExperimentalValue
from fepflow.models.results import TaskSummary
from fepflow.planning import plan_network
from fepflow.settings import ObjectStoreSettings
from fepflow.store.index import Index
from fepflow.store.network_estimates import NetworkEstimateStore, estimate_inputs, relative_network_keys
from fepflow.store.objects import ObjectStore, open_object_store

pytestmark = pytest.mark.integration

PDB = "ATOM      1  CA  ALA A   1       0.000   0.000   0.000  1.00  0.00           C\n"


@pytest.fixture()
def index(mongo_url: str, mongo_db_name: str) -> Iterator[Index]:
    idx = Index.connect(mongo_url, mongo_db_name)
    idx.ensure_indexes()
    yield idx
    idx.client.drop_database(mongo_db_name)
    idx.close()


def test_experimental_values_are_kept_on_the_network_through_a_resubmission(index: Index) -> None:
    net = hydration_network(["methane", "ethanol"], repeats=1)
    index.submit_network(net)
    assert index.networks.experimental(net.key) == []
    values = [
        ExperimentalValue(ligand="methane", dg_kcal_mol=2.0, uncertainty_kcal_mol=0.1),
        ExperimentalValue(ligand="ethanol", dg_kcal_mol=-5.0),
    ]
    index.networks.set_experimental(net.key, values, scope="org-a-x")
    index.submit_network(net)  # a resubmission keeps them
    assert index.networks.experimental(net.key) == values
    summary = index.networks.summary(net.key)
    assert summary is not None and "experimental" not in summary
    index.networks.set_experimental(net.key, values[:1], scope="org-a-x")  # replaced, not merged
    assert index.networks.experimental(net.key) == values[:1]
    other = [ExperimentalValue(ligand="methane", dg_kcal_mol=9.0)]
    index.networks.set_experimental(net.key, other, scope="org-b-x")  # another scope's: kept apart
    assert index.networks.experimental(net.key, ["org-a-x"]) == values[:1]
    assert index.networks.experimental(net.key, ["org-b-x"]) == other
    assert index.networks.experimental(net.key, ["org-c-x"]) == []
    with pytest.raises(KeyError, match="no network"):
        index.networks.set_experimental("AlchemicalNetwork-missing", values, scope="org-a-x")
    with pytest.raises(ValueError, match="given twice for: methane"):
        index.networks.set_experimental(net.key, [values[0], values[0]], scope="org-a-x")


def _binding_network() -> AlchemicalNetwork:
    ligands = [
        SmallMoleculeComponent.from_smiles(s, n)
        for n, s in [("benzene", "c1ccccc1"), ("toluene", "Cc1ccccc1")]
    ]
    return plan_network(
        ligands, edges=[("benzene", "toluene")], protein=ProteinComponent.from_pdb(PDB, "toy")
    )


def _complete(
    index: Index,
    objects: ObjectStore,
    task_key: str,
    network: AlchemicalNetwork,
    values: dict[str, list[float]],
) -> None:
    task = index.tasks.get(task_key)
    transformation = next(t for t in network.edges if t.key == task.transformation_key)
    leg = "complex" if transformation.state_a.protein is not None else "solvent"
    summary = TaskSummary(
        protocol="relative-binding",
        transformation=task.transformation_key,
        repeat=task.repeat,
        quantity="ΔG_leg(A -> B)",
        dg_kcal_mol=values[leg][task.repeat],
        dg_mbar_error_kcal_mol=0.05,
        ligand_a="benzene",
        ligand_b="toluene",
        leg=leg,
    )
    complete_task(index, objects, task_key, stored_summary=summary.to_stored())


def test_a_binding_edge_from_indexed_results_is_complex_minus_solvent(index: Index, tmp_path: Path) -> None:
    objects = open_object_store(ObjectStoreSettings(url=f"file://{tmp_path / 'objects'}"))
    network = _binding_network()
    report = index.submit_network(network, scope="test-estimates", repeats=2)
    index.submit_network(hydration_network(["methane", "ethanol"]), scope="test-estimates")
    assert relative_network_keys(index) == [network.key]
    values = {"complex": [-3.0, -3.4], "solvent": [-1.0, -1.2]}
    for key in report.task_keys:
        _complete(index, objects, key, network, values)

    inputs = estimate_inputs(index, network.key)
    assert inputs.network == network and inputs.experimental == []
    result = relative_network_estimates(*inputs)
    (edge,) = result.edges
    assert edge.ddg_kcal_mol == pytest.approx(-3.2 - (-1.1))
    assert edge.n_repeats == 2
    assert edge.stdev_kcal_mol == pytest.approx(math.hypot(math.sqrt(0.08), math.sqrt(0.02)))
    assert edge.mbar_error_kcal_mol == pytest.approx(math.hypot(0.05 / math.sqrt(2), 0.05 / math.sqrt(2)))
    assert set(edge.legs) == {"complex", "solvent"}

    # experiment: the two ligands' ΔG are placed on its scale, their difference kept
    index.networks.set_experimental(
        network.key,
        [
            ExperimentalValue(ligand="benzene", dg_kcal_mol=-5.2),
            ExperimentalValue(ligand="toluene", dg_kcal_mol=-4.9),
        ],
        scope="org-a-x",
    )
    result = relative_network_estimates(*estimate_inputs(index, network.key))
    dg = {x.ligand: x.dg_kcal_mol for x in result.ligands}
    assert result.shifted_to_experiment
    assert (dg["benzene"] + dg["toluene"]) / 2 == pytest.approx((-5.2 - 4.9) / 2)  # type: ignore[operator]
    assert dg["toluene"] - dg["benzene"] == pytest.approx(-2.1)  # type: ignore[operator]
    assert [x.ligand for x in result.ligands] == ["toluene", "benzene"]

    store = NetworkEstimateStore(index)
    assert store.get(network.key) is None
    store.put(result)
    assert store.get(network.key) == result
