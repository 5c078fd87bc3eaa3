"""The setup unit of the relative protocols: both ligands' parameters and one hybrid per leg.

Ligand A is built in each leg's environment (a water box, vacuum, or the protein complex); ligand B
in vacuum only: the hybrid takes A's environment and B's parameters (:func:`fepflow.hybrid.build_hybrid`).
The complex places ligand A where its component's conformer puts it (the protein's frame). Outputs go
to ``<workdir>/setup/`` with a ``done.json`` marker written last, as in every protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from fepflow.chemistry import BuiltSystem, LigandParameters, build_vacuum
from fepflow.hybrid import build_hybrid, default_windows, hybrid_positions, schedule
from fepflow.models.components import ProteinComponent, SmallMoleculeComponent, SolventComponent
from fepflow.models.transformations import AtomMapping
from fepflow.protocols.base import RunContext
from fepflow.protocols.common.setup import (
    build_water_box,
    ligand_parameters,
    nanometres,
    run_once,
    save_leg,
    water_arguments,
)
from fepflow.protocols.relative.settings import RelativeSettings

Environment = Literal["water", "vacuum", "complex"]
"""Where a leg puts ligand A (and with it the hybrid)."""


def n_unique_heavy(
    ligand_a: SmallMoleculeComponent, ligand_b: SmallMoleculeComponent, mapping: AtomMapping
) -> int:
    """Heavy atoms of either ligand that the mapping leaves unmapped."""
    mapped_a = {a for a, _ in mapping.pairs}
    mapped_b = {b for _, b in mapping.pairs}
    count = 0
    for mol, mapped in ((ligand_a.to_rdkit(), mapped_a), (ligand_b.to_rdkit(), mapped_b)):
        count += sum(1 for atom in mol.GetAtoms() if atom.GetAtomicNum() > 1 and atom.GetIdx() not in mapped)
    return count


def run_setup(
    run: RunContext,
    ligands: tuple[SmallMoleculeComponent, SmallMoleculeComponent],
    environments: Mapping[str, Environment],
    settings: RelativeSettings,
) -> dict[str, Any]:
    """Parameterise both ligands and build the hybrid of each leg (leg name -> environment; the
    protein and solvent are state A's), unless a finished setup is on disk."""
    ligand_a, ligand_b = ligands
    mapping, state = run.transformation.mapping, run.transformation.state_a
    assert mapping is not None  # validated

    def build(folder: Path) -> dict[str, Any]:
        params_a, params_b = (
            ligand_parameters(mol, settings.system, cache_dir=run.cache_dir, given=run.ligand_parameters)
            for mol in ligands
        )
        hmr = settings.simulation.hydrogen_mass_amu
        vacuum_b = build_vacuum(params_b, hydrogen_mass_amu=hmr)
        legs = {}
        for leg, environment in environments.items():
            built = _build_environment(
                environment, ligand_a, params_a, settings, state.protein, state.solvent
            )
            description = f"hybrid {ligand_a.name} -> {ligand_b.name}: {built.description}"
            _save_hybrid(folder, leg, built, vacuum_b, mapping, settings.lambdas.softcore_alpha, description)
            legs[leg] = {
                "environment": environment,
                "description": built.description,
                "atoms": built.system.getNumParticles(),
            }
        windows = settings.lambdas.windows or default_windows(n_unique_heavy(ligand_a, ligand_b, mapping))
        return {
            "ligand_a": ligand_a.name,
            "ligand_b": ligand_b.name,
            "ligand_a_key": ligand_a.key,
            "ligand_b_key": ligand_b.key,
            "mapping_pairs": len(mapping.pairs),
            "mapping_score": mapping.score,
            "lambdas": schedule(windows),
            "n_windows": windows,
            "forcefield": params_a.forcefield,
            "charge_method": params_a.charge_method,
            "parameter_provenance": [params_a.provenance, params_b.provenance],
            "legs": legs,
        }

    return run_once(run.workdir, build)


def _build_environment(
    environment: Environment,
    ligand_a: SmallMoleculeComponent,
    params_a: LigandParameters,
    settings: RelativeSettings,
    protein: ProteinComponent | None,
    solvent: SolventComponent | None,
) -> BuiltSystem:
    """Ligand A in the leg's environment."""
    hmr = settings.simulation.hydrogen_mass_amu
    if environment == "vacuum":
        return build_vacuum(params_a, hydrogen_mass_amu=hmr)
    if environment == "water":
        return build_water_box(params_a, solvent, settings.system, hmr)
    from fepflow.chemistry.complexes import build_complex

    if protein is None:
        raise ValueError("a complex leg needs a protein")
    posed = np.asarray(ligand_a.conformer) if ligand_a.conformer is not None else None
    return build_complex(
        protein,
        params_a,
        ligand_coordinates_angstrom=posed,
        padding_nm=settings.system.solvent_padding_nm,
        nonbonded_cutoff_nm=settings.system.nonbonded_cutoff_nm,
        hydrogen_mass_amu=hmr,
        **water_arguments(solvent),
    )


def _save_hybrid(
    folder: Path,
    leg: str,
    built: BuiltSystem,
    vacuum_b: BuiltSystem,
    mapping: AtomMapping,
    softcore_alpha: float,
    description: str,
) -> None:
    """The hybrid of ``built`` (ligand A in its environment) with ligand B, saved as leg ``leg``."""
    hybrid = build_hybrid(
        built.system, built.ligand_atoms, vacuum_b.system, mapping.pairs, softcore_alpha=softcore_alpha
    )
    atoms = hybrid.atoms
    save_leg(
        folder,
        leg,
        hybrid.system,
        hybrid_positions(nanometres(built.positions), nanometres(vacuum_b.positions), atoms),
        nanometres(built.box_vectors) if built.box_vectors is not None else None,
        ligand_atoms=sorted(atoms.ligand),
        description=description,
        n_core=len(atoms.core),
        n_unique_a=len(atoms.unique_a),
        n_unique_b=len(atoms.unique_b),
        dispersion_coefficients_kj_mol_nm3=hybrid.dispersion_coefficients,
        dummy_groups=[group.summary() for group in hybrid.dummy_groups],
    )
