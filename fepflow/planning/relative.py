"""From a ligand set to an :class:`~fepflow.models.AlchemicalNetwork` of relative transformations.

Layouts:

- ``"mst"``: the minimal spanning tree over mapping costs ``1 - score`` (Kruskal);
- ``"star"``: every ligand against one ``reference`` ligand;
- ``cycles=True`` adds, to either, the cheapest edges until every ligand lies on a cycle (so that
  every ligand has a cycle-closure check and no single failed edge disconnects it);
- ``edges=[("a", "b"), ...]``: exactly the pairs given, in the direction given (still mapped); a
  ligand no edge reaches is left unconnected here (:func:`~fepflow.planning.campaign.plan_campaign`,
  the entry points' planner, refuses that).

Without a protein each edge is one ``relative-hydration`` transformation between systems
``{ligand, solvent}`` (the protocol runs the solvent and vacuum legs). With a protein each edge
becomes two ``relative-binding`` transformations: the complex leg between ``{ligand, protein,
solvent}`` systems and the solvent leg between ``{ligand, solvent}`` systems; ΔΔG_bind = complex -
solvent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

from fepflow.mapping import MappingError, MappingOptions, map_ligands
from fepflow.models.components import ProteinComponent, SmallMoleculeComponent, SolventComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.systems import ChemicalSystem
from fepflow.models.transformations import AtomMapping, Transformation
from fepflow.planning.errors import PlanningError
from fepflow.planning.graphs import add_cycle_edges, components, minimal_spanning_tree, star_edges

logger = logging.getLogger(__name__)

LIGAND = "ligand"


def score_pairs(
    ligands: Sequence[SmallMoleculeComponent],
    pairs: Sequence[tuple[int, int]] | None = None,
    options: MappingOptions | None = None,
) -> tuple[dict[tuple[int, int], AtomMapping], dict[tuple[int, int], str]]:
    """Map ``pairs`` (default: every pair ``i < j``): the mappings, and the reasons of those that failed."""
    todo = (
        pairs
        if pairs is not None
        else [(i, j) for i in range(len(ligands)) for j in range(i + 1, len(ligands))]
    )
    mappings: dict[tuple[int, int], AtomMapping] = {}
    failed: dict[tuple[int, int], str] = {}
    for i, j in todo:
        try:
            mappings[(i, j)] = map_ligands(ligands[i], ligands[j], options=options)
        except MappingError as exc:
            failed[(i, j)] = str(exc)
    return mappings, failed


def _check_names(ligands: Sequence[SmallMoleculeComponent]) -> dict[str, int]:
    if len(ligands) < 2:
        raise PlanningError(f"a relative network needs at least two ligands, got {len(ligands)}")
    index: dict[str, int] = {}
    for i, lig in enumerate(ligands):
        if lig.name in index:
            raise PlanningError(f"ligand name {lig.name!r} is used twice; names must be unique")
        index[lig.name] = i
    keys = {lig.key for lig in ligands}
    if len(keys) != len(ligands):
        raise PlanningError("the same molecule is listed twice under different names")
    return index


def _pair_reasons(
    ligands: Sequence[SmallMoleculeComponent], failed: dict[tuple[int, int], str], group: Sequence[int]
) -> str:
    """Why the ligands of ``group`` map onto none of the others: each failed pair, named."""
    inside = set(group)
    lines = [
        f"{ligands[i].name!r} - {ligands[j].name!r}: {why}"
        for (i, j), why in sorted(failed.items())
        if (i in inside) != (j in inside)
    ]
    if len(lines) > 6:
        lines = [*lines[:6], f"and {len(lines) - 6} more pairs"]
    return "; ".join(lines)


def _user_edges(
    ligands: Sequence[SmallMoleculeComponent],
    index: dict[str, int],
    edges: Sequence[tuple[str, str]],
    options: MappingOptions | None,
) -> dict[tuple[int, int], AtomMapping]:
    wanted = []
    for a, b in edges:
        unknown = [x for x in (a, b) if x not in index]
        if unknown:
            raise PlanningError(
                f"edge {a!r} -> {b!r} names unknown ligand(s): {', '.join(unknown)} "
                f"(the ligands are {', '.join(sorted(index))})",
                field="edges",
            )
        wanted.append((index[a], index[b]))
    mappings, failed = score_pairs(ligands, wanted, options)
    if failed:
        raise PlanningError(
            "; ".join(
                f"edge {ligands[i].name!r} -> {ligands[j].name!r}: {why}" for (i, j), why in failed.items()
            ),
            field="edges",
        )
    return mappings


def _layout_edges(
    ligands: Sequence[SmallMoleculeComponent],
    index: dict[str, int],
    layout: str,
    reference: str | None,
    costs: dict[tuple[int, int], float],
    failed: dict[tuple[int, int], str],
) -> list[tuple[int, int]]:
    n = len(ligands)
    if layout == "star":
        if reference is None:
            raise PlanningError(
                f"a star needs a reference ligand (one of {', '.join(sorted(index))})", field="reference"
            )
        if reference not in index:
            raise PlanningError(
                f"the reference {reference!r} is not one of the ligands ({', '.join(sorted(index))})",
                field="reference",
            )
        centre = index[reference]
        lost = [i for i in range(n) if i != centre and (min(i, centre), max(i, centre)) not in costs]
        if lost:
            raise PlanningError(
                f"cannot connect the ligands in a star: {', '.join(repr(ligands[i].name) for i in lost)} "
                f"cannot be mapped onto the reference {reference!r}: "
                + _pair_reasons(ligands, {k: v for k, v in failed.items() if centre in k}, lost)
            )
        return star_edges(n, centre, costs)
    if layout != "mst":
        raise PlanningError(f"unknown layout {layout!r}; use 'mst' or 'star'", field="shape")
    groups = components(n, costs)
    if len(groups) > 1:
        alone = min(groups, key=len)
        raise PlanningError(
            f"cannot connect the ligands: {', '.join(repr(ligands[i].name) for i in alone)} map(s) onto "
            f"none of the others ({len(groups)} disconnected groups); mapping failures: "
            + _pair_reasons(ligands, failed, alone)
        )
    return minimal_spanning_tree(n, costs)


def _choose_edges(
    ligands: Sequence[SmallMoleculeComponent],
    index: dict[str, int],
    layout: str,
    reference: str | None,
    cycles: bool,
    edges: Sequence[tuple[str, str]] | None,
    options: MappingOptions | None,
) -> dict[tuple[int, int], AtomMapping]:
    if edges is not None:
        return _user_edges(ligands, index, edges, options)
    all_mappings, failed = score_pairs(ligands, None, options)
    for (i, j), why in failed.items():
        logger.info("no edge %s - %s: %s", ligands[i].name, ligands[j].name, why)
    costs = {pair: 1.0 - float(m.score or 0.0) for pair, m in all_mappings.items()}
    chosen = _layout_edges(ligands, index, layout, reference, costs, failed)
    if cycles:
        chosen = add_cycle_edges(len(ligands), chosen, costs)
    out = {}
    for i, j in chosen:
        key = (min(i, j), max(i, j))
        mapping = all_mappings[key]
        if (i, j) != key:  # star from a reference with a larger index: map in that direction
            mapping = map_ligands(ligands[i], ligands[j], options=options)
        out[(i, j)] = mapping
    return out


def plan_network(
    ligands: Sequence[SmallMoleculeComponent],
    *,
    name: str = "relative network",
    layout: Literal["mst", "star"] = "mst",
    reference: str | None = None,
    cycles: bool = False,
    edges: Sequence[tuple[str, str]] | None = None,
    protein: ProteinComponent | None = None,
    solvent: SolventComponent | None = None,
    settings: dict[str, Any] | None = None,
    mapping_options: MappingOptions | None = None,
) -> AlchemicalNetwork:
    """Plan a relative free energy network over ``ligands`` (see the module for the layouts).

    Parameters
    ----------
    ligands : sequence of SmallMoleculeComponent
        Two or more distinct ligands with unique names.
    name : str
        The network's name.
    layout : {"mst", "star"}
        Minimal spanning tree over mapping scores, or a star around ``reference``.
    reference : str, optional
        The star's centre (a ligand name).
    cycles : bool
        Add edges until every ligand lies on a cycle.
    edges : sequence of (str, str), optional
        User-chosen edges by ligand name, taken as they are (``layout`` and ``cycles`` ignored).
    protein : ProteinComponent, optional
        With a protein: complex and solvent legs (``relative-binding``); without: ``relative-hydration``.
    solvent : SolventComponent, optional
        The solvent (default TIP3P; 0.15 M NaCl with a protein, pure water for relative hydration).
    settings : dict, optional
        Protocol settings stored on every transformation.
    mapping_options : MappingOptions, optional
        How ligands are mapped.

    Raises
    ------
    PlanningError
        Fewer than two ligands, repeated names, an unknown reference or edge ligand, a user edge that
        cannot be mapped, or ligands that no mappable edge connects.
    """
    index = _check_names(ligands)
    chosen = _choose_edges(ligands, index, layout, reference, cycles, edges, mapping_options)
    water = solvent or (SolventComponent() if protein is not None else SolventComponent.pure_water())
    solvated = [ChemicalSystem(name=lig.name, components={LIGAND: lig, "solvent": water}) for lig in ligands]
    complexes = (
        [
            ChemicalSystem(
                name=f"{lig.name} complex", components={LIGAND: lig, "protein": protein, "solvent": water}
            )
            for lig in ligands
        ]
        if protein is not None
        else []
    )
    transformations = _transformations(ligands, chosen, solvated, complexes, settings or {})
    nodes = solvated + complexes
    return AlchemicalNetwork(name=name, nodes=tuple(nodes), edges=tuple(transformations))


def _transformations(
    ligands: Sequence[SmallMoleculeComponent],
    chosen: dict[tuple[int, int], AtomMapping],
    solvated: list[ChemicalSystem],
    complexes: list[ChemicalSystem],
    settings: dict[str, Any],
) -> list[Transformation]:
    """One ``relative-hydration`` transformation per edge, or (with complexes) two ``relative-binding``
    ones: the complex leg and the solvent leg."""
    legs = (
        [(" (complex)", complexes, "relative-binding"), (" (solvent)", solvated, "relative-binding")]
        if complexes
        else [("", solvated, "relative-hydration")]
    )
    transformations = []
    for (i, j), mapping in sorted(chosen.items()):
        for suffix, systems, protocol in legs:
            transformations.append(
                Transformation(
                    name=f"{ligands[i].name} -> {ligands[j].name}{suffix}",
                    state_a=systems[i],
                    state_b=systems[j],
                    protocol=protocol,
                    settings=settings,
                    mapping=mapping,
                )
            )
    return transformations
