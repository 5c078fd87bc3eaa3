"""The short equilibrium run a restraint is chosen from: the fully coupled complex, minimised, then NPT
Langevin dynamics, with the anchor candidates' positions recorded at even intervals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fepflow.restraints.errors import RestraintError


@dataclass(frozen=True)
class EquilibriumRun:
    """What the run left: the recorded atoms' positions per frame, and where the system ended."""

    frames_nm: np.ndarray
    """(n_frames, n_recorded, 3), in the order of the recorded atoms."""
    final_positions_nm: np.ndarray
    final_box_nm: np.ndarray | None
    simulated_ps: float


def run_equilibrium(
    system: Any,
    positions_nm: np.ndarray,
    box_nm: np.ndarray | None,
    recorded_atoms: Sequence[int],
    *,
    temperature_K: float,
    pressure_bar: float | None,
    timestep_fs: float,
    n_steps: int,
    n_frames: int,
    platform: Any,
    minimize_max_iterations: int = 1000,
) -> EquilibriumRun:
    """Minimise and run ``n_steps`` of Langevin dynamics (NPT with a pressure), ``n_frames`` frames.

    ``platform`` is a :class:`fepflow.engine.platforms.PlatformChoice`.
    """
    import copy

    import openmm
    from openmm import unit

    if n_steps < 1 or n_frames < 1:
        raise RestraintError("the restraint's equilibrium run needs at least one step and one frame")
    run_system = copy.deepcopy(system)
    if pressure_bar is not None and run_system.usesPeriodicBoundaryConditions():
        run_system.addForce(openmm.MonteCarloBarostat(pressure_bar * unit.bar, temperature_K * unit.kelvin))
    integrator = openmm.LangevinMiddleIntegrator(
        temperature_K * unit.kelvin, 1.0 / unit.picosecond, timestep_fs * unit.femtosecond
    )
    context = openmm.Context(run_system, integrator, platform.platform, dict(platform.properties))
    try:
        if box_nm is not None:
            context.setPeriodicBoxVectors(*(box_nm * unit.nanometer))
        context.setPositions(positions_nm * unit.nanometer)
        openmm.LocalEnergyMinimizer.minimize(context, 10.0, minimize_max_iterations)
        context.setVelocitiesToTemperature(temperature_K * unit.kelvin)
        atoms = list(recorded_atoms)
        per_frame = max(1, n_steps // n_frames)
        frames = []
        for _ in range(n_frames):
            integrator.step(per_frame)
            xyz = context.getState(getPositions=True).getPositions(asNumpy=True).value_in_unit(unit.nanometer)
            if not np.all(np.isfinite(xyz)):
                raise RestraintError("the restraint's equilibrium run blew up (non-finite positions)")
            frames.append(np.asarray(xyz)[atoms])
        state = context.getState(getPositions=True)
        final = np.asarray(state.getPositions(asNumpy=True).value_in_unit(unit.nanometer))
        box = np.asarray(state.getPeriodicBoxVectors(asNumpy=True).value_in_unit(unit.nanometer))
    finally:
        del context, integrator
    return EquilibriumRun(
        frames_nm=np.asarray(frames),
        final_positions_nm=final,
        final_box_nm=box if box_nm is not None else None,
        simulated_ps=per_frame * n_frames * timestep_fs / 1000.0,
    )
