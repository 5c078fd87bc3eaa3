"""The alchemical path end to end on a tiny explicit-solvent system: one water decoupled from a
small TIP3P box at constant pressure, sampled, extended and analysed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from openmm import unit

from fepflow.analysis.mbar import analyse_storage
from fepflow.engine.alchemical import build_alchemical_states
from fepflow.engine.config import SamplerConfig
from fepflow.engine.platforms import choose_platform
from fepflow.engine.sampling import run_multistate

pytestmark = pytest.mark.slow


def test_decouple_one_water_npt_then_extend(tmp_path: Path) -> None:
    from openmmtools import testsystems

    box = testsystems.WaterBox(box_edge=1.8 * unit.nanometer, cutoff=0.7 * unit.nanometer)
    built = build_alchemical_states(
        box.system, [0, 1, 2], [1.0, 0.5, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.5, 0.0], 300.0, pressure_bar=1.0
    )
    config = SamplerConfig(
        timestep_fs=2.0,
        steps_per_iteration=50,
        equilibration_steps=200,
        production_iterations=6,
        checkpoint_interval_iterations=3,
        minimize_max_iterations=200,
    )
    storage = tmp_path / "solvent.nc"
    platform = choose_platform("CPU", threads=2)
    out = run_multistate(
        built.states,
        box.positions,
        storage,
        config,
        platform,
        box_vectors=box.system.getDefaultPeriodicBoxVectors(),
    )
    assert (out.n_iterations, out.n_states) == (6, 5)
    assert out.minimization_s > 0 and out.equilibration_s > 0
    assert out.ns_per_day > 0

    extended = run_multistate(built.states, box.positions, storage, config, platform, extend_iterations=3)
    assert (extended.n_iterations, extended.iterations_run, extended.resumed) == (9, 3, True)

    energies = extended.reduced_energies()
    assert energies.u_kln.shape == (5, 5, 9)
    assert np.all(np.isfinite(energies.u_kln))
    result = analyse_storage(storage)
    assert np.isfinite(result.dg_kT)
    assert len(result.forward_dg_kT) == 10
