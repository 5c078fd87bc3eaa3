"""States of a molecule alone from scaled charges: openmmtools' end states, energies quadratic in λ."""

from __future__ import annotations

import numpy as np
import openmm
import pytest
from openmm import unit

from fepflow.engine.alchemical import build_alchemical_states
from fepflow.engine.isolated import isolated_molecule

ELECTROSTATICS = [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
STERICS = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0]


@pytest.fixture(scope="module")
def phenol_legs() -> dict[str, object]:
    from fepflow.chemistry import build_implicit, build_vacuum
    from fepflow.data.freesolv import published_parameters

    params = published_parameters("phenol")
    return {
        "implicit": build_implicit(params, hydrogen_mass_amu=3.0),
        "vacuum": build_vacuum(params, hydrogen_mass_amu=3.0),
    }


def _energies(states: list, positions: object) -> np.ndarray:
    platform = openmm.Platform.getPlatformByName("Reference")
    out = []
    for state in states:
        context = state.create_context(openmm.VerletIntegrator(0.001), platform)
        context.setPositions(positions)
        out.append(
            context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
        )
    return np.array(out)


@pytest.mark.parametrize("leg", ["implicit", "vacuum"])
def test_end_states_equal_openmmtools_and_energy_is_quadratic_in_lambda(phenol_legs, leg) -> None:  # type: ignore[no-untyped-def]
    built = phenol_legs[leg]
    assert isolated_molecule(built.system, built.ligand_atoms)
    plain = build_alchemical_states(built.system, built.ligand_atoms, ELECTROSTATICS, STERICS, 298.15)
    custom = build_alchemical_states(
        built.system, built.ligand_atoms, ELECTROSTATICS, STERICS, 298.15, plain_forces_when_isolated=False
    )
    names = {f.__class__.__name__ for f in plain.system.getForces()}
    assert not any(name.startswith("Custom") for name in names)
    assert any(f.__class__.__name__.startswith("Custom") for f in custom.system.getForces())
    rng = np.random.default_rng(3)
    positions = np.asarray(built.positions.value_in_unit(unit.nanometer))
    for _ in range(2):  # the built geometry and a distorted one
        e_plain, e_custom = _energies(plain.states, positions), _energies(custom.states, positions)
        # the same Hamiltonians at both ends (OBC2 as GBSAOBCForce vs openmmtools' CustomGBForce: 1e-4 kJ/mol)
        assert e_plain[0] == pytest.approx(e_custom[0], abs=1e-3)
        assert e_plain[-1] == pytest.approx(e_custom[-1], abs=1e-3)
        # exactly a + b λ + c λ² (charges scale with λ; Born radii do not depend on them)
        lam = np.array(ELECTROSTATICS[:5])
        fit = np.polyval(np.polyfit(lam[[0, 2, 4]], e_plain[[0, 2, 4]], 2), lam)
        assert np.max(np.abs(fit - e_plain[:5])) < 1e-8 * max(1.0, np.max(np.abs(e_plain)))
        positions = positions + rng.normal(0.0, 0.01, positions.shape)


def test_periodic_or_partial_regions_use_openmmtools(phenol_legs) -> None:  # type: ignore[no-untyped-def]
    built = phenol_legs["vacuum"]
    atoms = list(built.ligand_atoms)
    assert not isolated_molecule(built.system, atoms[:-1])
    states = build_alchemical_states(built.system, atoms[:-1], ELECTROSTATICS, STERICS, 298.15)
    assert type(states.states[0]).__name__ == "CompoundThermodynamicState"


def test_energy_matrix_rows_from_three_states_equal_direct_evaluation(phenol_legs, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openmmtools.cache import ContextCache

    from fepflow.engine.config import SamplerConfig
    from fepflow.engine.isolated import QuadraticEnergies
    from fepflow.engine.platforms import choose_platform
    from fepflow.engine.sampling import run_multistate
    from fepflow.engine.storage import open_reporter

    built = phenol_legs["implicit"]
    states = build_alchemical_states(built.system, built.ligand_atoms, ELECTROSTATICS, STERICS, 298.15).states
    plan = QuadraticEnergies.plan(states)
    assert plan is not None and len(set(plan.basis)) == 3
    custom = build_alchemical_states(
        built.system, built.ligand_atoms, ELECTROSTATICS, STERICS, 298.15, plain_forces_when_isolated=False
    )
    assert QuadraticEnergies.plan(custom.states) is None  # openmmtools' compound states: evaluated directly
    assert QuadraticEnergies.plan(states[3:]) is None  # two distinct λ: nothing to save

    platform = choose_platform("Reference")
    config = SamplerConfig(
        timestep_fs=2.0, steps_per_iteration=50, production_iterations=2, checkpoint_interval_iterations=1
    )
    storage = tmp_path / "leg.nc"
    run_multistate(states, built.positions, storage, config, platform)
    cache = ContextCache(platform=platform.platform)
    with open_reporter(storage) as reporter:
        stored, _, _ = reporter.read_energies()
        sampler_states = reporter.read_sampler_states(iteration=2)
    for replica, sampler_state in enumerate(sampler_states):  # the stored rows were interpolated
        direct = []
        for state in states:
            context, _ = cache.get_context(state)
            sampler_state.apply_to_context(context, ignore_velocities=True)
            direct.append(state.reduced_potential(context))
        # stored positions are float32: the stored row, from the float64 ones, agrees to ~1e-6 kT
        assert np.allclose(stored[2][replica], direct, rtol=0, atol=1e-4)
        assert np.allclose(
            plan.reduced_potentials(states, sampler_state, cache), direct, rtol=1e-9, atol=1e-9
        )
