"""Alchemical states: schedule validation, state 0 is the original system, the last state decoupled."""

from __future__ import annotations

import numpy as np
import openmm
import pytest
from openmm import unit

from fepflow.engine.alchemical import build_alchemical_states, has_barostat, validate_schedule
from fepflow.engine.errors import ScheduleError

ELEC = [1.0, 0.5, 0.0, 0.0, 0.0]
STER = [1.0, 1.0, 1.0, 0.5, 0.0]


@pytest.fixture(scope="module")
def water_box():  # type: ignore[no-untyped-def]
    from openmmtools import testsystems

    return testsystems.WaterBox(box_edge=2.0 * unit.nanometer)  # PME, 774 atoms


def _energy(target, positions, box=None) -> float:  # type: ignore[no-untyped-def]
    """Potential energy (kJ/mol, Reference platform) of an openmm.System or a ThermodynamicState."""
    platform = openmm.Platform.getPlatformByName("Reference")
    if isinstance(target, openmm.System):
        context = openmm.Context(target, openmm.VerletIntegrator(0.001), platform)
    else:
        context = target.create_context(openmm.VerletIntegrator(0.001), platform)
    if box is not None:
        context.setPeriodicBoxVectors(*box)
    context.setPositions(positions)
    return float(context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole))


@pytest.mark.parametrize(
    ("elec", "ster", "match"),
    [
        ([], [], "empty"),
        ([1.0, 0.0], [1.0, 0.5, 0.0], "lengths differ"),
        ([1.0], [1.0], "at least two"),
        ([0.5, 0.0], [1.0, 0.0], "state 0 must be fully coupled"),
        ([1.0, 0.0, 0.0], [1.0, 1.0, 0.2], "last state must be fully decoupled"),
        ([1.0, 0.5, 0.0], [1.0, 0.5, 0.0], "switch electrostatics off first"),
        ([1.0, 1.5, 0.0], [1.0, 1.0, 0.0], r"\[0, 1\]"),
    ],
)
def test_schedule_errors(elec: list[float], ster: list[float], match: str) -> None:
    with pytest.raises(ScheduleError, match=match):
        validate_schedule(elec, ster)


def test_other_bad_inputs(water_box) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScheduleError, match="empty"):
        build_alchemical_states(water_box.system, [], ELEC, STER, 300.0)
    with pytest.raises(ScheduleError, match="within"):
        build_alchemical_states(water_box.system, [0, 10_000], ELEC, STER, 300.0)


def test_states_and_lambdas(water_box) -> None:  # type: ignore[no-untyped-def]
    built = build_alchemical_states(water_box.system, [0, 1, 2], ELEC, STER, 300.0, pressure_bar=1.0)
    assert len(built.states) == 5
    assert [s.lambda_electrostatics for s in built.states] == ELEC
    assert [s.lambda_sterics for s in built.states] == STER
    assert all(s.temperature == 300.0 * unit.kelvin for s in built.states)
    assert all(s.pressure == 1.0 * unit.bar for s in built.states)
    assert has_barostat(built.system)
    assert not has_barostat(water_box.system)  # the input is not modified


def test_end_states_in_explicit_solvent(water_box) -> None:  # type: ignore[no-untyped-def]
    """State 0 reproduces the original PME energy; at the last state, translating the ligand
    (one water) changes nothing, while at state 0 it does."""
    ligand = [0, 1, 2]
    built = build_alchemical_states(water_box.system, ligand, ELEC, STER, 300.0)
    box = water_box.system.getDefaultPeriodicBoxVectors()
    positions = water_box.positions
    moved = positions.value_in_unit(unit.nanometer).copy()
    moved[ligand] += np.array([0.31, 0.17, 0.05])
    moved_q = moved * unit.nanometer

    original = _energy(water_box.system, positions, box)
    coupled = _energy(built.states[0], positions, box)
    assert coupled == pytest.approx(original, abs=0.01)

    decoupled = _energy(built.states[-1], positions, box)
    decoupled_moved = _energy(built.states[-1], moved_q, box)
    assert decoupled_moved - decoupled == pytest.approx(0.0, abs=1e-3)
    assert abs(_energy(built.states[0], moved_q, box) - coupled) > 1.0
    # Halfway through sterics the ligand still feels its environment.
    assert abs(_energy(built.states[3], moved_q, box) - _energy(built.states[3], positions, box)) > 1e-2


def test_state_zero_in_vacuum() -> None:
    from openmmtools import testsystems

    toluene = testsystems.TolueneVacuum()
    atoms = list(range(toluene.system.getNumParticles()))
    built = build_alchemical_states(toluene.system, atoms, ELEC, STER, 298.15)
    original = _energy(toluene.system, toluene.positions)
    assert _energy(built.states[0], toluene.positions) == pytest.approx(original, abs=1e-6)
    with pytest.raises(ScheduleError, match="non-periodic"):
        build_alchemical_states(toluene.system, atoms, ELEC, STER, 298.15, pressure_bar=1.0)
