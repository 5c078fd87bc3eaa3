"""What the planner did with a campaign's inputs: the ligands, the chosen edges with their mapping
scores, the cycles, the experimental values matched to ligands, and how the protein was prepared.

The one definition of a plan's report: ``fepflow plan`` writes it (``plan.json``) and prints it, the hub
returns it with a submission (:class:`~fepflow.hub.schemas.SubmitResult`), and the network picture is
drawn from it. The network itself is the :class:`~fepflow.models.network.AlchemicalNetwork`; this is
what a person reads to judge it before anything runs.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

from fepflow.models.network_results import ExperimentalValue

HistidineName = Literal["HID", "HIE", "HIP"]
Shape = Literal["mst", "star", "cycles"]
"""Network shapes the planner draws: a minimal spanning tree over mapping scores, a star around a
reference ligand, or a tree with edges added until every ligand lies on a cycle."""
SHAPES: tuple[str, ...] = get_args(Shape)


class HistidineState(BaseModel):
    """The protonation state chosen for one histidine (AMBER names)."""

    residue: str = Field(..., description="e.g. 'HIS A 31' (name, chain, number)")
    state: HistidineName = Field(..., description="HID (H on ND1), HIE (H on NE2) or HIP (both, +1)")


class ProteinPreparation(BaseModel):
    """How a protein's PDB was made ready for the force field (PDBFixer and OpenMM's Modeller)."""

    name: str
    ph: float = Field(..., description="pH at which protonation states were chosen")
    chains: list[str] = Field(default_factory=list, description="chain ids, in file order")
    n_residues: int = 0
    n_atoms: int = Field(0, description="atoms of the prepared structure, hydrogens included")
    heavy_atoms_added: list[str] = Field(
        default_factory=list, description="per residue, e.g. 'LYS A 12: CD, CE, NZ' (and terminal OXT)"
    )
    hydrogens_added: int = 0
    hydrogens_rebuilt: bool = Field(
        False, description="True when heavy atoms were added: PDBFixer then re-adds every hydrogen"
    )
    histidines: list[HistidineState] = Field(default_factory=list)
    protonation: list[str] = Field(
        default_factory=list,
        description="other residues in a state other than the usual one at pH 7 (ASH, GLH, LYN, CYX)",
    )
    missing_residues: list[str] = Field(
        default_factory=list, description="residues of the sequence (SEQRES) absent from the coordinates"
    )
    loops_built: list[str] = Field(default_factory=list, description="missing residues that were modelled")
    removed: list[str] = Field(default_factory=list, description="heterogens and waters taken out")
    replaced: list[str] = Field(default_factory=list, description="modified residues made standard")
    notes: list[str] = Field(default_factory=list)


class PlannedLigand(BaseModel):
    """One ligand of the plan."""

    name: str
    smiles: str
    net_charge: int
    heavy_atoms: int
    posed: bool = Field(False, description="True when the input gave 3-D coordinates")
    experimental: ExperimentalValue | None = None


class PlannedEdge(BaseModel):
    """One edge A -> B of a relative network, with its mapping."""

    ligand_a: str
    ligand_b: str
    score: float | None = Field(None, description="mapping score in [0, 1], higher is better")
    mapped_heavy_atoms: int = 0
    unmapped_heavy_atoms: int = Field(0, description="heavy atoms of A and B outside the mapping")
    transformations: dict[str, str] = Field(
        default_factory=dict, description="leg ('complex', 'solvent' or 'hydration') -> transformation key"
    )


class PlanReport(BaseModel):
    """Everything the planner decided, for a person to read before submitting."""

    network: str = Field(..., description="the network's key")
    name: str
    protocol: str
    shape: str = Field(..., description="mst, star, cycles, user (edges given) or absolute")
    reference: str | None = None
    preset: str | None = None
    ligands: list[PlannedLigand] = Field(default_factory=list)
    edges: list[PlannedEdge] = Field(default_factory=list)
    cycles: list[list[str]] = Field(default_factory=list, description="independent cycles, by ligand name")
    experimental: list[ExperimentalValue] = Field(default_factory=list)
    protein: ProteinPreparation | None = None
    n_transformations: int = 0
    warnings: list[str] = Field(
        default_factory=list, description="chemistry the chosen settings cannot treat (implicit solvent)"
    )
