"""Analytically solvable multistate systems that validate the sampling and analysis path.

``harmonic_oscillator_states`` builds N independent 3D harmonic oscillators whose force constant
changes from state to state. The configurational free energy difference between states i and j is
exactly ``(3 / 2) * N * ln(K_j / K_i)`` kT, for any mass and timestep of a BAOAB (Langevin middle)
integrator, whose configurational sampling of a harmonic oscillator is exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import openmm
from openmm import unit


@dataclass(frozen=True)
class HarmonicReference:
    """States, starting positions and the exact answer.

    Attributes
    ----------
    states : list of openmmtools.states.ThermodynamicState
        One per force constant.
    positions : numpy.ndarray, shape (n_particles, 3)
        Starting positions, nm (all particles at their minimum).
    force_constants_kT_per_nm2 : tuple of float
        Force constant of each state, in kT/nm^2.
    n_particles : int
        Number of oscillators.
    """

    states: list
    positions: np.ndarray
    force_constants_kT_per_nm2: tuple[float, ...]
    n_particles: int

    def exact_dg_kT(self, i: int = 0, j: int = -1) -> float:
        """Exact reduced free energy difference F_j - F_i, in kT."""
        k = self.force_constants_kT_per_nm2
        return 1.5 * self.n_particles * math.log(k[j] / k[i])


def harmonic_oscillator_states(
    force_constants_kT_per_nm2: Sequence[float],
    *,
    n_particles: int = 2,
    mass_amu: float = 1.0,
    temperature_K: float = 300.0,
) -> HarmonicReference:
    """Build one System (and ThermodynamicState) per force constant.

    Parameters
    ----------
    force_constants_kT_per_nm2 : sequence of float
        Force constant of each state, in units of kT/nm^2 at ``temperature_K``.
    n_particles : int
        Number of independent oscillators.
    mass_amu : float
        Particle mass (does not change the free energy, only the dynamics).
    temperature_K : float
        Temperature of every state.

    Returns
    -------
    HarmonicReference
    """
    from openmmtools.states import ThermodynamicState

    if len(force_constants_kT_per_nm2) < 2 or min(force_constants_kT_per_nm2) <= 0:
        raise ValueError("need at least two positive force constants")
    kT = (unit.MOLAR_GAS_CONSTANT_R * temperature_K * unit.kelvin).value_in_unit(unit.kilojoule_per_mole)
    positions = np.zeros((n_particles, 3))
    states = []
    for k_reduced in force_constants_kT_per_nm2:
        system = openmm.System()
        force = openmm.CustomExternalForce("0.5*K*(x*x + y*y + z*z)")
        force.addGlobalParameter("K", k_reduced * kT)
        for i in range(n_particles):
            system.addParticle(mass_amu)
            force.addParticle(i, [])
        system.addForce(force)
        states.append(ThermodynamicState(system, temperature=temperature_K * unit.kelvin))
    return HarmonicReference(
        states=states,
        positions=positions,
        force_constants_kT_per_nm2=tuple(float(k) for k in force_constants_kT_per_nm2),
        n_particles=n_particles,
    )
