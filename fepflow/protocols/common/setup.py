"""What the setup units share: a finished setup is reused, legs are saved and loaded, ligands are
parameterised and put in water boxes.

A setup writes to ``<workdir>/setup/`` (serialised Systems, positions, box vectors and a record per
leg) and a ``done.json`` marker last, holding the setup's record: a resumed task reuses a finished
setup and redoes an interrupted one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fepflow.chemistry import BuiltSystem, LigandParameters, build_solvated, parameterize_ligand
from fepflow.models.components import SmallMoleculeComponent, SolventComponent
from fepflow.protocols.common.bundle import write_atomic
from fepflow.protocols.common.settings import SystemSettings

SETUP_FOLDER = "setup"
MARKER = "done.json"


@dataclass
class Leg:
    """One leg's system as saved by the setup, ready to be made alchemical (or already hybrid)."""

    name: str
    system: Any  # openmm.System
    positions_nm: np.ndarray
    box_vectors_nm: np.ndarray | None
    ligand_atoms: list[int]
    periodic: bool
    description: str
    record: dict[str, Any] = field(default_factory=dict)
    """Everything saved with the leg (protocols add their own entries)."""

    def positions(self) -> Any:
        """Positions as an OpenMM quantity."""
        from openmm import unit

        return self.positions_nm * unit.nanometer

    def box_vectors(self) -> Any:
        """Box vectors as an OpenMM quantity, None without a box."""
        from openmm import unit

        return self.box_vectors_nm * unit.nanometer if self.box_vectors_nm is not None else None


def run_once(workdir: Path, build: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    """The record of a finished setup in ``workdir``, or ``build(folder)``'s once it is written."""
    folder = workdir / SETUP_FOLDER
    marker = folder / MARKER
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    folder.mkdir(parents=True, exist_ok=True)
    record = build(folder)
    write_atomic(marker, json.dumps(record, indent=1))
    return record


def nanometres(quantity: Any) -> np.ndarray:
    """An OpenMM length quantity (positions, box vectors) as a float array in nm."""
    from openmm import unit

    return np.asarray(quantity.value_in_unit(unit.nanometer), dtype=float)


def save_leg(
    folder: Path,
    name: str,
    system: Any,
    positions_nm: np.ndarray,
    box_vectors_nm: np.ndarray | None,
    *,
    ligand_atoms: list[int],
    description: str,
    **extra: Any,
) -> None:
    """Save one leg: its System, positions, box and record (``extra`` joins the record)."""
    import openmm

    write_atomic(folder / f"{name}_system.xml", openmm.XmlSerializer.serialize(system))
    np.save(folder / f"{name}_positions.npy", positions_nm)
    if box_vectors_nm is not None:
        np.save(folder / f"{name}_box.npy", box_vectors_nm)
    record = {
        **extra,
        "ligand_atoms": list(ligand_atoms),
        "periodic": box_vectors_nm is not None,
        "n_atoms": system.getNumParticles(),
        "description": description,
    }
    write_atomic(folder / f"{name}.json", json.dumps(record, indent=1))


def save_built_leg(folder: Path, name: str, built: BuiltSystem) -> None:
    """Save a leg as the chemistry built it."""
    box = nanometres(built.box_vectors) if built.box_vectors is not None else None
    save_leg(
        folder,
        name,
        built.system,
        nanometres(built.positions),
        box,
        ligand_atoms=list(built.ligand_atoms),
        description=built.description,
    )


def load_leg(folder: Path, name: str) -> Leg:
    """A leg saved by :func:`save_leg`."""
    import openmm

    record = json.loads((folder / f"{name}.json").read_text())
    box_path = folder / f"{name}_box.npy"
    return Leg(
        name=name,
        system=openmm.XmlSerializer.deserialize((folder / f"{name}_system.xml").read_text()),
        positions_nm=np.load(folder / f"{name}_positions.npy"),
        box_vectors_nm=np.load(box_path) if box_path.exists() else None,
        ligand_atoms=list(record["ligand_atoms"]),
        periodic=bool(record["periodic"]),
        description=str(record["description"]),
        record=record,
    )


def ligand_parameters(
    ligand: SmallMoleculeComponent,
    system: SystemSettings,
    *,
    cache_dir: Path | None = None,
    given: LigandParameters | Mapping[str, LigandParameters] | None = None,
) -> LigandParameters:
    """The ligand's parameters: ``given`` (its own, or a mapping by molecule name), else computed
    with the settings' force field and charges (cached in ``cache_dir``)."""
    if isinstance(given, LigandParameters):
        return given
    if given and ligand.name in given:
        return given[ligand.name]
    return parameterize_ligand(
        ligand, forcefield=system.forcefield, charge_method=system.charge_method, cache_dir=cache_dir
    )


def build_water_box(
    params: LigandParameters,
    solvent: SolventComponent | None,
    system: SystemSettings,
    hydrogen_mass_amu: float | None,
) -> BuiltSystem:
    """The ligand in a box of explicit water (and the solvent component's ions), PME."""
    return build_solvated(
        params,
        padding_nm=system.solvent_padding_nm,
        nonbonded_cutoff_nm=system.nonbonded_cutoff_nm,
        hydrogen_mass_amu=hydrogen_mass_amu,
        neutralize=(solvent or SolventComponent()).neutralize,
        **water_arguments(solvent),
    )


def water_arguments(solvent: SolventComponent | None) -> dict[str, Any]:
    """The solvent component's water model and ions (the default component's without one), as the
    chemistry's box builders take them."""
    water = solvent or SolventComponent()
    return water.model_dump(
        include={"water_model", "ion_concentration_molar", "positive_ion", "negative_ion"}
    )
