"""The setup unit of the absolute binding protocol: ligand parameters, the complex and its restraint,
and the ligand in water.

The complex is built as the relative binding protocol builds it (ff14SB, TIP3P, ions; tleap), then
minimised and run at constant pressure for ``restraint.equilibration_ps``; the Boresch restraint is
chosen from that run (:func:`fepflow.restraints.selection.choose_restraint`) and the complex leg
starts where the run ended. Outputs go to ``<workdir>/setup/`` with a ``done.json`` marker written last.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from fepflow.chemistry import BuiltSystem
from fepflow.models.components import SmallMoleculeComponent
from fepflow.protocols.absolute.binding_settings import AbsoluteBindingSettings
from fepflow.protocols.base import RunContext
from fepflow.protocols.common.bundle import write_atomic
from fepflow.protocols.common.setup import (
    build_water_box,
    ligand_parameters,
    nanometres,
    run_once,
    save_built_leg,
    save_leg,
    water_arguments,
)
from fepflow.restraints import BoreschGeometry, numerical_release_free_energy, restraint_release_free_energy
from fepflow.restraints.selection import LigandAtoms, SelectionBounds

CANDIDATE_MARGIN_NM = 0.5
"""Cα atoms recorded during the run: those within the restraint's reach of the ligand plus this."""


def run_setup(
    run: RunContext, ligand: SmallMoleculeComponent, settings: AbsoluteBindingSettings
) -> dict[str, Any]:
    """Parameterise the ligand, build the complex and choose its restraint, build the water box,
    unless a finished setup is already on disk."""
    from fepflow.chemistry.complexes import build_complex

    state = run.transformation.state_a
    protein, solvent = state.protein, state.solvent
    assert protein is not None  # validated
    hmr = settings.simulation.hydrogen_mass_amu

    def build(folder: Path) -> dict[str, Any]:
        params = ligand_parameters(
            ligand, settings.system, cache_dir=run.cache_dir, given=run.ligand_parameters
        )
        write_atomic(folder / "ligand_parameters.json", json.dumps(params.to_dict()))
        built = build_complex(
            protein,
            params,
            ligand_coordinates_angstrom=np.asarray(ligand.conformer),
            padding_nm=settings.system.solvent_padding_nm,
            nonbonded_cutoff_nm=settings.system.nonbonded_cutoff_nm,
            hydrogen_mass_amu=hmr,
            **water_arguments(solvent),
        )
        geometry, equilibrium = _restrained_complex(built, ligand, settings, run)
        save_leg(
            folder,
            "complex",
            built.system,
            equilibrium.final_positions_nm,
            equilibrium.final_box_nm,
            ligand_atoms=list(built.ligand_atoms),
            description=built.description,
            restraint=geometry.to_dict(),
        )
        solvated = build_water_box(params, solvent, settings.system, hmr)
        save_built_leg(folder, "solvent", solvated)
        temperature = settings.thermo.temperature_K
        return {
            "ligand": ligand.name,
            "ligand_key": ligand.key,
            "protein": protein.name,
            "net_charge": params.net_charge,
            "forcefield": params.forcefield,
            "charge_method": params.charge_method,
            "parameter_provenance": params.provenance,
            "complex_leg": built.description,
            "solvent_leg": solvated.description,
            "complex_atoms": built.system.getNumParticles(),
            "solvent_atoms": solvated.system.getNumParticles(),
            "restraint": geometry.to_dict(),
            "restraint_selection_ps": equilibrium.simulated_ps,
            "restraint_correction_kcal_mol": restraint_release_free_energy(geometry, temperature),
            "restraint_correction_numerical_kcal_mol": numerical_release_free_energy(geometry, temperature),
        }

    return run_once(run.workdir, build)


def _restrained_complex(
    built: BuiltSystem, ligand: SmallMoleculeComponent, settings: AbsoluteBindingSettings, run: RunContext
) -> tuple[BoreschGeometry, Any]:
    """The equilibrium run of the complex and the restraint chosen from it."""
    from fepflow.restraints.equilibrium import run_equilibrium
    from fepflow.restraints.selection import choose_restraint

    restraint = settings.restraint
    positions = nanometres(built.positions)
    box = nanometres(built.box_vectors) if built.box_vectors is not None else None
    ligand_atoms = list(built.ligand_atoms)
    centre = positions[ligand_atoms].mean(axis=0)
    candidates, labels = [], []
    for residue in built.topology.residues():
        for atom in residue.atoms():
            near = np.linalg.norm(positions[atom.index] - centre) <= restraint.reach_nm + CANDIDATE_MARGIN_NM
            if atom.name == "CA" and atom.index not in ligand_atoms and near:
                candidates.append(atom.index)
                labels.append(f"{residue.name} {residue.id} CA")
    timestep = settings.simulation.timestep_fs
    equilibrium = run_equilibrium(
        built.system,
        positions,
        box,
        candidates + ligand_atoms,
        temperature_K=settings.thermo.temperature_K,
        pressure_bar=settings.thermo.pressure_bar,
        timestep_fs=timestep,
        n_steps=max(restraint.frames, round(restraint.equilibration_ps * 1000.0 / timestep)),
        n_frames=restraint.frames,
        platform=run.platform,
        minimize_max_iterations=settings.simulation.minimize_max_iterations,
    )
    molecule = ligand.to_rdkit()
    atoms = list(molecule.GetAtoms())
    ligand_info = LigandAtoms(
        indices=ligand_atoms,
        names=[f"{ligand.name} {a.GetSymbol()}{a.GetIdx() + 1}" for a in atoms],
        heavy=[a.GetAtomicNum() > 1 for a in atoms],
        in_ring=[a.IsInRing() for a in atoms],
    )
    bounds = SelectionBounds(reach_nm=restraint.reach_nm, min_angle_deg=restraint.min_angle_deg)
    n = len(candidates)
    geometry = choose_restraint(
        equilibrium.frames_nm[:, :n],
        equilibrium.frames_nm[:, n:],
        candidates,
        labels,
        ligand_info,
        bounds,
        settings.thermo.temperature_K,
    )
    return geometry, equilibrium
