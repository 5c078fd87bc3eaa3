"""The one planner of a campaign: from the files a chemist has to a network, checked before anything runs.

``fepflow plan`` calls it on local files; ``fepflow submit`` sends the same inputs to the hub, whose
planner body calls it too (``api/submission.py``), so a plan seen locally is the network the hub
files. Inputs (:class:`CampaignRequest`): ligands (SDF text, or SMILES with names), a protocol
(``relative-binding``, ``relative-hydration``, ``absolute-hydration`` or ``absolute-binding``), for binding the protein's
PDB text (prepared explicitly, :mod:`fepflow.chemistry.protein_prep`), a network shape (``mst``,
``star`` around a reference, ``cycles`` putting every ligand on a cycle, or user edges), a preset
with settings and repeats, and optionally measured free energies.

Bad input is refused with a :class:`~fepflow.planning.errors.PlanningError` naming what is wrong and,
in ``field``, the input (as the hub's submission body calls it): a protein that cannot be prepared
(the residue), ligands that do not map (the pair), a ligand the chosen edges leave disconnected,
ligands of different net charges, unposed or misplaced ligands for binding, experimental values whose
names match no ligand, a star without a reference or with an unknown one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fepflow.chemistry.protein_prep import (
    DEFAULT_PH,
    PreparedProtein,
    ProteinPreparationError,
    prepare_protein,
)
from fepflow.models.base import ModelError
from fepflow.models.components import ProteinComponent, SmallMoleculeComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import ExperimentalValue
from fepflow.models.plans import SHAPES, PlanReport
from fepflow.models.protocol_registry import protocol_class
from fepflow.planning.absolute import ABSOLUTE_PROTOCOLS, absolute_network
from fepflow.planning.absolute import BINDING_PROTOCOLS as ABSOLUTE_BINDING
from fepflow.planning.errors import PlanningError
from fepflow.planning.graphs import components
from fepflow.planning.readers import LigandInput, ligands_from_sdf, ligands_from_smiles
from fepflow.planning.relative import plan_network
from fepflow.planning.report import ligand_pairs, plan_report
from fepflow.planning.settings import protocol_settings

RELATIVE_PROTOCOLS = ("relative-binding", "relative-hydration")
PROTEIN_PROTOCOLS = ("relative-binding", *ABSOLUTE_BINDING)
"""The protocols that take a protein (and posed ligands)."""
PROTOCOLS = (*RELATIVE_PROTOCOLS, *ABSOLUTE_PROTOCOLS)
MAX_POSE_DISTANCE_A = 6.0
"""A posed ligand's centre lies within this distance of some protein atom (Å)."""


@dataclass(frozen=True)
class CampaignRequest:
    """What a chemist brings. Exactly one of ``sdf`` and ``smiles`` gives the ligands."""

    protocol: str = "relative-binding"
    sdf: str | None = None
    smiles: Sequence[LigandInput] | None = None
    protein_pdb: str | None = None
    protein_name: str | None = None
    shape: str | None = None
    reference: str | None = None
    edges: Sequence[tuple[str, str]] | None = None
    experimental: Sequence[ExperimentalValue] | None = None
    preset: str | None = None
    settings: dict[str, Any] | None = None
    repeats: int | None = None
    ph: float = DEFAULT_PH
    build_loops: bool = False
    name: str | None = None


@dataclass(frozen=True)
class CampaignPlan:
    """The planned network, what the planner decided (the report), and the prepared protein's PDB."""

    network: AlchemicalNetwork
    report: PlanReport
    ligands: tuple[SmallMoleculeComponent, ...]
    protein_pdb: str | None = None

    @property
    def experimental(self) -> list[ExperimentalValue]:
        return list(self.report.experimental)


def plan_campaign(request: CampaignRequest) -> CampaignPlan:
    """Plan ``request``: the cheap checks first, then the protein, then the mappings.

    Raises
    ------
    PlanningError
        Any input that cannot be used (see the module); ``field`` names the input.
    """
    if request.protocol not in PROTOCOLS:
        raise PlanningError(
            f"unknown protocol {request.protocol!r}; the planner takes {', '.join(PROTOCOLS)}",
            field="protocol",
        )
    ligands = campaign_ligands(request)
    names = [lig.name for lig in ligands]
    experimental = match_experimental(request.experimental or [], names)
    settings = _settings(request)
    prepared: PreparedProtein | None = None
    if request.protocol in ABSOLUTE_PROTOCOLS:
        _only_relative_options(request)
        name = request.name or f"{request.protocol} of {len(ligands)} molecules"
        prepared = _protein(request, ligands)
        protein = _protein_component(request, prepared)
        network = absolute_network(
            ligands, name=name, protocol=request.protocol, settings=settings, protein=protein
        )
        if protein is not None:
            check_transformations(network)
        shape = "absolute"
    else:
        shape = _shape(request)
        check_charges(ligands)
        prepared = _protein(request, ligands)
        network = _relative_network(request, ligands, shape, settings, prepared)
    report = plan_report(
        network,
        ligands,
        shape=shape,
        reference=request.reference,
        preset=request.preset,
        experimental=experimental,
        protein=prepared.report if prepared else None,
    )
    return CampaignPlan(
        network=network,
        report=report,
        ligands=tuple(ligands),
        protein_pdb=prepared.pdb if prepared else None,
    )


def campaign_ligands(request: CampaignRequest) -> list[SmallMoleculeComponent]:
    """The request's ligands, from its SDF or its SMILES (an error names the molecule)."""
    if (request.sdf is None) == (request.smiles is None):
        raise PlanningError("give the ligands once: as SDF text or as SMILES", field="ligands")
    if request.sdf is not None:
        try:
            return ligands_from_sdf(request.sdf)
        except PlanningError as exc:
            exc.field = "sdf"
            raise
    return ligands_from_smiles(list(request.smiles or []))


def match_experimental(values: Sequence[ExperimentalValue], names: Sequence[str]) -> list[ExperimentalValue]:
    """``values`` in the ligands' order; a value whose name matches no ligand is an error naming it."""
    unknown = [v.ligand for v in values if v.ligand not in names]
    if unknown:
        raise PlanningError(
            f"experimental values for {', '.join(repr(u) for u in unknown)} match no ligand "
            f"(the ligands are {', '.join(repr(n) for n in names)}); names must match exactly",
            field="experimental",
        )
    by_name = {v.ligand: v for v in values}
    if len(by_name) != len(values):
        raise PlanningError("a ligand has two experimental values", field="experimental")
    return [by_name[n] for n in names if n in by_name]


def network_ligand_names(network: AlchemicalNetwork) -> list[str]:
    """The names of a network's ligands (its small molecules), each once, in node order."""
    seen: dict[str, None] = {}
    for system in network.nodes:
        for component in system.components.values():
            if isinstance(component, SmallMoleculeComponent):
                seen.setdefault(component.name, None)
    return list(seen)


def check_charges(ligands: Sequence[SmallMoleculeComponent]) -> None:
    """Refuse ligands of different net charges (a relative transformation would change the charge)."""
    charges = {lig.name: lig.formal_charge for lig in ligands}
    if len(set(charges.values())) > 1:
        listed = ", ".join(f"{n} {q:+d}" for n, q in charges.items())
        raise PlanningError(
            f"the ligands have different net charges ({listed}): a relative transformation between "
            "them would change the net charge, which fepflow does not support yet (it needs an "
            "alchemical counter-ion or a finite-size correction); plan each charge as its own network",
            field="ligands",
        )


def _settings(request: CampaignRequest) -> dict[str, Any]:
    overrides = dict(request.settings or {})
    if request.repeats is not None:
        overrides["repeats"] = request.repeats
    try:
        return protocol_settings(request.protocol, request.preset, overrides)
    except ModelError as exc:
        raise PlanningError(str(exc), field="preset" if request.preset else "settings") from None


def _only_relative_options(request: CampaignRequest) -> None:
    given = [
        flag
        for flag, value in (
            ("protein", None if request.protocol in ABSOLUTE_BINDING else request.protein_pdb),
            ("shape", request.shape),
            ("reference", request.reference),
            ("edges", request.edges),
        )
        if value is not None
    ]
    if given:
        raise PlanningError(
            f"{request.protocol} plans one transformation per ligand and takes no "
            f"{'' if request.protocol in ABSOLUTE_BINDING else 'protein, '}shape, "
            f"reference or edges (given: {', '.join(given)}); use {' or '.join(RELATIVE_PROTOCOLS)} "
            "for a network of ligand pairs",
            field="protocol",
        )


def _shape(request: CampaignRequest) -> str:
    if request.edges is not None:
        if request.shape not in (None, "user"):
            raise PlanningError(f"give either a shape ({request.shape!r}) or edges, not both", field="shape")
        if request.reference is not None:
            raise PlanningError("a reference is for the star shape, not for user edges", field="reference")
        return "user"
    shape = request.shape or "mst"
    if shape not in SHAPES:
        raise PlanningError(f"unknown shape {shape!r}; use {', '.join(SHAPES)} or edges", field="shape")
    if request.reference is not None and shape != "star":
        raise PlanningError(f"a reference is for the star shape, not for {shape!r}", field="reference")
    return shape


def _protein(request: CampaignRequest, ligands: Sequence[SmallMoleculeComponent]) -> PreparedProtein | None:
    binding = request.protocol in PROTEIN_PROTOCOLS
    if not binding:
        if request.protein_pdb is not None:
            raise PlanningError(
                f"{request.protocol} takes no protein; use {' or '.join(PROTEIN_PROTOCOLS)} for binding "
                "free energies",
                field="protein_pdb",
            )
        return None
    if not request.protein_pdb:
        raise PlanningError(f"{request.protocol} needs the protein (a PDB)", field="protein_pdb")
    unposed = [lig.name for lig in ligands if lig.conformer is None]
    if unposed:
        raise PlanningError(
            f"{request.protocol} needs every ligand posed in the binding site (an SDF with 3-D "
            f"coordinates in the protein's frame); without coordinates: {', '.join(unposed)}",
            field="sdf",
        )
    try:
        prepared = prepare_protein(
            request.protein_pdb, name=_protein_name(request), ph=request.ph, build_loops=request.build_loops
        )
    except ProteinPreparationError as exc:
        raise PlanningError(f"the protein cannot be prepared: {exc}", field="protein_pdb") from None
    _check_poses(ligands, prepared.pdb)
    return prepared


def _protein_component(request: CampaignRequest, prepared: PreparedProtein | None) -> ProteinComponent | None:
    return ProteinComponent.from_pdb(prepared.pdb, _protein_name(request)) if prepared is not None else None


def check_transformations(network: AlchemicalNetwork) -> None:
    """Each transformation as its protocol validates it before a task runs (charged ligands, poses
    outside the pocket, no receptor atoms within a restraint's reach): refused now, naming them all."""
    problems = []
    for transformation in network.edges:
        try:
            protocol_class(transformation.protocol).for_transformation(transformation).validate(
                transformation
            )
        except ModelError as exc:
            problems.append(str(exc))
    if problems:
        raise PlanningError("; ".join(problems), field="sdf")


def _protein_name(request: CampaignRequest) -> str:
    return request.protein_name or "protein"


def _check_poses(ligands: Sequence[SmallMoleculeComponent], pdb: str) -> None:
    atoms = np.array(
        [
            [float(line[30:38]), float(line[38:46]), float(line[46:54])]
            for line in pdb.splitlines()
            if line.startswith(("ATOM", "HETATM"))
        ]
    )
    far = []
    for lig in ligands:
        centre = np.asarray(lig.conformer, dtype=float).mean(axis=0)
        nearest = float(np.linalg.norm(atoms - centre, axis=1).min())
        if nearest > MAX_POSE_DISTANCE_A:
            far.append(f"{lig.name} ({nearest:.1f} Å)")
    if far:
        raise PlanningError(
            f"ligands lie away from the protein, their centre farther than {MAX_POSE_DISTANCE_A} Å from "
            f"any protein atom: {', '.join(far)}; are they posed in this structure's frame?",
            field="sdf",
        )


def _relative_network(
    request: CampaignRequest,
    ligands: Sequence[SmallMoleculeComponent],
    shape: str,
    settings: dict[str, Any],
    prepared: PreparedProtein | None,
) -> AlchemicalNetwork:
    protein = _protein_component(request, prepared)
    network = plan_network(
        ligands,
        name=request.name or f"{request.protocol} of {len(ligands)} ligands",
        layout="star" if shape == "star" else "mst",
        reference=request.reference,
        cycles=shape == "cycles",
        edges=request.edges,
        protein=protein,
        settings=settings,
    )
    _check_connected(ligands, network)
    return network


def _check_connected(ligands: Sequence[SmallMoleculeComponent], network: AlchemicalNetwork) -> None:
    index = {lig.name: i for i, lig in enumerate(ligands)}
    groups = components(len(ligands), [(index[a], index[b]) for a, b in ligand_pairs(network)])
    if len(groups) > 1:
        named = [[ligands[i].name for i in g] for g in groups]
        raise PlanningError(
            f"the edges leave the ligands in {len(groups)} disconnected groups {named}: a ligand with "
            "no path of edges to the others gets no relative free energy (add an edge joining them)",
            field="edges",
        )
