"""The whole path (run_multistate -> storage -> analysis.mbar) against an exact free energy.

Independent 3D harmonic oscillators whose force constant changes between states:
ΔF = (3/2) N kT ln(K_last / K_0), exactly, and BAOAB samples their configurations exactly at any
stable timestep. The estimate must agree within its own 3σ and within 0.05 kT.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fepflow.analysis.mbar import analyse_storage
from fepflow.engine.config import SamplerConfig
from fepflow.engine.platforms import choose_platform
from fepflow.engine.reference import harmonic_oscillator_states
from fepflow.engine.sampling import run_multistate

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("method", ["replica-exchange", "independent"])
def test_harmonic_free_energy_is_exact(tmp_path: Path, method: str) -> None:
    reference = harmonic_oscillator_states(np.geomspace(1000.0, 2000.0, 3).tolist(), n_particles=1)
    config = SamplerConfig(
        method=method,  # type: ignore[arg-type]
        timestep_fs=10.0,  # omega*dt = 0.5..0.7: stable, and BAOAB's configurations stay exact
        collision_rate_per_ps=100.0,  # nearly full velocity refresh: ~independent iterations
        steps_per_iteration=10,
        equilibration_steps=100,
        production_iterations=1500,
        checkpoint_interval_iterations=100,
    )
    outcome = run_multistate(
        reference.states, reference.positions, tmp_path / "ho.nc", config, choose_platform("Reference")
    )
    assert outcome.n_iterations == 1500

    result = analyse_storage(outcome.storage_path)
    exact = reference.exact_dg_kT()
    error = result.dg_kT - exact
    assert exact == pytest.approx(1.5 * np.log(2.0))
    assert 0.0 < result.ddg_kT < 0.02
    assert abs(error) < 3.0 * result.ddg_kT, (result.dg_kT, result.ddg_kT, exact)
    assert abs(error) < 0.05
    assert result.min_neighbour_overlap > 0.3
    assert result.n_uncorrelated_samples > 500
    # The full-data ends of the convergence series are the estimate itself.
    assert result.forward_dg_kT[-1] == pytest.approx(result.dg_kT)
    assert result.reverse_dg_kT[-1] == pytest.approx(result.dg_kT)
    if method == "replica-exchange":
        assert np.nanmin(result.acceptance_matrix[0, 1:]) > 0.3
        assert result.transition_matrix[0, 1] > 0.1
    else:
        assert np.allclose(result.transition_matrix, np.eye(3))
