"""The setup unit of the relative hydration protocol: both ligands' parameters and the two hybrid legs.

Ligand A is built in its water box (and in vacuum); ligand B in vacuum only: the hybrid takes A's
environment and B's parameters (:func:`fepflow.hybrid.build_hybrid`). Outputs go to
``<workdir>/setup/`` with a ``done.json`` marker written last, as in the absolute protocol.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from openmm import unit

from fepflow.chemistry import LigandParameters, build_solvated, build_vacuum, parameterize_ligand
from fepflow.hybrid import build_hybrid, default_windows, hybrid_positions, schedule
from fepflow.models.components import SmallMoleculeComponent, SolventComponent
from fepflow.models.transformations import AtomMapping
from fepflow.protocols.absolute.setup import Leg, _write_atomic
from fepflow.protocols.relative.settings import RelativeSettings


def _params(
    ligand: SmallMoleculeComponent,
    settings: RelativeSettings,
    cache_dir: Path | None,
    given: dict[str, LigandParameters] | None,
) -> LigandParameters:
    if given and ligand.name in given:
        return given[ligand.name]
    return parameterize_ligand(
        ligand,
        forcefield=settings.system.forcefield,
        charge_method=settings.system.charge_method,
        cache_dir=cache_dir,
    )


def _save(
    folder: Path, name: str, hybrid: Any, positions: np.ndarray, box: np.ndarray | None, meta: dict
) -> None:
    import openmm

    _write_atomic(folder / f"{name}_system.xml", openmm.XmlSerializer.serialize(hybrid.system))
    np.save(folder / f"{name}_positions.npy", positions)
    if box is not None:
        np.save(folder / f"{name}_box.npy", box)
    atoms = hybrid.atoms
    record = {
        **meta,
        "ligand_atoms": sorted(atoms.ligand),
        "periodic": box is not None,
        "n_atoms": hybrid.system.getNumParticles(),
        "n_core": len(atoms.core),
        "n_unique_a": len(atoms.unique_a),
        "n_unique_b": len(atoms.unique_b),
        "dispersion_coefficients_kj_mol_nm3": hybrid.dispersion_coefficients,
    }
    _write_atomic(folder / f"{name}.json", json.dumps(record, indent=1))


def load_leg(folder: Path, name: str) -> tuple[Leg, dict[str, Any]]:
    """The leg's hybrid System and positions, and its record."""
    import openmm

    meta = json.loads((folder / f"{name}.json").read_text())
    box_path = folder / f"{name}_box.npy"
    leg = Leg(
        name=name,
        system=openmm.XmlSerializer.deserialize((folder / f"{name}_system.xml").read_text()),
        positions_nm=np.load(folder / f"{name}_positions.npy"),
        box_vectors_nm=np.load(box_path) if box_path.exists() else None,
        ligand_atoms=list(meta["ligand_atoms"]),
        periodic=bool(meta["periodic"]),
        description=str(meta["description"]),
    )
    return leg, meta


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
    ligand_a: SmallMoleculeComponent,
    ligand_b: SmallMoleculeComponent,
    mapping: AtomMapping,
    solvent: SolventComponent | None,
    settings: RelativeSettings,
    workdir: Path,
    *,
    cache_dir: Path | None = None,
    ligand_parameters: dict[str, LigandParameters] | None = None,
) -> dict[str, Any]:
    """Parameterise both ligands and build both hybrid legs, unless a finished setup is on disk."""
    folder = workdir / "setup"
    marker = folder / "done.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    folder.mkdir(parents=True, exist_ok=True)
    params_a = _params(ligand_a, settings, cache_dir, ligand_parameters)
    params_b = _params(ligand_b, settings, cache_dir, ligand_parameters)
    hmr = settings.simulation.hydrogen_mass_amu
    water = solvent or SolventComponent()
    solvated = build_solvated(
        params_a,
        padding_nm=settings.system.solvent_padding_nm,
        water_model=water.water_model,
        ion_concentration_molar=water.ion_concentration_molar,
        neutralize=water.neutralize,
        positive_ion=water.positive_ion,
        negative_ion=water.negative_ion,
        nonbonded_cutoff_nm=settings.system.nonbonded_cutoff_nm,
        hydrogen_mass_amu=hmr,
    )
    vacuum_a = build_vacuum(params_a, hydrogen_mass_amu=hmr)
    vacuum_b = build_vacuum(params_b, hydrogen_mass_amu=hmr)
    pos_b = np.asarray(vacuum_b.positions.value_in_unit(unit.nanometer), dtype=float)
    windows = settings.lambdas.windows or default_windows(n_unique_heavy(ligand_a, ligand_b, mapping))
    lambdas = schedule(windows)
    for name, built in (("solvent", solvated), ("vacuum", vacuum_a)):
        hybrid = build_hybrid(
            built.system,
            built.ligand_atoms,
            vacuum_b.system,
            mapping.pairs,
            softcore_alpha=settings.lambdas.softcore_alpha,
        )
        pos_a = np.asarray(built.positions.value_in_unit(unit.nanometer), dtype=float)
        box = None
        if built.box_vectors is not None:
            box = np.asarray(built.box_vectors.value_in_unit(unit.nanometer), dtype=float)
        description = f"hybrid {ligand_a.name} -> {ligand_b.name}: {built.description}"
        _save(
            folder,
            name,
            hybrid,
            hybrid_positions(pos_a, pos_b, hybrid.atoms),
            box,
            {"description": description},
        )
    record = {
        "ligand_a": ligand_a.name,
        "ligand_b": ligand_b.name,
        "ligand_a_key": ligand_a.key,
        "ligand_b_key": ligand_b.key,
        "mapping_pairs": len(mapping.pairs),
        "mapping_score": mapping.score,
        "lambdas": lambdas,
        "n_windows": windows,
        "forcefield": params_a.forcefield,
        "charge_method": params_a.charge_method,
        "parameter_provenance": [params_a.provenance, params_b.provenance],
        "solvent_leg": solvated.description,
        "solvent_atoms": solvated.system.getNumParticles(),
    }
    _write_atomic(marker, json.dumps(record, indent=1))
    return record


def run_binding_setup(
    ligand_a: SmallMoleculeComponent,
    ligand_b: SmallMoleculeComponent,
    mapping: AtomMapping,
    protein: Any,
    solvent: SolventComponent | None,
    settings: RelativeSettings,
    workdir: Path,
    *,
    cache_dir: Path | None = None,
    ligand_parameters: dict[str, LigandParameters] | None = None,
) -> dict[str, Any]:
    """One leg of a relative binding edge: the hybrid in the complex (``protein`` given) or in water.

    The complex leg places ligand A where its component's conformer puts it (the protein's frame).
    """
    from fepflow.chemistry.complexes import build_complex

    folder = workdir / "setup"
    marker = folder / "done.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    folder.mkdir(parents=True, exist_ok=True)
    params_a = _params(ligand_a, settings, cache_dir, ligand_parameters)
    params_b = _params(ligand_b, settings, cache_dir, ligand_parameters)
    hmr = settings.simulation.hydrogen_mass_amu
    water = solvent or SolventComponent()
    leg_name = "complex" if protein is not None else "solvent"
    if protein is not None:
        built = build_complex(
            protein,
            params_a,
            ligand_coordinates_angstrom=np.asarray(ligand_a.conformer)
            if ligand_a.conformer is not None
            else None,
            padding_nm=settings.system.solvent_padding_nm,
            water_model=water.water_model,
            ion_concentration_molar=water.ion_concentration_molar,
            positive_ion=water.positive_ion,
            negative_ion=water.negative_ion,
            nonbonded_cutoff_nm=settings.system.nonbonded_cutoff_nm,
            hydrogen_mass_amu=hmr,
        )
    else:
        built = build_solvated(
            params_a,
            padding_nm=settings.system.solvent_padding_nm,
            water_model=water.water_model,
            ion_concentration_molar=water.ion_concentration_molar,
            neutralize=water.neutralize,
            positive_ion=water.positive_ion,
            negative_ion=water.negative_ion,
            nonbonded_cutoff_nm=settings.system.nonbonded_cutoff_nm,
            hydrogen_mass_amu=hmr,
        )
    vacuum_b = build_vacuum(params_b, hydrogen_mass_amu=hmr)
    pos_b = np.asarray(vacuum_b.positions.value_in_unit(unit.nanometer), dtype=float)
    windows = settings.lambdas.windows or default_windows(n_unique_heavy(ligand_a, ligand_b, mapping))
    hybrid = build_hybrid(
        built.system,
        built.ligand_atoms,
        vacuum_b.system,
        mapping.pairs,
        softcore_alpha=settings.lambdas.softcore_alpha,
    )
    pos_a = np.asarray(built.positions.value_in_unit(unit.nanometer), dtype=float)
    box = np.asarray(built.box_vectors.value_in_unit(unit.nanometer), dtype=float)
    description = f"hybrid {ligand_a.name} -> {ligand_b.name}: {built.description}"
    _save(
        folder,
        leg_name,
        hybrid,
        hybrid_positions(pos_a, pos_b, hybrid.atoms),
        box,
        {"description": description},
    )
    record = {
        "leg": leg_name,
        "ligand_a": ligand_a.name,
        "ligand_b": ligand_b.name,
        "mapping_pairs": len(mapping.pairs),
        "mapping_score": mapping.score,
        "lambdas": schedule(windows),
        "n_windows": windows,
        "parameter_provenance": [params_a.provenance, params_b.provenance],
        f"{leg_name}_leg": built.description,
        f"{leg_name}_atoms": built.system.getNumParticles(),
    }
    _write_atomic(marker, json.dumps(record, indent=1))
    return record
