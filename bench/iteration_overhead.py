"""Per-iteration overhead of the multistate sampler, against plain MD of the same system and platform.

Two systems, each built the way the absolute hydration protocol builds its solvent leg:

- ``implicit``: a FreeSolv molecule (toluene by default, published GAFF parameters) in GBSA-OBC2 with
  the ``fast`` preset's lambda schedule, timestep, HMR and steps per iteration, on the platform the
  protocol picks for that leg (:func:`fepflow.protocols.common.simulate.leg_platform`);
- ``tip3p``: the same molecule in a small TIP3P box (about 2,300 atoms, PME, 4 fs with HMR) with the
  ``production`` preset's 11 lambda states and 250 steps per iteration.

For each it measures, in one run and interleaved (half of the plain MD before the sampler, half after,
so that load on a shared machine hits every measurement alike):

- plain MD of the original system (``LangevinMiddleIntegrator``, the sampler's timestep);
- plain MD of the alchemical states' systems (every state, one Context each);
- ``run_multistate``'s aggregate throughput (all replicas) over the same states;

and prints the ratio sampler / plain MD (targets: >= 0.5 for ``implicit``, >= 0.9 for ``tip3p``), from
totals and from medians (the median iteration against the median block of plain MD of the same steps:
robust to load spikes on a shared machine; the headline), and
where one iteration's wall time goes (propagation as MD-equivalent and overhead, the energy matrix,
state and context switches, exchanges, NetCDF storage, snapshots, the rest). The split of propagation
and energy matrix into OpenMM calls and Python comes from a second, profiled (cProfile) run of the
sampler. It never fails on a number.

    .venv/bin/python bench/iteration_overhead.py [--system implicit|tip3p|both] [--iterations N]
        [--platform CPU] [--threads 1]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openmm
from openmm import unit

from fepflow.engine.alchemical import build_alchemical_states
from fepflow.engine.config import SamplerConfig
from fepflow.engine.equilibration import prepare_start
from fepflow.engine.platforms import PlatformChoice, choose_platform
from fepflow.engine.sampling import SamplingOutcome, run_multistate
from fepflow.protocols.absolute.settings import FAST, PRODUCTION, LambdaSchedule
from fepflow.protocols.common.simulate import leg_platform

TEMPERATURE_K = 298.15
TARGETS = {"implicit": 0.5, "tip3p": 0.9}

# cProfile function names (substrings of "file:line(function)") -> part of an iteration
PROFILE_PARTS = (
    ("MD steps (integrator.step)", ("Integrator_step",)),
    ("OpenMM energies (getState)", ("Context_getState", "State_getPotentialEnergy")),
    (
        "state/context switches",
        (
            "Context_setParameter",
            "Context_setPositions",
            "Context_setVelocities",
            "Context_setPeriodicBoxVectors",
            "updateParametersInContext",
            "Context_reinitialize",
        ),
    ),
    ("reading back positions", ("State_getPositions", "State_getVelocities", "State_getPeriodicBoxVectors")),
    ("NetCDF storage", ("netCDF4", "multistatereporter")),
)


@dataclass
class Case:
    """One system: what the sampler runs and how."""

    name: str
    description: str
    system: openmm.System
    ligand_atoms: list[int]
    positions: Any
    box: Any
    electrostatics: tuple[float, ...]
    sterics: tuple[float, ...]
    simulation: dict[str, Any]
    pressure_bar: float | None


def build_case(name: str, molecule: str, padding_nm: float) -> Case:
    from fepflow.chemistry import build_implicit, build_solvated
    from fepflow.data.freesolv import published_parameters

    params = published_parameters(molecule)
    if name == "implicit":
        sim = FAST["simulation"]
        built = build_implicit(params, hydrogen_mass_amu=sim["hydrogen_mass_amu"], solvent="obc2")
        lambdas = LambdaSchedule(**FAST["lambdas"])
        pressure = None
    else:
        sim = PRODUCTION["simulation"]
        built = build_solvated(params, padding_nm=padding_nm, hydrogen_mass_amu=sim["hydrogen_mass_amu"])
        lambdas = LambdaSchedule()
        pressure = 1.01325
    return Case(
        name=name,
        description=f"{molecule}: {built.description}, {built.system.getNumParticles()} atoms",
        system=built.system,
        ligand_atoms=list(built.ligand_atoms),
        positions=built.positions,
        box=built.box_vectors,
        electrostatics=lambdas.electrostatics,
        sterics=lambdas.sterics,
        simulation=dict(sim),
        pressure_bar=pressure,
    )


class MDTimer:
    """Plain MD of several ThermodynamicStates (one Context each), timed in interleaved blocks."""

    def __init__(
        self, states: dict[str, Any], start: Any, platform: PlatformChoice, timestep_fs: float
    ) -> None:
        self.timestep_fs = timestep_fs
        self.runs: dict[str, tuple[openmm.Context, openmm.Integrator]] = {}
        self.seconds = dict.fromkeys(states, 0.0)
        self.steps = dict.fromkeys(states, 0)
        self.per_step: dict[str, list[float]] = {name: [] for name in states}
        for name, state in states.items():
            integrator = openmm.LangevinMiddleIntegrator(
                TEMPERATURE_K * unit.kelvin, 1.0 / unit.picosecond, timestep_fs * unit.femtosecond
            )
            context = state.create_context(integrator, platform.platform, dict(platform.properties))
            start.apply_to_context(context)
            context.setVelocitiesToTemperature(TEMPERATURE_K * unit.kelvin)
            integrator.step(20)
            context.getState(getEnergy=True)
            self.runs[name] = (context, integrator)

    def block(self, steps: int) -> None:
        for name, (context, integrator) in self.runs.items():
            began = time.perf_counter()
            integrator.step(steps)
            context.getState(getEnergy=True)
            self.seconds[name] += time.perf_counter() - began
            self.steps[name] += steps
            self.per_step[name].append((time.perf_counter() - began) / steps)

    def ns_per_day(self, *names: str) -> float:
        steps = sum(self.steps[n] for n in names)
        seconds = sum(self.seconds[n] for n in names)
        return steps * self.timestep_fs * 1e-6 / seconds * 86400.0

    def us_per_step(self, *names: str) -> float:
        return sum(self.seconds[n] for n in names) / sum(self.steps[n] for n in names) * 1e6

    def median_us_per_step(self, *names: str) -> float:
        """The median block's time per step: robust to load spikes on a shared machine."""
        return float(np.median([t for n in names for t in self.per_step[n]])) * 1e6


def profile_parts(profile: cProfile.Profile) -> dict[str, float]:
    """Seconds per part of :data:`PROFILE_PARTS` (each function's own time, first match wins)."""
    stats = pstats.Stats(profile)
    parts = dict.fromkeys([name for name, _ in PROFILE_PARTS], 0.0)
    parts["Python (openmmtools, fepflow, numpy)"] = 0.0
    for (filename, line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        label = f"{filename}:{line}({function})"
        for name, patterns in PROFILE_PARTS:
            if any(p in label for p in patterns):
                parts[name] += own
                break
        else:
            parts["Python (openmmtools, fepflow, numpy)"] += own
    return parts


def sample(
    case: Case,
    states: list[Any],
    start: Any,
    config: SamplerConfig,
    platform: PlatformChoice,
    folder: Path,
    tag: str,
    stamps: list[float] | None = None,
) -> SamplingOutcome:
    def stamp(iteration: int, total: int) -> None:
        if stamps is not None:
            stamps.append(time.perf_counter())

    return run_multistate(
        states,
        start.positions,
        folder / f"{case.name}-{tag}.nc",
        config,
        platform,
        box_vectors=start.box_vectors,
        progress=stamp,
    )


def run_case(case: Case, args: argparse.Namespace) -> float:
    from openmmtools.states import ThermodynamicState

    sim = case.simulation
    steps = args.steps_per_iteration or sim["steps_per_iteration"]
    iterations = args.iterations or (40 if case.name == "implicit" else 6)
    built = build_alchemical_states(
        case.system, case.ligand_atoms, case.electrostatics, case.sterics, TEMPERATURE_K, case.pressure_bar
    )
    states = built.states
    periodic = case.system.usesPeriodicBoundaryConditions()
    chosen = choose_platform(args.platform, threads=args.threads)
    platform = chosen if args.platform else leg_platform(case.system.getNumParticles(), periodic, chosen)
    config = SamplerConfig(
        timestep_fs=sim["timestep_fs"],
        steps_per_iteration=steps,
        production_iterations=iterations,
        checkpoint_interval_iterations=max(1, min(sim["checkpoint_interval_iterations"], iterations // 2)),
        equilibration_steps=0,
        minimize=False,
    )
    start, minimize_s, equilibrate_s = prepare_start(
        states[0],
        case.positions,
        case.box,
        config.model_copy(
            update={"minimize": True, "minimize_max_iterations": 500, "equilibration_steps": 500}
        ),
        platform,
    )
    pressure = None if case.pressure_bar is None else case.pressure_bar * unit.bar
    plain = ThermodynamicState(case.system, temperature=TEMPERATURE_K * unit.kelvin, pressure=pressure)
    alchemical = {f"state {i}": s for i, s in enumerate(states)}
    timer = MDTimer({"plain": plain, **alchemical}, start, platform, sim["timestep_fs"])
    rounds = max(2, args.md_steps // steps)
    print(
        f"\n[{case.name}] {case.description}; {len(states)} states, platform {platform.name} "
        f"{platform.properties}, {sim['timestep_fs']} fs, {steps} steps/iteration, {iterations} iterations; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds // 2):  # half of the plain MD before the sampler, half after
            timer.block(steps)
        stamps: list[float] = []
        out = sample(case, states, start, config, platform, Path(tmp), "timed", stamps)
        for _ in range(rounds - rounds // 2):
            timer.block(steps)
        profile = cProfile.Profile()
        profiled_config = config.model_copy(update={"production_iterations": max(2, iterations // 4)})
        profile.enable()
        profiled = sample(case, states, start, profiled_config, platform, Path(tmp), "profiled")
        profile.disable()
    md_plain = timer.ns_per_day("plain")
    md_alch = timer.ns_per_day(*alchemical)
    iteration_s = np.diff(stamps[1:])  # stamps[0]: the first iteration's end (0: creation, not timed)
    median_iteration_s = float(np.median(iteration_s)) if len(iteration_s) else out.sampling_s
    md_iteration_s = len(states) * steps * timer.median_us_per_step("plain") * 1e-6
    ratio = md_iteration_s / median_iteration_s
    print(
        f"  {'plain MD, original system':<46} {md_plain:>10.2f} ns/day  {timer.us_per_step('plain'):8.1f} us/step"
    )
    print(
        f"  {'plain MD, alchemical states (all, together)':<46} {md_alch:>10.2f} ns/day  {timer.us_per_step(*alchemical):8.1f} us/step"
    )
    print(f"  {'sampler, aggregate over all replicas':<46} {out.ns_per_day:>10.2f} ns/day")
    print(f"  sampler / plain MD, totals {out.ns_per_day / md_plain:6.3f}")
    print(
        f"  sampler / plain MD, medians {ratio:6.3f}   (target >= {TARGETS[case.name]}; median iteration "
        f"{median_iteration_s * 1e3:.1f} ms against {md_iteration_s * 1e3:.1f} ms of plain MD for its steps)"
    )
    print(f"  sampler / alchemical MD  {out.ns_per_day / md_alch:6.3f}")
    print(f"  alchemical MD / plain MD {md_alch / md_plain:6.3f}")
    per_iteration = out.sampling_s / max(1, out.iterations_run)
    md_equivalent = len(states) * steps * timer.us_per_step(*alchemical) * 1e-6
    parts = {
        "propagation: MD-equivalent": md_equivalent,
        "propagation: overhead (switches, Python)": out.propagation_s / out.iterations_run - md_equivalent,
        "energy matrix": out.energy_matrix_s / out.iterations_run,
        "exchanges (mixing)": out.mixing_s / out.iterations_run,
        "NetCDF storage": out.io_s / out.iterations_run,
        "snapshots (checkpoints)": out.timings.get("snapshots", 0.0) / out.iterations_run,
    }
    parts["rest (Python loop)"] = per_iteration - sum(parts.values())
    print(f"  one iteration: {per_iteration * 1e3:.1f} ms")
    for name, seconds in parts.items():
        print(f"    {name:<44} {seconds * 1e3:9.2f} ms  {seconds / per_iteration:6.1%}")
    by_part = profile_parts(profile)
    total = sum(by_part.values())
    print(
        f"  profiled run ({profiled.iterations_run} iterations, cProfile; its own overhead inflates Python):"
    )
    for name, seconds in by_part.items():
        print(
            f"    {name:<44} {seconds / max(1, profiled.iterations_run) * 1e3:9.2f} ms  {seconds / total:6.1%}"
        )
    print(f"  (setup: minimisation {minimize_s:.1f} s, equilibration {equilibrate_s:.1f} s)")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", choices=("implicit", "tip3p", "both"), default="both")
    parser.add_argument("--molecule", default="toluene", help="FreeSolv name (default: %(default)s)")
    parser.add_argument(
        "--padding-nm",
        type=float,
        default=1.15,
        help="water padding of the tip3p box (1.15 nm: 2,262 atoms around toluene)",
    )
    parser.add_argument("--platform", default=None, help="OpenMM platform (default: what the protocol picks)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    parser.add_argument(
        "--iterations", type=int, default=None, help="sampler iterations (40 implicit, 6 tip3p)"
    )
    parser.add_argument("--steps-per-iteration", type=int, default=None, help="default: the preset's")
    parser.add_argument(
        "--md-steps", type=int, default=4000, help="plain MD steps per state, in blocks of one iteration's"
    )
    args = parser.parse_args()
    began = time.perf_counter()
    names = ("implicit", "tip3p") if args.system == "both" else (args.system,)
    ratios = {name: run_case(build_case(name, args.molecule, args.padding_nm), args) for name in names}
    print()
    for name, ratio in ratios.items():
        verdict = "meets" if ratio >= TARGETS[name] else "below"
        print(f"{name}: sampler / plain MD = {ratio:.3f} ({verdict} the target {TARGETS[name]})")
    print(f"total wall time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
