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


class QuadraticEnergies:
    """Reduced potentials of every state from three, for states that differ only in scaled charges.

    ``u_k(x) = a(x) + b(x) λ_k + c(x) λ_k²`` exactly (module docstring), so a replica's row of the
    energy matrix needs its energy at three distinct λ only; the rest are interpolated (Lagrange
    weights). Build it with :meth:`plan`, which returns None unless every state is a plain
    ``ThermodynamicState`` of one temperature, no pressure, and a System that is exactly the most
    charged state's with its charges scaled (:func:`scaled_charges`, compared as serialized XML), with
    at least four distinct λ (below that nothing is saved).
    """

    def __init__(self, scales: Sequence[float], basis: Sequence[int]) -> None:
        import numpy as np

        self.basis = tuple(basis)
        x = [float(scales[i]) for i in self.basis]
        weights = np.zeros((len(scales), 3))
        for k, s in enumerate(scales):
            for j in range(3):
                others = [x[m] for m in range(3) if m != j]
                weights[k, j] = (s - others[0]) * (s - others[1]) / ((x[j] - others[0]) * (x[j] - others[1]))
        self.weights = weights

    @classmethod
    def plan(cls, states: Sequence[Any]) -> QuadraticEnergies | None:
        """The plan for ``states``, or None where interpolation does not apply (see the class)."""
        from openmmtools.states import ThermodynamicState

        if any(type(s) is not ThermodynamicState or s.pressure is not None for s in states):
            return None
        if len({s.temperature.value_in_unit(unit.kelvin) for s in states}) != 1:
            return None
        systems = [s.system for s in states]
        reference = max(range(len(states)), key=lambda i: _charge_scale(systems[i], systems[0]) or 0.0)
        scales = [_charge_scale(system, systems[reference]) for system in systems]
        if any(s is None for s in scales) or len(set(scales)) < 4:
            return None
        plain = [float(s) for s in scales if s is not None]
        expected = {
            s: openmm.XmlSerializer.serialize(scaled_charges(systems[reference], s)) for s in set(plain)
        }
        if any(
            openmm.XmlSerializer.serialize(system) != expected[s]
            for system, s in zip(systems, plain, strict=True)
        ):
            return None
        distinct = sorted(set(plain))
        chosen = (distinct[0], distinct[len(distinct) // 2], distinct[-1])
        return cls(plain, [plain.index(s) for s in chosen])

    def reduced_potentials(self, states: Sequence[Any], sampler_state: Any, context_cache: Any) -> Any:
        """Every state's reduced potential of ``sampler_state``, from the three basis states."""
        import numpy as np

        basis = np.empty(3)
        for j, index in enumerate(self.basis):
            context, _ = context_cache.get_context(states[index])
            sampler_state.apply_to_context(context, ignore_velocities=True)
            basis[j] = states[index].reduced_potential(context)
        return self.weights @ basis


def _charge_scale(system: openmm.System, reference: openmm.System) -> float | None:
    """``q / q_reference`` of the most charged particle of ``reference``'s NonbondedForce."""
    forces = [f for f in system.getForces() if isinstance(f, openmm.NonbondedForce)]
    reference_forces = [f for f in reference.getForces() if isinstance(f, openmm.NonbondedForce)]
    if len(forces) != 1 or len(reference_forces) != 1:
        return None
    charges = [
        reference_forces[0].getParticleParameters(i)[0].value_in_unit(unit.elementary_charge)
        for i in range(reference_forces[0].getNumParticles())
    ]
    if not charges or max(abs(q) for q in charges) == 0.0:
        return None
    atom = max(range(len(charges)), key=lambda i: abs(charges[i]))
    ratio = forces[0].getParticleParameters(atom)[0].value_in_unit(unit.elementary_charge) / charges[atom]
    return round(float(ratio), 12)  # the λ the schedule gave, so that scaling again reproduces it exactly
