"""Throughput of the relative binding complex leg: benzene -> toluene in T4 lysozyme L99A.

Builds the complex leg (tleap: ff14SB, TIP3P, 0.15 M NaCl; the hybrid with 11 windows), then times
(1) replica exchange over the windows with the multistate engine and (2) plain MD of the same hybrid
System at lambda 0 (the loop's own overhead is the ratio) and of the real complex (the hybrid forces'
cost). CUDA when there is one, else what the platform choice gives; prints ns/day. Never fails on a number.

    .venv/bin/python bench/relative_complex_throughput.py [--iterations 20] [--platform CUDA]

Measured on the shared 2-core machine (CPU, one thread, --iterations 2 --steps 100; 26,051 atoms):
plain MD 3.9 ns/day, hybrid MD 4.1, replica exchange 2.6 summed over windows (0.62 of hybrid MD;
too short a run to separate the hybrid forces' cost from noise). Not yet run on CUDA.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import openmm
from openmm import unit

from fepflow.chemistry import build_vacuum
from fepflow.chemistry.complexes import build_complex
from fepflow.chemistry.mol2 import parse_mol2
from fepflow.data import t4l99a
from fepflow.data.freesolv import published_parameters
from fepflow.engine.config import SamplerConfig
from fepflow.engine.equilibration import prepare_start
from fepflow.engine.platforms import choose_platform
from fepflow.engine.sampling import run_multistate
from fepflow.hybrid import build_hybrid, hybrid_positions, hybrid_states, schedule
from fepflow.mapping import map_ligands
from fepflow.models import SmallMoleculeComponent


def md_ns_per_day(system: openmm.System, positions, box, platform, steps: int, values=None) -> float:  # type: ignore[no-untyped-def]
    integrator = openmm.LangevinMiddleIntegrator(298.15, 1.0, 0.004)
    context = openmm.Context(system, integrator, platform.platform, dict(platform.properties))
    context.setPeriodicBoxVectors(*box)
    context.setPositions(positions)
    for name, value in (values or {}).items():
        context.setParameter(name, value)
    openmm.LocalEnergyMinimizer.minimize(context, 10.0, 200)
    integrator.step(50)
    start = time.perf_counter()
    integrator.step(steps)
    context.getState(getEnergy=True)
    return steps * 0.004e-3 / (time.perf_counter() - start) * 86400


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--steps", type=int, default=500, help="plain-MD steps timed")
    parser.add_argument("--platform", default=None)
    args = parser.parse_args()
    benzene_params, toluene_params = published_parameters("benzene"), published_parameters("toluene")
    own = np.array([a.position for a in parse_mol2(benzene_params.mol2).atoms])
    benzene = t4l99a.posed_benzene(own)
    built = build_complex(
        t4l99a.protein(), benzene_params, ligand_coordinates_angstrom=np.asarray(benzene.conformer)
    )
    toluene = build_vacuum(toluene_params, hydrogen_mass_amu=3.0)
    mapping = map_ligands(benzene, SmallMoleculeComponent.from_smiles("Cc1ccccc1", "toluene"))
    hybrid = build_hybrid(built.system, built.ligand_atoms, toluene.system, mapping.pairs)
    x = hybrid_positions(
        np.asarray(built.positions.value_in_unit(unit.nanometer)),
        np.asarray(toluene.positions.value_in_unit(unit.nanometer)),
        hybrid.atoms,
    )
    platform = choose_platform(args.platform)
    box = built.system.getDefaultPeriodicBoxVectors()
    print(f"{built.description}; hybrid {hybrid.system.getNumParticles()} atoms; platform {platform.name}")
    plain = md_ns_per_day(built.system, built.positions, box, platform, args.steps)
    hybrid_md = md_ns_per_day(hybrid.system, x * unit.nanometer, box, platform, args.steps)
    print(f"plain MD of the complex     {plain:8.1f} ns/day")
    print(
        f"MD of the hybrid (lambda 0) {hybrid_md:8.1f} ns/day  (hybrid forces cost x{plain / hybrid_md:.2f})"
    )
    states = hybrid_states(hybrid.system, schedule(11), 298.15, 1.01325)
    config = SamplerConfig(
        timestep_fs=4.0,
        steps_per_iteration=250,
        production_iterations=args.iterations,
        equilibration_steps=250,
        minimize_max_iterations=200,
    )
    # as the protocol does: start from the middle window, where both unique groups have room
    start, _, _ = prepare_start(states[len(states) // 2], x * unit.nanometer, box, config, platform)
    config = config.model_copy(update={"minimize": False, "equilibration_steps": 0})
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_multistate(
            states, start.positions, Path(tmp) / "complex.nc", config, platform, box_vectors=start.box_vectors
        )
    print(
        f"replica exchange, 11 windows {outcome.ns_per_day:8.1f} ns/day summed over windows "
        f"(sampler efficiency {outcome.ns_per_day / hybrid_md:.2f} of hybrid MD); "
        f"energy matrix {outcome.energy_matrix_s:.1f} s of {outcome.sampling_s:.1f} s"
    )


if __name__ == "__main__":
    main()
