"""Networks of absolute transformations: what the hub's planner body and ``fepflow submit`` build.

Absolute protocols (hydration) give one transformation per ligand: solvated -> decoupled.
"""

from __future__ import annotations

from typing import Any

from fepflow.models.components import SmallMoleculeComponent, SolventComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.systems import ChemicalSystem
from fepflow.models.transformations import Transformation
from fepflow.planning.errors import PlanningError

ABSOLUTE_PROTOCOLS = ("absolute-hydration",)


def absolute_network(
    ligands: list[SmallMoleculeComponent],
    *,
    name: str,
    protocol: str = "absolute-hydration",
    settings: dict[str, Any] | None = None,
    solvent: SolventComponent | None = None,
) -> AlchemicalNetwork:
    """One transformation per ligand: the ligand in water -> the ligand decoupled (water alone).

    The water is ``solvent``, by default pure water (no salt: FreeSolv's and experiment's conditions).

    Raises
    ------
    PlanningError
        A protocol that is not absolute, or no ligands.
    """
    if protocol not in ABSOLUTE_PROTOCOLS:
        raise PlanningError(
            f"the planner builds networks for {', '.join(ABSOLUTE_PROTOCOLS)}; "
            f"for {protocol!r} submit a network document"
        )
    if not ligands:
        raise PlanningError("no ligands given")
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
