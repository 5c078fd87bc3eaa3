"""What the simulate units share: the platform of a leg, the engine's sampler settings and when a
leg is precise enough to stop."""

from __future__ import annotations

import math

from fepflow.engine.config import SamplerConfig
from fepflow.engine.platforms import PlatformChoice, choose_platform
from fepflow.engine.stopping import StopCheck, Verdict
from fepflow.engine.storage import ReducedEnergies
from fepflow.protocols.common.settings import SimulationSettings

SMALL_SYSTEM_ATOMS = 500
"""Non-periodic systems up to this size (vacuum legs, implicit-solvent small molecules) run on
OpenMM's Reference platform: measured here on a 6-atom molecule in OBC2, 8 µs per step on Reference
against 154 µs on the CPU platform with 1 thread and 664 µs with 2 (thread start-up dominates). For
toluene in OBC2 (15 atoms): 14 µs per step on Reference, 171 µs on CPU with 1 thread; openmmtools'
alchemical version of it cost 1,455 µs on Reference and 301 µs on CPU, which is why such legs are
built from plain forces (:mod:`fepflow.engine.isolated`)."""


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


def precision_check(simulation: SimulationSettings, temperature_K: float) -> StopCheck | None:
    """The engine's stop check for ``simulation.target_error_kcal_mol`` (None without a target).

    At a checkpoint, a leg may stop once it has run ``min_production_iterations`` (at least one
    checkpoint interval), its MBAR uncertainty is at most the target, and the ΔG of the first and
    of the last half of its decorrelated samples agree as the analysis requires (within
    ``FORWARD_REVERSE_SIGMAS`` combined errors or ``FORWARD_REVERSE_FLOOR_KT``).
    """
    from fepflow.analysis.mbar import analyse, kT_kcal_per_mol
    from fepflow.protocols.common.analysis import FORWARD_REVERSE_FLOOR_KT, FORWARD_REVERSE_SIGMAS

    target = simulation.target_error_kcal_mol
    if target is None:
        return None
    minimum = max(1, min(simulation.min_production_iterations, simulation.production_iterations))
    kt = kT_kcal_per_mol(temperature_K)

    def check(energies: ReducedEnergies) -> Verdict:
        n = energies.n_iterations
        if n < minimum:
            return Verdict(False, f"{n} iterations, fewer than the minimum of {minimum}")
        try:
            result = analyse(energies.u_kln, convergence_points=2)  # halves: 50 % and 100 %
        except Exception as exc:  # MBAR failing on few samples: not precise yet
            return Verdict(False, f"MBAR failed on {n} iterations ({exc})")
        error = result.ddg_kT * kt
        forward, reverse = float(result.forward_dg_kT[0]), float(result.reverse_dg_kT[0])
        combined = math.hypot(float(result.forward_ddg_kT[0]), float(result.reverse_ddg_kT[0]))
        agree = abs(forward - reverse) <= max(FORWARD_REVERSE_SIGMAS * combined, FORWARD_REVERSE_FLOOR_KT)
        detail = (
            f"{n} iterations: MBAR error {error:.3f} kcal/mol (target {target:g}); forward and reverse "
            f"halves {forward * kt:+.3f} and {reverse * kt:+.3f} kcal/mol {'agree' if agree else 'disagree'}"
        )
        return Verdict(error <= target and agree, detail)

    return check
