"""Minimise once and equilibrate with plain MD at state 0, before the sampler is created.

openmmtools' ``sampler.minimize()`` minimises every replica separately; minimising once at state
0 and copying the result to every replica costs one minimisation instead of n_states.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import openmm
from openmm import unit

from fepflow.engine.config import SamplerConfig
from fepflow.engine.errors import SimulationError
from fepflow.engine.platforms import PlatformChoice

EQUILIBRATION_CHUNK_STEPS = 1000


def _as_quantity(positions: Any) -> unit.Quantity:
    if unit.is_quantity(positions):
        return positions
    return np.asarray(positions, dtype=float) * unit.nanometer


def prepare_start(
    state: Any, positions: Any, box_vectors: Any, config: SamplerConfig, platform: PlatformChoice
) -> tuple[Any, float, float]:
    """Minimise once and equilibrate at ``state`` (constant pressure if the state has one).

    Parameters
    ----------
    state : openmmtools.states.ThermodynamicState
        State 0 of the run.
    positions : openmm.unit.Quantity or array-like (nm)
        Starting positions.
    box_vectors : optional
        Starting box vectors (the System's defaults when None).
    config : SamplerConfig
        Minimisation and equilibration settings, timestep and friction.
    platform : PlatformChoice
        Where the Context is created.

    Returns
    -------
    tuple
        The equilibrated ``SamplerState`` (positions, velocities, box), minimisation seconds and
        equilibration seconds.

    Raises
    ------
    SimulationError
        Non-finite energy after minimisation or during equilibration.
    """
    from openmmtools.states import SamplerState

    temperature = state.temperature
    integrator = openmm.LangevinMiddleIntegrator(
        temperature, config.collision_rate_per_ps / unit.picosecond, config.timestep_fs * unit.femtosecond
    )
    context = state.create_context(integrator, platform.platform, dict(platform.properties))
    try:
        if box_vectors is not None:
            context.setPeriodicBoxVectors(*box_vectors)
        context.setPositions(_as_quantity(positions))
        start = time.perf_counter()
        if config.minimize:
            tolerance = config.minimize_tolerance_kj_per_mol_nm * unit.kilojoule_per_mole / unit.nanometer
            openmm.LocalEnergyMinimizer.minimize(context, tolerance, config.minimize_max_iterations)
            check_finite(context, "minimization")
        minimized = time.perf_counter()
        context.setVelocitiesToTemperature(temperature)
        remaining = config.equilibration_steps
        while remaining > 0:
            chunk = min(remaining, EQUILIBRATION_CHUNK_STEPS)
            try:
                integrator.step(chunk)
            except openmm.OpenMMException as exc:
                raise SimulationError(str(exc), state_index=0, iteration=None, phase="equilibration") from exc
            check_finite(context, "equilibration")
            remaining -= chunk
        equilibrated = time.perf_counter()
        sampler_state = SamplerState.from_context(context)
    finally:
        del context
    return sampler_state, minimized - start, equilibrated - minimized


def check_finite(context: openmm.Context, phase: str) -> None:
    """Raise :class:`SimulationError` (state 0, ``phase``) if the Context's energy is not finite."""
    energy = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    if not np.isfinite(energy):
        raise SimulationError(f"potential energy is {energy}", state_index=0, iteration=None, phase=phase)
