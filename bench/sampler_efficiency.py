"""Sampler efficiency: multistate sampling throughput against plain MD of the same system.

Measured in one run, on one platform, with one integrator (LangevinMiddleIntegrator) and timestep:

- plain MD of the original system (solute in TIP3P, PME, HBonds, barostat);
- plain MD of the alchemical system at four states (coupled, charges half off, softcore sterics,
  decoupled), the same integrator, timestep and platform; interleaved in blocks, half before and
  half after the sampler, so that load on a shared machine hits every measurement alike;
- ``run_multistate`` (replica exchange over the hydration protocol's 11 lambda states).

Ratios printed: sampler aggregate ns/day (all replicas) / alchemical MD ns/day over those states
(the loop's own overhead), and alchemical MD / plain MD (the cost of the alchemical forces). The sampling wall time
is split into propagation, energy matrix, exchanges, NetCDF I/O, snapshots and the rest. It never
fails on a number.

    .venv/bin/python bench/sampler_efficiency.py [--platform CPU] [--threads 2] [--iterations 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import openmm
from openmm import unit

from fepflow.engine.alchemical import build_alchemical_states
from fepflow.engine.config import SamplerConfig
from fepflow.engine.equilibration import prepare_start
from fepflow.engine.platforms import PlatformChoice, choose_platform
from fepflow.engine.sampling import run_multistate
from fepflow.protocols.absolute.settings import DEFAULT_LAMBDA_ELECTROSTATICS, DEFAULT_LAMBDA_STERICS

TEMPERATURE_K = 298.15
PRESSURE_BAR = 1.01325


class MDTimer:
    """Plain MD of several ThermodynamicStates (each its own Context), timed in interleaved blocks
    so that load changes on a shared machine hit every system alike."""

    def __init__(
        self, states: dict[str, object], sampler_state, platform: PlatformChoice, timestep_fs: float
    ) -> None:  # type: ignore[no-untyped-def]
        self.timestep_fs = timestep_fs
        self.runs: dict[str, tuple[openmm.Context, openmm.Integrator]] = {}
        self.seconds = dict.fromkeys(states, 0.0)
        self.steps = dict.fromkeys(states, 0)
        for name, state in states.items():
            integrator = openmm.LangevinMiddleIntegrator(
                TEMPERATURE_K * unit.kelvin, 1.0 / unit.picosecond, timestep_fs * unit.femtosecond
            )
            context = state.create_context(integrator, platform.platform, dict(platform.properties))  # type: ignore[attr-defined]
            sampler_state.apply_to_context(context)
            context.setVelocitiesToTemperature(TEMPERATURE_K * unit.kelvin)
            integrator.step(50)  # warm-up: kernels, neighbour lists
            context.getState(getEnergy=True)
            self.runs[name] = (context, integrator)

    def block(self, steps: int) -> None:
        """Run ``steps`` steps of every system, one after the other."""
        for name, (context, integrator) in self.runs.items():
            start = time.perf_counter()
            integrator.step(steps)
            context.getState(getEnergy=True)  # wait for the device
            self.seconds[name] += time.perf_counter() - start
            self.steps[name] += steps

    def ns_per_day(self, *names: str) -> float:
        """Throughput of one system, or of several together (total steps / total time)."""
        steps = sum(self.steps[n] for n in names)
        seconds = sum(self.seconds[n] for n in names)
        return steps * self.timestep_fs * 1e-6 / seconds * 86400.0


def energy_costs_ms(states, sampler_state, platform: PlatformChoice) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """One energy evaluation at state 0, and the reduced potentials of all states from one Context
    (what a row of the energy matrix costs), in milliseconds."""
    from openmmtools.states import ThermodynamicState

    context = states[0].create_context(
        openmm.VerletIntegrator(0.001), platform.platform, dict(platform.properties)
    )
    sampler_state.apply_to_context(context)
    context.getState(getEnergy=True)
    start = time.perf_counter()
    for _ in range(5):
        context.getState(getEnergy=True)
    single = (time.perf_counter() - start) / 5
    start = time.perf_counter()
    ThermodynamicState.reduced_potential_at_states(context, states)
    row = time.perf_counter() - start
    return single * 1e3, row * 1e3


def lambdas(state) -> str:  # type: ignore[no-untyped-def]
    """``(elec, sterics)`` of an alchemical state, for labels."""
    return f"({state.lambda_electrostatics:g}, {state.lambda_sterics:g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", default=None, help="OpenMM platform (default: best that works)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    parser.add_argument("--iterations", type=int, default=4, help="sampler iterations")
    parser.add_argument("--steps-per-iteration", type=int, default=250)
    parser.add_argument("--md-steps", type=int, default=2000, help="steps per plain-MD measurement")
    parser.add_argument("--timestep-fs", type=float, default=2.0)
    parser.add_argument("--minimize-iterations", type=int, default=500, help="minimiser iteration cap")
    args = parser.parse_args()

    from openmmtools import testsystems

    t0 = time.perf_counter()
    test = testsystems.AlanineDipeptideExplicit()  # 22-atom solute, 2,269 atoms, PME 0.9 nm, HBonds
    ligand = list(range(22))
    platform = choose_platform(args.platform, threads=args.threads)
    built = build_alchemical_states(
        test.system,
        ligand,
        DEFAULT_LAMBDA_ELECTROSTATICS,
        DEFAULT_LAMBDA_STERICS,
        TEMPERATURE_K,
        PRESSURE_BAR,
    )
    states = built.states
    from openmmtools.states import ThermodynamicState

    plain_state = ThermodynamicState(
        test.system, temperature=TEMPERATURE_K * unit.kelvin, pressure=PRESSURE_BAR * unit.bar
    )
    config = SamplerConfig(
        timestep_fs=args.timestep_fs,
        steps_per_iteration=args.steps_per_iteration,
        production_iterations=args.iterations,
        checkpoint_interval_iterations=max(1, args.iterations // 2),
        equilibration_steps=0,
        minimize=False,
    )
    box = test.system.getDefaultPeriodicBoxVectors()
    start_state, minimize_s, _ = prepare_start(
        states[0],
        test.positions,
        box,
        config.model_copy(update={"minimize": True, "minimize_max_iterations": args.minimize_iterations}),
        platform,
    )
    print(
        f"sampler efficiency: alanine dipeptide in TIP3P ({test.system.getNumParticles()} atoms), "
        f"{len(states)} states, platform {platform.name} {platform.properties}, "
        f"{args.timestep_fs} fs, {args.steps_per_iteration} steps/iteration"
    )
    print(f"  setup and one minimisation: {time.perf_counter() - t0:.1f} s (minimisation {minimize_s:.1f} s)")

    electro = next(i for i, e in enumerate(DEFAULT_LAMBDA_ELECTROSTATICS) if 0.0 < e < 1.0)
    softcore = next(i for i, x in enumerate(DEFAULT_LAMBDA_STERICS) if 0.0 < x < 1.0)
    alchemical = {f"state {i}": states[i] for i in (0, electro, softcore, len(states) - 1)}
    timer = MDTimer({"plain": plain_state, **alchemical}, start_state, platform, args.timestep_fs)
    single_ms, row_ms = energy_costs_ms(states, start_state, platform)
    block = max(1, args.md_steps // 4)
    for _ in range(2):  # half of the MD before the sampler, half after
        timer.block(block)

    with tempfile.TemporaryDirectory() as tmp:
        out = run_multistate(
            states, start_state.positions, Path(tmp) / "bench.nc", config, platform, box_vectors=box
        )
    for _ in range(2):
        timer.block(block)
    md_plain = timer.ns_per_day("plain")
    md_alch = timer.ns_per_day(*alchemical)

    steps_total = out.iterations_run * len(states) * args.steps_per_iteration
    md_alch_steps_per_s = md_alch / (args.timestep_fs * 1e-6) / 86400.0
    md_equivalent_s = steps_total / md_alch_steps_per_s
    parts = {
        "propagation (MD-equivalent)": md_equivalent_s,
        "propagation overhead": out.propagation_s - md_equivalent_s,
        "energy matrix": out.energy_matrix_s,
        "exchanges (mixing)": out.mixing_s,
        "NetCDF writes": out.io_s,
        "snapshots": out.timings.get("snapshots", 0.0),
    }
    parts["other (contexts, setup)"] = out.sampling_s - sum(parts.values())

    print()
    print(f"  {'measurement':<50} {'ns/day':>10}")
    print(f"  {'plain MD, original system':<50} {md_plain:>10.2f}")
    for name in alchemical:
        label = f"plain MD, alchemical system, {name} " + lambdas(states[int(name.split()[1])])
        print(f"  {label:<50} {timer.ns_per_day(name):>10.2f}")
    print(f"  {'plain MD, alchemical system, those together':<50} {md_alch:>10.2f}")
    print(f"  {'sampler, aggregate over all replicas':<50} {out.ns_per_day:>10.2f}")
    print()
    print(f"  sampler / alchemical MD (loop efficiency)      {out.ns_per_day / md_alch:6.3f}")
    print(f"  alchemical MD / plain MD                       {md_alch / md_plain:6.3f}")
    print(f"  alchemical-force cost (1 - ratio)              {1 - md_alch / md_plain:6.1%}")
    print()
    print(f"  where the sampling time goes ({out.iterations_run} iterations, {out.sampling_s:.1f} s):")
    for name, seconds in parts.items():
        print(f"    {name:<34} {seconds:8.2f} s  {seconds / out.sampling_s:6.1%}")
    print()
    print(
        f"  energy: one evaluation {single_ms:.1f} ms; one energy-matrix row ({len(states)} states) "
        f"{row_ms:.1f} ms = {row_ms / single_ms / len(states):.2f} x a single evaluation per state"
    )
    print(f"  total wall time {time.perf_counter() - t0:.0f} s")
    assert np.isfinite(out.ns_per_day)


if __name__ == "__main__":
    main()
