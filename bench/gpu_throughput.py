"""GPU throughput: ns/day per task for the hydration and relative complex legs, alone and packed per GPU.

Two legs, built as the protocols build them:

- ``hydration``: the solvent leg of absolute hydration with the ``production`` preset (a FreeSolv
  molecule in TIP3P with 1.2 nm padding, PME, 4 fs with HMR, 11 lambda states, NPT);
- ``complex``: the complex leg of relative binding, benzene -> toluene in T4 lysozyme L99A (ff14SB,
  TIP3P, 0.15 M NaCl, 11 hybrid windows), as ``bench/relative_complex_throughput.py`` builds it.

For each leg, on one GPU: plain OpenMM MD of the real (non-alchemical) system, then one task alone
(``run_multistate``, aggregate ns/day over its replicas), then 2, 3 and 4 tasks at once, each its own
process started together (what several slots on one GPU do). It reports ns/day per task, the sum over
the tasks, and both against plain MD. Whether NVIDIA MPS is active is reported (packed processes
share the GPU by time slices without it); ``--start-mps`` starts its daemon for the run and stops it
after, where ``nvidia-cuda-mps-control`` exists.

Without a CUDA platform it says so and measures nothing (exit status 0); ``--platform CPU --tiny``
runs the same code on a small box for a few iterations, to check the script itself.

    .venv/bin/python bench/gpu_throughput.py [--legs hydration complex] [--packing 1 2 3 4]
        [--iterations 20] [--platform CUDA] [--start-mps]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

TEMPERATURE_K = 298.15
PRESSURE_BAR = 1.01325
MPS_PIPE = Path(os.environ.get("CUDA_MPS_PIPE_DIRECTORY", "/tmp/nvidia-mps"))


def _save(
    folder: Path, name: str, system: Any, positions_nm: np.ndarray, box_nm: np.ndarray, meta: dict
) -> None:
    import openmm

    leg = folder / name
    leg.mkdir(parents=True, exist_ok=True)
    (leg / "system.xml").write_text(openmm.XmlSerializer.serialize(system))
    np.save(leg / "positions.npy", positions_nm)
    np.save(leg / "box.npy", box_nm)
    (leg / "meta.json").write_text(json.dumps(meta))


def _box_nm(system: Any) -> np.ndarray:
    from openmm import unit

    return np.array([v.value_in_unit(unit.nanometer) for v in system.getDefaultPeriodicBoxVectors()])


def build_hydration(folder: Path, molecule: str, padding_nm: float) -> None:
    """The production solvent leg of ``molecule``: the real system, alchemical over 11 states."""
    from openmm import unit

    from fepflow.chemistry import build_solvated
    from fepflow.data.freesolv import published_parameters

    built = build_solvated(published_parameters(molecule), padding_nm=padding_nm, hydrogen_mass_amu=3.0)
    positions = np.asarray(built.positions.value_in_unit(unit.nanometer))
    meta = {"kind": "absolute", "ligand_atoms": list(built.ligand_atoms), "description": built.description}
    _save(folder, "hydration", built.system, positions, _box_nm(built.system), meta)
    _save(folder, "hydration-plain", built.system, positions, _box_nm(built.system), {"kind": "plain"})


def build_complex_leg(folder: Path) -> None:
    """Benzene -> toluene in T4L99A: the hybrid System (11 windows) and the real complex."""
    sys.path.insert(0, str(Path(__file__).parent))
    from openmm import unit

    from fepflow.chemistry import build_vacuum
    from fepflow.chemistry.complexes import build_complex
    from fepflow.chemistry.mol2 import parse_mol2
    from fepflow.data import t4l99a
    from fepflow.data.freesolv import published_parameters
    from fepflow.hybrid import build_hybrid, hybrid_positions
    from fepflow.mapping import map_ligands
    from fepflow.models import SmallMoleculeComponent

    benzene_params, toluene_params = published_parameters("benzene"), published_parameters("toluene")
    own = np.array([a.position for a in parse_mol2(benzene_params.mol2).atoms])
    benzene = t4l99a.posed_benzene(own)
    built = build_complex(
        t4l99a.protein(), benzene_params, ligand_coordinates_angstrom=np.asarray(benzene.conformer)
    )
    toluene = build_vacuum(toluene_params, hydrogen_mass_amu=3.0)
    mapping = map_ligands(benzene, SmallMoleculeComponent.from_smiles("Cc1ccccc1", "toluene"))
    hybrid = build_hybrid(built.system, built.ligand_atoms, toluene.system, mapping.pairs)
    complex_nm = np.asarray(built.positions.value_in_unit(unit.nanometer))
    x = hybrid_positions(
        complex_nm, np.asarray(toluene.positions.value_in_unit(unit.nanometer)), hybrid.atoms
    )
    box = _box_nm(built.system)
    _save(folder, "complex", hybrid.system, x, box, {"kind": "hybrid", "description": built.description})
    _save(folder, "complex-plain", built.system, complex_nm, box, {"kind": "plain"})


def _load(leg: Path) -> tuple[Any, Any, Any, dict]:
    import openmm
    from openmm import unit

    system = openmm.XmlSerializer.deserialize((leg / "system.xml").read_text())
    positions = np.load(leg / "positions.npy") * unit.nanometer
    box = [openmm.Vec3(*row) * unit.nanometer for row in np.load(leg / "box.npy")]
    return system, positions, box, json.loads((leg / "meta.json").read_text())


def _states(system: Any, meta: dict) -> list:
    if meta["kind"] == "absolute":
        from fepflow.engine.alchemical import build_alchemical_states
        from fepflow.protocols.absolute.settings import DEFAULT_LAMBDA_ELECTROSTATICS, DEFAULT_LAMBDA_STERICS

        return build_alchemical_states(
            system,
            meta["ligand_atoms"],
            DEFAULT_LAMBDA_ELECTROSTATICS,
            DEFAULT_LAMBDA_STERICS,
            TEMPERATURE_K,
            PRESSURE_BAR,
        ).states
    from fepflow.hybrid import hybrid_states, schedule

    return hybrid_states(system, schedule(11), TEMPERATURE_K, PRESSURE_BAR)


def plain_md(leg: Path, platform_name: str, steps: int, queue: Any) -> None:
    """Worker: ns/day of plain MD (Langevin middle, 4 fs) of the real system; put on ``queue``."""
    import openmm
    from openmm import unit

    from fepflow.engine.platforms import choose_platform

    system, positions, box, _ = _load(leg)
    system.addForce(openmm.MonteCarloBarostat(PRESSURE_BAR * unit.bar, TEMPERATURE_K * unit.kelvin))
    platform = choose_platform(platform_name)
    integrator = openmm.LangevinMiddleIntegrator(TEMPERATURE_K, 1.0, 0.004)
    context = openmm.Context(system, integrator, platform.platform, dict(platform.properties))
    context.setPeriodicBoxVectors(*box)
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context, 10.0, 200)
    context.setVelocitiesToTemperature(TEMPERATURE_K)
    integrator.step(100)
    context.getState(getEnergy=True)
    began = time.perf_counter()
    integrator.step(steps)
    context.getState(getEnergy=True)
    queue.put(steps * 0.004e-3 / (time.perf_counter() - began) * 86400.0)


def sampler_task(
    leg: Path, platform_name: str, iterations: int, steps: int, barrier: Any, queue: Any
) -> None:
    """Worker: one task's ``run_multistate`` after every packed task is ready; its outcome on ``queue``."""
    from fepflow.engine.config import SamplerConfig
    from fepflow.engine.equilibration import prepare_start
    from fepflow.engine.platforms import choose_platform
    from fepflow.engine.sampling import run_multistate

    system, positions, box, meta = _load(leg)
    states = _states(system, meta)
    platform = choose_platform(platform_name)
    config = SamplerConfig(
        timestep_fs=4.0,
        steps_per_iteration=steps,
        production_iterations=iterations,
        checkpoint_interval_iterations=max(1, iterations),
        minimize_max_iterations=200,
        equilibration_steps=0,
    )
    start_state = states[len(states) // 2] if meta["kind"] == "hybrid" else states[0]
    start, _, _ = prepare_start(start_state, positions, box, config, platform)
    config = config.model_copy(update={"minimize": False})
    barrier.wait()
    with tempfile.TemporaryDirectory() as tmp:
        out = run_multistate(
            states, start.positions, Path(tmp) / "leg.nc", config, platform, box_vectors=start.box_vectors
        )
    queue.put(
        {"ns_per_day": out.ns_per_day, "sampling_s": out.sampling_s, "energy_matrix_s": out.energy_matrix_s}
    )


def _run(target: Any, args: tuple, n: int) -> list[Any]:
    context = mp.get_context("spawn")  # a fresh CUDA context per process
    queue = context.Queue()
    barrier = context.Barrier(n) if target is sampler_task else None
    full = (*args, barrier, queue) if barrier is not None else (*args, queue)
    processes = [context.Process(target=target, args=full) for _ in range(n)]
    for p in processes:
        p.start()
    results = [queue.get() for _ in processes]
    for p in processes:
        p.join()
        if p.exitcode:
            raise RuntimeError(f"a worker failed (exit status {p.exitcode})")
    return results


def mps_status() -> str:
    if shutil.which("nvidia-cuda-mps-control") is None:
        return "MPS: nvidia-cuda-mps-control not found (packed tasks share the GPU by time slices)"
    active = (MPS_PIPE / "control").exists()
    return f"MPS: control daemon {'active' if active else 'not running'} (pipe directory {MPS_PIPE})"


def measure(folder: Path, leg: str, args: argparse.Namespace) -> None:
    iterations = args.iterations if leg == "hydration" else args.complex_iterations
    _, _, _, meta = _load(folder / leg)
    print(f"\n[{leg}] {meta.get('description', '')}; {iterations} iterations of {args.steps} steps per task")
    plain = _run(plain_md, (folder / f"{leg}-plain", args.platform, args.md_steps), 1)[0]
    print(f"  plain MD of the real system, one process          {plain:10.1f} ns/day")
    alone = None
    for n in args.packing:
        results = _run(sampler_task, (folder / leg, args.platform, iterations, args.steps), n)
        per_task = [r["ns_per_day"] for r in results]
        mean, total = float(np.mean(per_task)), float(np.sum(per_task))
        alone = alone or mean
        energy = float(np.mean([r["energy_matrix_s"] / r["sampling_s"] for r in results]))
        print(
            f"  {n} task(s) at once: {mean:9.1f} ns/day per task (min {min(per_task):.1f}), "
            f"{total:9.1f} summed = {total / plain:5.2f} x plain MD, {total / alone:5.2f} x one task alone; "
            f"energy matrix {energy:.0%} of sampling"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--legs", nargs="+", choices=("hydration", "complex"), default=["hydration", "complex"]
    )
    parser.add_argument("--packing", nargs="+", type=int, default=[1, 2, 3, 4], help="tasks at once")
    parser.add_argument("--iterations", type=int, default=20, help="iterations per hydration task")
    parser.add_argument("--complex-iterations", type=int, default=10, help="iterations per complex task")
    parser.add_argument("--steps", type=int, default=250, help="steps per iteration (the presets' 1 ps)")
    parser.add_argument("--md-steps", type=int, default=5000, help="plain-MD steps timed")
    parser.add_argument("--molecule", default="toluene", help="FreeSolv molecule of the hydration leg")
    parser.add_argument(
        "--platform", default="CUDA", help="CUDA (default); CPU with --tiny checks the script"
    )
    parser.add_argument(
        "--tiny", action="store_true", help="a small box, 2 iterations of 20 steps (script check)"
    )
    parser.add_argument(
        "--start-mps", action="store_true", help="start the MPS daemon for the run, stop it after"
    )
    args = parser.parse_args()

    from fepflow.engine.errors import PlatformError
    from fepflow.engine.platforms import choose_platform

    try:
        choice = choose_platform(args.platform)
    except PlatformError as exc:
        print(f"no {args.platform} platform on this machine: nothing measured.\n  {exc}")
        print("  (run it where CUDA works; `--platform CPU --tiny --legs hydration` checks the script here)")
        return 0
    padding = 1.2
    if args.tiny:
        args.iterations, args.complex_iterations, args.steps, args.md_steps, padding = 2, 2, 20, 200, 0.8
    print(
        f"platform {choice.name} {choice.properties}; {mps_status()}; load average {os.getloadavg()[0]:.1f}"
    )
    started_mps = False
    if args.start_mps and shutil.which("nvidia-cuda-mps-control") and not (MPS_PIPE / "control").exists():
        subprocess.run(["nvidia-cuda-mps-control", "-d"], check=True)
        started_mps = True
        print(f"started the MPS daemon; {mps_status()}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            began = time.perf_counter()
            if "hydration" in args.legs:
                build_hydration(folder, args.molecule, padding)
            if "complex" in args.legs:
                build_complex_leg(folder)
            print(f"built {', '.join(args.legs)} in {time.perf_counter() - began:.0f} s")
            for leg in args.legs:
                measure(folder, leg, args)
    finally:
        if started_mps:
            subprocess.run(["nvidia-cuda-mps-control"], input="quit\n", text=True, check=False)
            print("stopped the MPS daemon")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
