"""The setup unit of the hydration protocol: ligand parameters and the two legs' OpenMM systems.

Its outputs are written to ``<workdir>/setup/`` (serialised Systems, positions, box vectors and a
record of what was built) and a ``done.json`` marker written last, so a resumed task reuses a
finished setup and redoes an interrupted one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fepflow.chemistry import (
    BuiltSystem,
    LigandParameters,
    build_implicit,
    build_solvated,
    build_vacuum,
    parameterize_ligand,
)
from fepflow.models.components import SmallMoleculeComponent, SolventComponent
from fepflow.protocols.absolute.settings import AbsoluteHydrationSettings

LEGS = ("solvent", "vacuum")


@dataclass
class Leg:
    """One leg's system, ready to be made alchemical."""

    name: str
    system: Any  # openmm.System
    positions_nm: np.ndarray
    box_vectors_nm: np.ndarray | None
    ligand_atoms: list[int]
    periodic: bool
    description: str


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _save_leg(folder: Path, name: str, built: BuiltSystem) -> None:
    import openmm
    from openmm import unit

    _write_atomic(folder / f"{name}_system.xml", openmm.XmlSerializer.serialize(built.system))
    positions = np.asarray(built.positions.value_in_unit(unit.nanometer), dtype=float)
    np.save(folder / f"{name}_positions.npy", positions)
    box = None
    if built.box_vectors is not None:
        box = np.asarray(built.box_vectors.value_in_unit(unit.nanometer), dtype=float)
        np.save(folder / f"{name}_box.npy", box)
    meta = {
        "ligand_atoms": list(built.ligand_atoms),
        "periodic": box is not None,
        "n_atoms": built.system.getNumParticles(),
        "description": built.description,
    }
    _write_atomic(folder / f"{name}.json", json.dumps(meta, indent=1))


def load_leg(folder: Path, name: str) -> Leg:
    import openmm

    meta = json.loads((folder / f"{name}.json").read_text())
    system = openmm.XmlSerializer.deserialize((folder / f"{name}_system.xml").read_text())
    box_path = folder / f"{name}_box.npy"
    return Leg(
        name=name,
        system=system,
        positions_nm=np.load(folder / f"{name}_positions.npy"),
        box_vectors_nm=np.load(box_path) if box_path.exists() else None,
        ligand_atoms=list(meta["ligand_atoms"]),
        periodic=bool(meta["periodic"]),
        description=str(meta["description"]),
    )


def run_setup(
    ligand: SmallMoleculeComponent,
    solvent: SolventComponent | None,
    settings: AbsoluteHydrationSettings,
    workdir: Path,
    *,
    cache_dir: Path | None = None,
    ligand_parameters: LigandParameters | None = None,
) -> dict[str, Any]:
    """Parameterise the ligand and build both legs, unless a finished setup is already on disk."""
    folder = workdir / "setup"
    marker = folder / "done.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    folder.mkdir(parents=True, exist_ok=True)
    system_settings, simulation = settings.system, settings.simulation
    params = ligand_parameters or parameterize_ligand(
        ligand,
        forcefield=system_settings.forcefield,
        charge_method=system_settings.charge_method,
        cache_dir=cache_dir,
    )
    _write_atomic(folder / "ligand_parameters.json", json.dumps(params.to_dict()))
    hmr = simulation.hydrogen_mass_amu
    if system_settings.solvent_model == "obc2":
        solvated = build_implicit(params, hydrogen_mass_amu=hmr, solvent="obc2")
    else:
        water = solvent or SolventComponent()
        solvated = build_solvated(
            params,
            padding_nm=system_settings.solvent_padding_nm,
            water_model=water.water_model,
            ion_concentration_molar=water.ion_concentration_molar,
            neutralize=water.neutralize,
            positive_ion=water.positive_ion,
            negative_ion=water.negative_ion,
            nonbonded_cutoff_nm=system_settings.nonbonded_cutoff_nm,
            hydrogen_mass_amu=hmr,
        )
    vacuum = build_vacuum(params, hydrogen_mass_amu=hmr)
    _save_leg(folder, "solvent", solvated)
    _save_leg(folder, "vacuum", vacuum)
    record = {
        "ligand": ligand.name,
        "ligand_key": ligand.key,
        "net_charge": params.net_charge,
        "forcefield": params.forcefield,
        "charge_method": params.charge_method,
        "parameter_provenance": params.provenance,
        "solvent_leg": solvated.description,
        "vacuum_leg": vacuum.description,
        "solvent_atoms": solvated.system.getNumParticles(),
        "implicit_solvent": system_settings.solvent_model == "obc2",
    }
    _write_atomic(marker, json.dumps(record, indent=1))
    return record
