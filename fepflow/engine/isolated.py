"""Alchemical states of a molecule alone (vacuum, or implicit solvent), with plain OpenMM forces.

When every particle is alchemical and there is no periodic box, decoupling the molecule as
:func:`fepflow.engine.alchemical.build_alchemical_states` asks openmmtools to (electrostatics
annihilated, intra-molecular Lennard-Jones kept) amounts to switching its charges off: there is no
environment for the sterics to be decoupled from. openmmtools' factory builds the same thing out of
custom forces, which cost about 100 x the plain ones here (toluene in GBSA-OBC2 on the Reference
platform: 1.45 ms against 14 us per step; 0.30 ms on the CPU platform). So state ``k`` is the
original System with

- ``NonbondedForce``: charges ``λ q_i``, exception charge products ``λ² q_i q_j`` (LJ unchanged);
- ``GBSAOBCForce``: charges ``λ q_i`` and its surface-area (nonpolar) energy scaled by ``λ``, as
  openmmtools scales the nonpolar term with ``lambda_electrostatics``;

with ``λ = lambda_electrostatics``; ``lambda_sterics`` changes nothing, in openmmtools' states as
here. The end states are exactly openmmtools' (tested); in between, openmmtools also scales the
Born-radius descreening with λ, which changes the path but not ΔG. Born radii do not depend on
charges, so the energy of a configuration is exactly ``a + b λ + c λ²``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import openmm
from openmm import unit

SUPPORTED_FORCES = (
    openmm.HarmonicBondForce,
    openmm.HarmonicAngleForce,
    openmm.PeriodicTorsionForce,
    openmm.NonbondedForce,
    openmm.GBSAOBCForce,
    openmm.CMMotionRemover,
)
"""Forces a molecule alone may hold for the plain-force states; anything else goes to openmmtools."""


def _plain(force: openmm.Force) -> bool:
    if not isinstance(force, SUPPORTED_FORCES):
        return False
    if isinstance(force, openmm.NonbondedForce):
        return (
            force.getNumGlobalParameters() == 0
            and force.getNumParticleParameterOffsets() == 0
            and force.getNumExceptionParameterOffsets() == 0
        )
    return True


def isolated_molecule(system: openmm.System, alchemical_atoms: Sequence[int]) -> bool:
    """Whether ``alchemical_atoms`` is the whole of a non-periodic System made of plain forces only."""
    return (
        not system.usesPeriodicBoundaryConditions()
        and set(alchemical_atoms) == set(range(system.getNumParticles()))
        and all(_plain(force) for force in system.getForces())
    )


def scaled_charges(system: openmm.System, scale: float) -> openmm.System:
    """A copy of ``system`` with every charge scaled by ``scale`` (see the module docstring)."""
    scaled = copy.deepcopy(system)
    for force in scaled.getForces():
        if isinstance(force, openmm.NonbondedForce):
            for i in range(force.getNumParticles()):
                charge, sigma, epsilon = force.getParticleParameters(i)
                force.setParticleParameters(i, charge * scale, sigma, epsilon)
            for k in range(force.getNumExceptions()):
                i, j, charge_product, sigma, epsilon = force.getExceptionParameters(k)
                force.setExceptionParameters(k, i, j, charge_product * scale**2, sigma, epsilon)
        elif isinstance(force, openmm.GBSAOBCForce):
            for i in range(force.getNumParticles()):
                charge, radius, screening = force.getParticleParameters(i)
                force.setParticleParameters(i, charge * scale, radius, screening)
            force.setSurfaceAreaEnergy(force.getSurfaceAreaEnergy() * scale)
    return scaled


def isolated_states(
    system: openmm.System, electrostatics: Sequence[float], temperature_K: float
) -> list[Any]:
    """One ``ThermodynamicState`` per ``lambda_electrostatics`` value, each with its own System
    (states with the same value share a System, hence a Context)."""
    from openmmtools.states import ThermodynamicState

    systems: dict[float, openmm.System] = {}
    states = []
    for value in electrostatics:
        scale = float(value)
        if scale not in systems:
            systems[scale] = system if scale == 1.0 else scaled_charges(system, scale)
        states.append(ThermodynamicState(systems[scale], temperature=temperature_K * unit.kelvin))
    return states
