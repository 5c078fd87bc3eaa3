"""Boresch restraints: coordinates, the OpenMM force, and the analytic standard-state correction
against a numerical integration over the six restrained coordinates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fepflow.restraints import (
    STANDARD_VOLUME_NM3,
    BoreschGeometry,
    RestraintError,
    boresch_coordinates,
    numerical_release_free_energy,
    restraint_release_free_energy,
)
from fepflow.restraints.correction import kT_kj_mol, restrained_integral
from fepflow.restraints.geometry import COORDINATES

ANCHORS = np.array(
    [[0.0, 0.9, 0.3], [0.1, 0.0, 0.0], [1.0, 0.05, 0.0], [1.1, 0.55, 0.1], [1.6, 1.0, -0.2], [2.4, 1.1, 0.4]]
)


def _geometry(
    k_r: float = 4184.0, k_angle: float = 41.84, positions: np.ndarray = ANCHORS
) -> BoreschGeometry:
    coords = boresch_coordinates(positions)
    return BoreschGeometry(
        receptor_atoms=(0, 1, 2),
        ligand_atoms=(3, 4, 5),
        values=tuple(float(coords[name]) for name in COORDINATES),  # type: ignore[arg-type]
        force_constants=(k_r, *(k_angle,) * 5),  # type: ignore[arg-type]
    )


def _openmm_energy(geometry: BoreschGeometry, positions: np.ndarray, lambda_value: float) -> float:
    import openmm
    from openmm import unit

    from fepflow.restraints.force import boresch_force

    system = openmm.System()
    for _ in range(6):
        system.addParticle(12.0)
    system.addForce(boresch_force(geometry, periodic=False, lambda_value=lambda_value))
    context = openmm.Context(
        system, openmm.VerletIntegrator(1.0), openmm.Platform.getPlatformByName("Reference")
    )
    context.setPositions(positions * unit.nanometer)
    energy = context.getState(getEnergy=True).getPotentialEnergy()
    return float(energy.value_in_unit(unit.kilojoule_per_mole))


def test_coordinates_of_a_known_geometry() -> None:
    p = np.array([[0, 1, 0], [0, 0, 0], [1, 0, 0], [1.5, 0, 0], [1.5, 1, 0], [1.5, 1, 1]], float)
    c = boresch_coordinates(p)
    assert float(c["r"]) == pytest.approx(0.5)
    assert float(c["theta_a"]) == pytest.approx(math.pi)  # r2-r1-l1 collinear here
    assert float(c["theta_b"]) == pytest.approx(math.pi / 2)
    assert abs(float(c["phi_c"])) == pytest.approx(math.pi / 2)


def test_openmm_force_matches_the_numpy_energy_and_its_dihedral_signs() -> None:
    geometry = _geometry()
    assert _openmm_energy(geometry, ANCHORS, 1.0) == pytest.approx(0.0, abs=1e-6)
    rng = np.random.default_rng(7)
    for _ in range(5):
        moved = ANCHORS + rng.normal(scale=0.15, size=ANCHORS.shape)
        expected = float(geometry.energy_kj_mol(moved))
        assert expected > 1.0
        assert _openmm_energy(geometry, moved, 1.0) == pytest.approx(expected, rel=1e-5)
        assert _openmm_energy(geometry, moved, 0.25) == pytest.approx(0.25 * expected, rel=1e-5)
    mirrored = ANCHORS * np.array([1.0, 1.0, -1.0])  # every dihedral changes sign: energy must rise
    assert _openmm_energy(geometry, mirrored, 1.0) > 1.0


def test_analytic_correction_matches_numerical_integration_over_six_coordinates() -> None:
    """Boresch's eq. 32 against quadrature of Z_r = ∫ e^{-U/kT} r² sinθa sinθb over r, θa, θb, φa, φb,
    φc, for stiff restraints (openfe's defaults, 10 kcal/mol/Å² and 10 kcal/mol/rad²)."""
    geometry = _geometry()
    analytic = restraint_release_free_energy(geometry, 298.15)
    numerical = numerical_release_free_energy(geometry, 298.15)
    assert analytic < -5.0  # releasing the ligand gains entropy: negative by the convention stated
    # the narrow-restraint approximation's error here is the angles' curvature, <sin θ> ≈ sin θ0 (1 - σ²/2)
    # with σ² = kT/K = 0.06 rad²: about 0.03 kcal/mol; ten times stiffer, ten times less
    assert numerical == pytest.approx(analytic, abs=0.05)
    stiff = _geometry(k_r=41840.0, k_angle=418.4)
    assert numerical_release_free_energy(stiff, 298.15) == pytest.approx(
        restraint_release_free_energy(stiff, 298.15), abs=0.005
    )


def test_numerical_integral_by_a_grid_over_the_six_coordinates() -> None:
    """The same Z_r on an independent 6-D grid (no factorisation assumed by the integrator)."""
    geometry = _geometry(k_r=2000.0, k_angle=60.0)
    kT = kT_kj_mol(300.0)
    sigmas = [math.sqrt(kT / k) for k in geometry.force_constants]
    axes = [np.linspace(x0 - 6 * s, x0 + 6 * s, 11) for x0, s in zip(geometry.values, sigmas, strict=True)]
    grids = np.meshgrid(*axes, indexing="ij")
    energy = sum(
        0.5 * k * (g - x0) ** 2
        for g, x0, k in zip(grids, geometry.values, geometry.force_constants, strict=True)
    )
    jacobian = grids[0] ** 2 * np.sin(grids[1]) * np.sin(grids[2])
    volume = math.prod(float(a[1] - a[0]) for a in axes)
    z_grid = float(np.sum(jacobian * np.exp(-energy / kT)) * volume)
    assert z_grid == pytest.approx(restrained_integral(geometry, 300.0), rel=2e-3)
    expected = -kT * math.log(8 * math.pi**2 * STANDARD_VOLUME_NM3 / z_grid) / 4.184
    assert restraint_release_free_energy(geometry, 300.0) == pytest.approx(expected, abs=0.05)


def test_soft_restraints_leave_the_narrow_approximation() -> None:
    """The analytic form assumes narrow restraints: with soft angles the two forms part (so the
    comparison above can fail), and the numerical one is what a soft restraint needs."""
    soft = _geometry(k_r=200.0, k_angle=2.0)
    assert (
        abs(numerical_release_free_energy(soft, 298.15) - restraint_release_free_energy(soft, 298.15)) > 0.1
    )


def test_standard_volume_and_temperature_dependence() -> None:
    geometry = _geometry()
    assert abs(STANDARD_VOLUME_NM3 - 1.66054) < 1e-5
    # a ten times larger reference volume lowers ΔG by kT ln 10
    shift = restraint_release_free_energy(
        geometry, 298.15, 10 * STANDARD_VOLUME_NM3
    ) - restraint_release_free_energy(geometry, 298.15)
    assert shift == pytest.approx(-kT_kj_mol(298.15) * math.log(10) / 4.184, rel=1e-9)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("force_constants", (1.0, 1.0, 0.0, 1.0, 1.0, 1.0), "positive"),
        ("values", (0.5, 0.0, 1.0, 0.0, 0.0, 0.0), "theta_a"),
        ("ligand_atoms", (2, 4, 5), "distinct"),
    ],
)
def test_bad_geometries_are_refused(field: str, value: tuple, message: str) -> None:
    data = _geometry().to_dict()
    data[field] = value
    with pytest.raises(RestraintError, match=message):
        BoreschGeometry.from_dict(data)


def test_geometry_round_trips_through_its_record() -> None:
    geometry = _geometry()
    record = geometry.to_dict()
    assert BoreschGeometry.from_dict(record) == geometry
    assert record["by_coordinate"]["r"]["unit"] == "nm"


def test_restrained_states_survive_openmmtools_storage() -> None:
    """The composable state with lambda_restraints round-trips through openmmtools' serialisation (a
    resumed run reads its states back from the NetCDF storage this way)."""
    import openmm
    from openmmtools import utils

    from fepflow.restraints.states import restrained_alchemical_states

    system = openmm.System()
    nonbonded = openmm.NonbondedForce()
    for _ in range(6):
        system.addParticle(12.0)
        nonbonded.addParticle(0.0, 0.3, 0.1)
    system.addForce(nonbonded)
    states = restrained_alchemical_states(
        system, [3, 4, 5], _geometry(), (0.0, 1.0, 1.0), (1.0, 1.0, 0.0), (1.0, 1.0, 0.0), 300.0, None
    )
    assert [s.lambda_restraints for s in states] == [0.0, 1.0, 1.0]
    assert [s.lambda_electrostatics for s in states] == [1.0, 1.0, 0.0]
    restored = utils.deserialize(utils.serialize(states[0]))
    assert restored.lambda_restraints == 0.0 and restored.lambda_sterics == 1.0
    with pytest.raises(RestraintError, match="lambda_restraints values"):
        restrained_alchemical_states(
            system, [3, 4, 5], _geometry(), (0.0, 1.0), (1.0, 1.0, 0.0), (1.0, 1.0, 0.0), 300.0, None
        )
