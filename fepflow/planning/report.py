"""What a plan says to a person (:class:`~fepflow.models.plans.PlanReport`): ligands, edges with their
mapping scores, independent cycles, experimental values and the protein's preparation."""

from __future__ import annotations

from collections.abc import Sequence

from fepflow.analysis.network import fundamental_cycles, ligand_names, network_edges
from fepflow.models.components import SmallMoleculeComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import ExperimentalValue
from fepflow.models.plans import PlannedEdge, PlannedLigand, PlanReport, ProteinPreparation


def ligand_pairs(network: AlchemicalNetwork) -> list[tuple[str, str]]:
    """The ligand pairs ``(A, B)`` of a relative network (its legs grouped by
    :func:`~fepflow.analysis.network.network_edges`), in the order of their first transformation."""
    return [(edge.a, edge.b) for edge in network_edges(network)[0]]


def independent_cycles(names: Sequence[str], pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
    """The independent cycles (one per edge beyond a spanning tree), as ligand names around each."""
    index = {n: i for i, n in enumerate(names)}
    numbered = [(index[a], index[b]) for a, b in pairs]
    return [
        [names[numbered[k][0] if forward else numbered[k][1]] for k, forward in cycle]
        for cycle in fundamental_cycles(len(names), numbered)
    ]


def _heavy(ligand: SmallMoleculeComponent) -> list[bool]:
    return [atom.GetAtomicNum() > 1 for atom in ligand.to_rdkit().GetAtoms()]


def _planned_edges(network: AlchemicalNetwork) -> list[PlannedEdge]:
    ligands = {
        c.name: c for system in network.nodes for c in system.components.values()
        if isinstance(c, SmallMoleculeComponent)
    }  # fmt: skip
    heavy = {name: _heavy(lig) for name, lig in ligands.items()}
    by_key = {t.key: t for t in network.edges}
    out = []
    for edge in network_edges(network)[0]:
        legs = dict(sorted(edge.legs.items()))
        first = by_key[next(iter(legs.values()))[0]]
        mapping = first.mapping
        a, b = ligand_names(first)
        mapped = sum(1 for i, _ in (mapping.pairs if mapping else ()) if heavy[a][i])
        out.append(
            PlannedEdge(
                ligand_a=edge.a,
                ligand_b=edge.b,
                score=mapping.score if mapping else None,
                mapped_heavy_atoms=mapped,
                unmapped_heavy_atoms=sum(heavy[a]) + sum(heavy[b]) - 2 * mapped,
                transformations={leg: key for leg, (key, _) in legs.items()},
            )
        )
    return out


def plan_report(
    network: AlchemicalNetwork,
    ligands: Sequence[SmallMoleculeComponent],
    *,
    shape: str,
    reference: str | None = None,
    preset: str | None = None,
    experimental: Sequence[ExperimentalValue] = (),
    protein: ProteinPreparation | None = None,
) -> PlanReport:
    """The report of a planned ``network`` over ``ligands``."""
    measured = {v.ligand: v for v in experimental}
    planned_ligands = [
        PlannedLigand(
            name=lig.name,
            smiles=lig.smiles,
            net_charge=lig.formal_charge,
            heavy_atoms=sum(_heavy(lig)),
            posed=lig.conformer is not None,
            experimental=measured.get(lig.name),
        )
        for lig in ligands
    ]
    names = [lig.name for lig in ligands]
    order = {n: i for i, n in enumerate(names)}
    edges = sorted(_planned_edges(network), key=lambda e: (order[e.ligand_a], order[e.ligand_b]))
    return PlanReport(
        network=network.key,
        name=network.name,
        protocol=network.edges[0].protocol if network.edges else "",
        shape=shape,
        reference=reference,
        preset=preset,
        ligands=planned_ligands,
        edges=edges,
        cycles=independent_cycles(names, [(e.ligand_a, e.ligand_b) for e in edges]),
        experimental=list(experimental),
        protein=protein,
        n_transformations=len(network.edges),
        warnings=_implicit_solvent_warnings(network, ligands),
    )


def _implicit_solvent_warnings(
    network: AlchemicalNetwork, ligands: Sequence[SmallMoleculeComponent]
) -> list[str]:
    """What GB implicit solvent (the fast preset) cannot treat among ``ligands``, where the network
    uses it (:mod:`fepflow.chemistry.implicit_limits`)."""
    from fepflow.chemistry.implicit_limits import implicit_solvent_warnings

    implicit = any((t.settings.get("system") or {}).get("solvent_model") == "obc2" for t in network.edges)
    return [w for lig in ligands for w in implicit_solvent_warnings(lig)] if implicit else []
