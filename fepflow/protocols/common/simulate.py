"""What the simulate units share: the platform of a leg and the engine's sampler settings."""

from __future__ import annotations

from fepflow.engine.config import SamplerConfig
from fepflow.engine.platforms import PlatformChoice, choose_platform
from fepflow.protocols.common.settings import SimulationSettings

SMALL_SYSTEM_ATOMS = 500
"""Non-periodic systems up to this size (vacuum legs, implicit-solvent small molecules) run on
OpenMM's Reference platform: measured here on a 6-atom molecule in OBC2, 8 µs per step on Reference
against 154 µs on the CPU platform with 1 thread and 664 µs with 2 (thread start-up dominates)."""


def leg_platform(n_atoms: int, periodic: bool, chosen: PlatformChoice) -> PlatformChoice:
    """The platform for one leg: Reference for small non-periodic systems, else ``chosen``."""
    if not periodic and n_atoms <= SMALL_SYSTEM_ATOMS and chosen.name in ("CPU", "OpenCL", "CUDA"):
        return choose_platform("Reference")
    return chosen


def sampler_config(simulation: SimulationSettings) -> SamplerConfig:
    """The engine's sampler settings from the protocol's simulation settings."""
    return SamplerConfig(
        method=simulation.sampler,
        timestep_fs=simulation.timestep_fs,
        collision_rate_per_ps=simulation.collision_rate_per_ps,
        steps_per_iteration=simulation.steps_per_iteration,
        equilibration_steps=round(simulation.equilibration_ps * 1000.0 / simulation.timestep_fs),
        production_iterations=simulation.production_iterations,
        checkpoint_interval_iterations=simulation.checkpoint_interval_iterations,
        minimize_max_iterations=simulation.minimize_max_iterations,
    )
