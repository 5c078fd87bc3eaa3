"""A tiny explicit-solvent hydration task of methane with its published parameters, runnable as a script.

``python tests/hydration_task.py WORKDIR`` prints ``progress <unit> <done> <total>`` lines, so a test
can kill it mid-simulation and check that the task resumes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from fepflow.data.freesolv import entry, published_parameters
from fepflow.models import ChemicalSystem, SmallMoleculeComponent, SolventComponent, Transformation
from fepflow.protocols.absolute.hydration import AbsoluteHydrationProtocol

TINY: dict[str, Any] = {
    "lambdas": {"electrostatics": [1.0, 0.0, 0.0], "sterics": [1.0, 1.0, 0.0]},
    "simulation": {
        "timestep_fs": 4.0,
        "steps_per_iteration": 25,
        "equilibration_ps": 1.0,
        "production_iterations": 6,
        "checkpoint_interval_iterations": 1,
        "minimize_max_iterations": 200,
    },
    "system": {"solvent_model": "tip3p", "solvent_padding_nm": 0.9, "nonbonded_cutoff_nm": 0.8},
    "repeats": 1,
}


def methane_transformation() -> Transformation:
    e = entry("methane")
    water = SolventComponent(ion_concentration_molar=0.0)
    ligand = SmallMoleculeComponent.from_smiles(e.smiles, e.name)
    a = ChemicalSystem(name="methane in water", components={"ligand": ligand, "solvent": water})
    b = ChemicalSystem(name="methane decoupled", components={"solvent": water})
    return Transformation(state_a=a, state_b=b, protocol="absolute-hydration", settings=TINY)


def run(workdir: Path, extend_iterations: int = 0) -> Any:
    transformation = methane_transformation()
    protocol = AbsoluteHydrationProtocol.for_transformation(transformation)

    def progress(unit: str, done: int, total: int) -> None:
        print(f"progress {unit} {done} {total}", flush=True)

    return protocol.run_task(
        transformation,
        repeat=0,
        workdir=workdir,
        platform="CPU",
        threads=2,
        extend_iterations=extend_iterations,
        progress=progress,
        ligand_parameters=published_parameters("methane"),
    )


if __name__ == "__main__":
    run(Path(sys.argv[1]))
