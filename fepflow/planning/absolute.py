"""Networks of absolute transformations: what the hub's planner body and ``fepflow submit`` build.

Absolute protocols give one transformation per ligand: for hydration the ligand in water -> water
alone; for binding the protein with the ligand (posed) in water -> the protein alone (one apo node,
shared by every ligand's transformation).
"""

from __future__ import annotations

from typing import Any

from fepflow.models.components import ProteinComponent, SmallMoleculeComponent, SolventComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.systems import ChemicalSystem
from fepflow.models.transformations import Transformation
from fepflow.planning.errors import PlanningError

ABSOLUTE_PROTOCOLS = ("absolute-hydration", "absolute-binding")
BINDING_PROTOCOLS = ("absolute-binding",)
"""The absolute protocols whose states hold a protein."""


def absolute_network(
    ligands: list[SmallMoleculeComponent],
    *,
    name: str,
    protocol: str = "absolute-hydration",
    settings: dict[str, Any] | None = None,
    solvent: SolventComponent | None = None,
    protein: ProteinComponent | None = None,
) -> AlchemicalNetwork:
    """One transformation per ligand: the ligand in water (with ``protein`` for binding) -> the
    ligand decoupled (water, or the protein in water, alone).

    The water is ``solvent``: by default pure water for hydration (no salt: FreeSolv's and
    experiment's conditions) and 0.15 M NaCl for binding (the complex's default).

    Raises
    ------
    PlanningError
        A protocol that is not absolute, no ligands, or a protein missing (binding) or given (hydration).
    """
    if protocol not in ABSOLUTE_PROTOCOLS:
        raise PlanningError(
            f"the planner builds networks for {', '.join(ABSOLUTE_PROTOCOLS)}; "
            f"for {protocol!r} submit a network document"
        )
    if not ligands:
        raise PlanningError("no ligands given")
    binding = protocol in BINDING_PROTOCOLS
    if binding != (protein is not None):
        raise PlanningError(
            f"{protocol} needs the protein (a PDB)" if binding else f"{protocol} takes no protein",
            field="protein_pdb",
        )
    if binding:
        return _binding_network(
            ligands, name, protocol, settings or {}, solvent or SolventComponent(), protein
        )
    water = solvent or SolventComponent.pure_water()
    nodes: list[ChemicalSystem] = []
    edges = []
    for ligand in ligands:
        solvated = ChemicalSystem(
            name=f"{ligand.name} in water", components={"ligand": ligand, "solvent": water}
        )
        decoupled = ChemicalSystem(name=f"{ligand.name} decoupled", components={"solvent": water})
        nodes += [solvated, decoupled]
        edges.append(
            Transformation(
                state_a=solvated,
                state_b=decoupled,
                protocol=protocol,
                settings=settings or {},
                name=f"hydration of {ligand.name}",
            )
        )
    return AlchemicalNetwork(name=name, nodes=nodes, edges=edges)


def _binding_network(
    ligands: list[SmallMoleculeComponent],
    name: str,
    protocol: str,
    settings: dict[str, Any],
    water: SolventComponent,
    protein: ProteinComponent | None,
) -> AlchemicalNetwork:
    """The protein with each ligand in water -> the protein alone (one apo node for all)."""
    assert protein is not None
    apo = ChemicalSystem(name=f"{protein.name} in water", components={"protein": protein, "solvent": water})
    nodes = [apo]
    edges = []
    for ligand in ligands:
        bound = ChemicalSystem(
            name=f"{ligand.name} in {protein.name}",
            components={"protein": protein, "ligand": ligand, "solvent": water},
        )
        nodes.append(bound)
        edges.append(
            Transformation(
                state_a=bound,
                state_b=apo,
                protocol=protocol,
                settings=settings,
                name=f"binding of {ligand.name}",
            )
        )
    return AlchemicalNetwork(name=name, nodes=nodes, edges=edges)
