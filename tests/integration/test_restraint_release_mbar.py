"""The exact machinery test of absolute binding: a rigid three-atom "ligand" held by a Boresch
restraint to three fixed "receptor" particles, with no interactions at all (fully decoupled), its
anchor l1 kept within a sphere around r1 by a flat-bottomed wall (in every state; effective volume V,
integrated numerically). The free energy of switching the restraint on (the OpenMM force's
``lambda_restraints`` 0 -> 1), sampled with Langevin dynamics at each lambda and estimated by
fepflow's MBAR analysis, is exactly ``kT ln(8π² V / Z_r)``: minus the analytic release free energy of
:mod:`fepflow.restraints.correction` with V as reference volume. (A periodic box would not do: a
restraint softened at small lambda reaches the minimum-image boundary, where its energy jumps.) (The openmmtools
states of the protocol's legs are exercised by the protocol's smoke run; here each state is sampled
by its own Context to keep the test to seconds.)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from fepflow.restraints import BoreschGeometry, boresch_coordinates, restraint_release_free_energy
from fepflow.restraints.correction import numerical_release_free_energy
from fepflow.restraints.geometry import COORDINATES

WALL_NM = 1.2
WALL_K = 20000.0
TEMPERATURE_K = 300.0
RECEPTOR = np.array([[0.2, 0.9, 0.5], [0.3, 0.0, 0.2], [0.8, 0.05, 0.2]])
LIGAND = np.array([[0.9, 0.55, 0.3], [1.3, 0.85, 0.1], [1.35, 0.6, 0.5]])
LAMBDAS = (0.0, 0.004, 0.008, 0.016, 0.03, 0.06, 0.12, 0.22, 0.4, 0.65, 1.0)
SAMPLES, STEPS, SKIPPED = 1200, 25, 50


def _geometry() -> BoreschGeometry:
    coords = boresch_coordinates(np.vstack([RECEPTOR, LIGAND]))
    return BoreschGeometry(
        receptor_atoms=(0, 1, 2),
        ligand_atoms=(3, 4, 5),
        values=tuple(float(coords[name]) for name in COORDINATES),  # type: ignore[arg-type]
        force_constants=(1000.0, 250.0, 250.0, 250.0, 250.0, 250.0),
    )


def _context(geometry: BoreschGeometry) -> Any:
    """Three massless (fixed) receptor particles and a rigid triangle of 12 amu atoms held by the
    restraint (force group 1) and the wall (group 0); nothing else acts (the ligand is fully decoupled)."""
    import openmm
    from openmm import unit

    from fepflow.restraints.force import boresch_force

    system = openmm.System()
    for mass in (0.0, 0.0, 0.0, 12.0, 12.0, 12.0):
        system.addParticle(mass)
    for i, j in ((3, 4), (4, 5), (3, 5)):
        system.addConstraint(i, j, float(np.linalg.norm(LIGAND[i - 3] - LIGAND[j - 3])))
    wall = openmm.CustomBondForce(f"step(r - {WALL_NM})*{WALL_K}*(r - {WALL_NM})^2")
    wall.addBond(2, 3, [])
    system.addForce(wall)
    system.addForce(boresch_force(geometry, periodic=False))
    integrator = openmm.LangevinMiddleIntegrator(TEMPERATURE_K, 1.0, 0.004)
    integrator.setRandomNumberSeed(2024)
    system.getForce(1).setForceGroup(1)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("Reference"))
    context.setPositions(np.vstack([RECEPTOR, LIGAND]) * unit.nanometer)
    return context


def _restraint_energies(context: Any, lambda_value: float) -> np.ndarray:
    """Samples at ``lambda_value``: the full restraint's energy (kJ/mol) of each."""
    from openmm import unit

    energies = np.empty(SAMPLES)
    context.setVelocitiesToTemperature(TEMPERATURE_K, 7)
    for n in range(SAMPLES + SKIPPED):
        context.setParameter("lambda_restraints", lambda_value)
        context.getIntegrator().step(STEPS)
        context.setParameter("lambda_restraints", 1.0)
        if n >= SKIPPED:
            energy = context.getState(getEnergy=True, groups={1}).getPotentialEnergy()
            energies[n - SKIPPED] = energy.value_in_unit(unit.kilojoule_per_mole)
    return energies


def _wall_volume_nm3() -> float:
    """∫ exp(-U_wall/kT) d³x: the volume the free anchor explores."""
    from scipy import integrate

    from fepflow.restraints.correction import kT_kj_mol

    kT = kT_kj_mol(TEMPERATURE_K)
    outside, _ = integrate.quad(lambda x: (WALL_NM + x) ** 2 * math.exp(-WALL_K * x * x / kT), 0.0, 1.0)
    return 4.0 * math.pi * (WALL_NM**3 / 3.0 + outside)


def test_mbar_restraint_free_energy_matches_the_analytic_correction() -> None:
    from fepflow.analysis.mbar import analyse, kT_kcal_per_mol
    from fepflow.restraints.correction import kT_kj_mol

    geometry = _geometry()
    context = _context(geometry)
    restraint = np.array([_restraint_energies(context, value) for value in LAMBDAS])  # (k, n)
    u_kln = np.array(LAMBDAS)[None, :, None] * restraint[:, None, :] / kT_kj_mol(TEMPERATURE_K)
    result = analyse(u_kln)
    kT = kT_kcal_per_mol(TEMPERATURE_K)
    mbar_on, error = result.dg_kT * kT, result.ddg_kT * kT
    volume = _wall_volume_nm3()
    analytic_on = -restraint_release_free_energy(geometry, TEMPERATURE_K, volume)
    exact_on = -numerical_release_free_energy(geometry, TEMPERATURE_K, volume)
    assert abs(exact_on - analytic_on) < 0.02  # the restraint is narrow: the analytic form holds
    assert analytic_on > 5.0  # switching the restraint on costs entropy
    print(f"MBAR {mbar_on:.3f} ± {error:.3f}, analytic {analytic_on:.3f}, exact {exact_on:.3f} kcal/mol")
    assert mbar_on == pytest.approx(analytic_on, abs=max(3.0 * error, 0.05)), (mbar_on, error, analytic_on)
    assert error < 0.25
    assert result.min_neighbour_overlap > 0.01
