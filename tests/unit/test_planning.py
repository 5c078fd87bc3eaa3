"""Network planning: Kruskal's tree, stars, cycle closure, user edges and the networks they become."""

from __future__ import annotations

import pytest

from fepflow.models import ProteinComponent, SmallMoleculeComponent
from fepflow.planning import (
    PlanningError,
    add_cycle_edges,
    minimal_spanning_tree,
    nodes_off_cycles,
    plan_network,
    star_edges,
)

BENZENES = {
    "benzene": "c1ccccc1",
    "toluene": "Cc1ccccc1",
    "phenol": "Oc1ccccc1",
    "ethylbenzene": "CCc1ccccc1",
    "chlorobenzene": "Clc1ccccc1",
}
PDB = "ATOM      1  CA  ALA A   1       0.000   0.000   0.000  1.00  0.00           C\n"


@pytest.fixture(scope="module")
def ligands() -> list[SmallMoleculeComponent]:
    return [SmallMoleculeComponent.from_smiles(s, n) for n, s in BENZENES.items()]


def edge_names(network) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(e.state_a.name, e.state_b.name) for e in network.edges}


def test_kruskal_known_tree() -> None:
    # square 0-1-2-3 with a cheap diagonal 0-2: the tree is {0-2, 0-1, 2-3} (total 0.1+0.2+0.3)
    costs = {(0, 1): 0.2, (1, 2): 0.5, (2, 3): 0.3, (0, 3): 0.4, (0, 2): 0.1}
    assert minimal_spanning_tree(4, costs) == [(0, 1), (0, 2), (2, 3)]
    with pytest.raises(ValueError, match="disconnected"):
        minimal_spanning_tree(4, {(0, 1): 0.1, (2, 3): 0.1})


def test_star_and_cycles() -> None:
    costs = {(i, j): 0.1 * (i + j) for i in range(4) for j in range(i + 1, 4)}
    star = star_edges(4, 0, costs)
    assert star == [(0, 1), (0, 2), (0, 3)]
    assert nodes_off_cycles(4, star) == [0, 1, 2, 3]
    closed = add_cycle_edges(4, star, costs)
    assert nodes_off_cycles(4, closed) == []
    # cheapest additions: (1, 2) puts 0,1,2 on a cycle, then (1, 3) for node 3
    assert closed == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3)]
    with pytest.raises(ValueError, match=r"\[3\]"):
        star_edges(4, 0, {(0, 1): 0.1, (0, 2): 0.1})


def test_nodes_off_cycles() -> None:
    # triangle 0-1-2 with a tail 2-3
    assert nodes_off_cycles(4, [(0, 1), (1, 2), (0, 2), (2, 3)]) == [3]


def test_mst_network_of_substituted_benzenes(ligands: list[SmallMoleculeComponent]) -> None:
    network = plan_network(ligands, name="benzenes")
    assert len(network.edges) == len(ligands) - 1
    # every substituent differs from benzene by one or two heavy atoms: benzene is the hub
    # (toluene/phenol/chlorobenzene lose 2 heavy atoms against each other, only 1 against benzene)
    assert {frozenset(p) for p in edge_names(network)} >= {
        frozenset(("benzene", "toluene")),
        frozenset(("benzene", "phenol")),
        frozenset(("benzene", "chlorobenzene")),
    }
    for edge in network.edges:
        assert edge.protocol == "relative-hydration"
        assert edge.mapping is not None and edge.mapping.score is not None
        assert edge.mapping.component_a == "ligand"
        assert set(edge.state_a.components) == {"ligand", "solvent"}


def test_star_network_around_reference(ligands: list[SmallMoleculeComponent]) -> None:
    network = plan_network(ligands, layout="star", reference="toluene")
    assert edge_names(network) == {("toluene", n) for n in BENZENES if n != "toluene"}
    with pytest.raises(PlanningError, match="reference"):
        plan_network(ligands, layout="star", reference="naphthalene")


def test_cycles_put_every_ligand_on_a_cycle(ligands: list[SmallMoleculeComponent]) -> None:
    network = plan_network(ligands, cycles=True)
    names = [lig.name for lig in ligands]
    pairs = [(names.index(a), names.index(b)) for a, b in edge_names(network)]
    assert nodes_off_cycles(len(ligands), pairs) == []
    assert len(network.edges) > len(ligands) - 1


def test_user_edges_taken_as_given(ligands: list[SmallMoleculeComponent]) -> None:
    network = plan_network(ligands, edges=[("phenol", "toluene"), ("toluene", "benzene")])
    assert edge_names(network) == {("phenol", "toluene"), ("toluene", "benzene")}
    with pytest.raises(PlanningError, match="unknown ligand"):
        plan_network(ligands, edges=[("phenol", "xylene")])


def test_user_edge_that_cannot_be_mapped() -> None:
    ligs = [
        SmallMoleculeComponent.from_smiles("c1ccccc1", "benzene"),
        SmallMoleculeComponent.from_smiles("CO", "methanol"),
    ]
    with pytest.raises(PlanningError, match="no sensible mapping"):
        plan_network(ligs, edges=[("benzene", "methanol")])
    with pytest.raises(PlanningError, match="cannot connect"):
        plan_network(ligs)


def test_charge_change_refused_in_planning() -> None:
    ligs = [
        SmallMoleculeComponent.from_smiles("CC(=O)O", "acid"),
        SmallMoleculeComponent.from_smiles("CC(=O)[O-]", "acetate"),
    ]
    with pytest.raises(PlanningError, match="charge-conserving"):
        plan_network(ligs, edges=[("acid", "acetate")])


def test_protein_gives_complex_and_solvent_legs(ligands: list[SmallMoleculeComponent]) -> None:
    protein = ProteinComponent.from_pdb(PDB, "toy")
    network = plan_network(ligands[:3], layout="star", reference="benzene", protein=protein)
    assert len(network.edges) == 4
    legs = sorted(e.name or "" for e in network.edges)
    assert legs == [
        "benzene -> phenol (complex)",
        "benzene -> phenol (solvent)",
        "benzene -> toluene (complex)",
        "benzene -> toluene (solvent)",
    ]
    complex_edge = next(e for e in network.edges if e.name == "benzene -> toluene (complex)")
    assert complex_edge.state_a.protein is not None and complex_edge.protocol == "relative-binding"
    assert len(network.nodes) == 6


def test_bad_ligand_lists() -> None:
    one = [SmallMoleculeComponent.from_smiles("C", "methane")]
    with pytest.raises(PlanningError, match="at least two"):
        plan_network(one)
    twice = [SmallMoleculeComponent.from_smiles("C", "x"), SmallMoleculeComponent.from_smiles("CC", "x")]
    with pytest.raises(PlanningError, match="used twice"):
        plan_network(twice)
