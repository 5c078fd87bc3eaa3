"""Sampling until precise: a leg stops at the first checkpoint where MBAR is precise enough, or at its maximum."""

from __future__ import annotations

from pathlib import Path

import pytest

from fepflow.engine.checkpoint import read_sidecar
from fepflow.engine.config import SamplerConfig
from fepflow.engine.platforms import PlatformChoice, choose_platform
from fepflow.engine.reference import HarmonicReference, harmonic_oscillator_states
from fepflow.engine.sampling import run_multistate
from fepflow.protocols.common.settings import SimulationSettings
from fepflow.protocols.common.simulate import precision_check

TEMPERATURE_K = 300.0


@pytest.fixture(scope="module")
def reference() -> HarmonicReference:
    return harmonic_oscillator_states([1000.0, 1400.0, 2000.0], n_particles=1, temperature_K=TEMPERATURE_K)


@pytest.fixture(scope="module")
def platform() -> PlatformChoice:
    return choose_platform("Reference")


def _config(maximum: int) -> SamplerConfig:
    return SamplerConfig(
        timestep_fs=10.0,
        collision_rate_per_ps=100.0,  # each iteration's sample nearly independent of the last
        steps_per_iteration=10,
        production_iterations=maximum,
        checkpoint_interval_iterations=10,
    )


def _check(target: float, minimum: int):  # type: ignore[no-untyped-def]
    settings = SimulationSettings(
        target_error_kcal_mol=target, min_production_iterations=minimum, production_iterations=200
    )
    return precision_check(settings, TEMPERATURE_K)


def test_stops_early_once_precise_and_remembers_why(tmp_path: Path, reference, platform) -> None:  # type: ignore[no-untyped-def]
    storage = tmp_path / "leg.nc"
    out = run_multistate(
        reference.states, reference.positions, storage, _config(200), platform, stop_check=_check(0.1, 20)
    )
    assert out.stop_reason == "precision"
    assert 20 <= out.n_iterations < 200 and out.n_iterations % 10 == 0  # at a checkpoint, after the minimum
    assert "MBAR error" in out.stop_detail and "agree" in out.stop_detail
    assert out.stopping() == {
        "stop_reason": "precision",
        "stop_detail": out.stop_detail,
        "stopped_at_iteration": out.n_iterations,
    }
    sidecar = read_sidecar(storage)
    assert sidecar is not None and sidecar["stopped_early_at"] == out.n_iterations and sidecar["clean"]
    again = run_multistate(
        reference.states, reference.positions, storage, _config(200), platform, stop_check=_check(0.1, 20)
    )
    assert (again.iterations_run, again.n_iterations, again.stop_reason) == (0, out.n_iterations, "precision")
    extended = run_multistate(
        reference.states, reference.positions, storage, _config(200), platform, extend_iterations=10,
        stop_check=_check(0.1, 20),
    )  # fmt: skip
    assert (extended.n_iterations, extended.stop_reason) == (out.n_iterations + 10, "extension")


def test_runs_to_the_maximum_when_the_target_cannot_be_met(tmp_path: Path, reference, platform) -> None:  # type: ignore[no-untyped-def]
    out = run_multistate(
        reference.states, reference.positions, tmp_path / "leg.nc", _config(30), platform,
        stop_check=_check(1e-6, 10),
    )  # fmt: skip
    assert (out.stop_reason, out.n_iterations, out.iterations_run) == ("maximum", 30, 30)
    assert (
        out.stop_detail.startswith("reached the maximum of 30 iterations")
        and "target 1e-06" in out.stop_detail
    )


def test_without_a_target_a_leg_runs_its_length(tmp_path: Path, reference, platform) -> None:  # type: ignore[no-untyped-def]
    assert precision_check(SimulationSettings(), TEMPERATURE_K) is None
    out = run_multistate(reference.states, reference.positions, tmp_path / "leg.nc", _config(20), platform)
    assert (out.stop_reason, out.n_iterations) == ("length", 20)


def test_a_minimum_above_the_maximum_is_capped_at_the_maximum(tmp_path: Path, reference, platform) -> None:  # type: ignore[no-untyped-def]
    settings = SimulationSettings(
        target_error_kcal_mol=10.0, min_production_iterations=500, production_iterations=20
    )
    out = run_multistate(
        reference.states, reference.positions, tmp_path / "leg.nc", _config(20), platform,
        stop_check=precision_check(settings, TEMPERATURE_K),
    )  # fmt: skip
    # the check ran at iteration 20 (its minimum capped there) rather than refusing for the minimum;
    # whether 20 samples' halves agree is chance (about one run in twenty disagrees), so either verdict
    assert out.n_iterations == 20 and out.stop_reason in ("precision", "maximum")
    assert "fewer than the minimum" not in out.stop_detail and "MBAR" in out.stop_detail
